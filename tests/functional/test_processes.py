"""Several processes on one database: ``paperwire serve --workers 2`` and two workers.

Sessions, CSRF tokens, rate limits, the page cache, the submission quota, the arXiv
request spacing and job claims must hold across processes, so every check here sends
its requests to both web processes and tells which one answered. It does so without any
header or debug route: each test connection is a kept-alive HTTP/1.1 connection, and the
process that accepted it is the one whose file descriptors hold the server side of that
TCP connection (``/proc/net/tcp`` gives the socket's inode, ``/proc/<pid>/fd`` its
owner). Connections are opened until each web process holds enough of them; every
request on a connection is then answered by that process.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, func, select, update

from arxiv_replay import ArxivReplay
from factories import PASSWORD, make_user
from paperwire.accounts import service as accounts
from paperwire.community.submissions import SUBMISSION
from paperwire.config import Settings
from paperwire.ingest.pipeline import import_records
from paperwire.jobs import queue
from paperwire.models import PaperRecord, ParsedRecord, Role, User
from paperwire.pacing import SharedSpacing
from paperwire.store import jobs as job_store
from paperwire.store.schema import feed_entries, papers, rate_limits
from paperwire.store.schema import jobs as jobs_table
from paperwire.web.auth import SESSION_COOKIE
from paperwire.web.csrf import CSRF_COOKIE

START_TIMEOUT_S = 90.0  # generous: only a broken start waits this long
CONNECTIONS_PER_PROCESS = 4
MAX_CONNECTIONS_TRIED = 400
IDLE_S = 2.0  # a connection idle longer is opened again (uvicorn closes it after 5 s)
LOGIN_LIMIT = 5  # log-ins per account and hour (PAPERWIRE_RATE_LIMIT_LOGIN)
LOGIN_ATTEMPTS = 16
QUOTA = 2  # submissions per member and day (PAPERWIRE_SUBMISSION_DAILY_QUOTA)
SUBMISSIONS = 6
ARXIV_INTERVAL_S = 0.5  # PAPERWIRE_ARXIV_REQUEST_INTERVAL_S
ARXIV_SLACK_S = 0.2  # arrivals jitter a little around the starts (more under load)
JOBS = 40
COUNT = re.compile(rb'class="count">(\d+)<')
T = TypeVar("T")


# --- a real `paperwire serve --workers 2` ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    pid: int  # the web process that answered

    def json(self) -> Any:
        return json.loads(self.body)

    def cookie(self, name: str) -> str | None:
        for header in self.headers.get_all("set-cookie") or []:
            morsel = SimpleCookie(header).get(name)
            if morsel is not None:
                return morsel.value
        return None


@dataclass(slots=True)
class Connection:
    """A kept-alive connection answered by one web process, ``pid``.

    uvicorn closes a connection idle for 5 s, and a new one may land on either process:
    a connection idle for ``IDLE_S`` is opened again until the same process accepts it.
    """

    port: int
    supervisor: int  # uvicorn's parent process
    pid: int = 0
    link: http.client.HTTPConnection | None = None
    used_at: float = 0.0

    def open(self) -> int:
        """Open a new connection; the web process that accepted it."""
        self.close()
        self.link = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        answer = self._send("GET", "/api/health", None, {})  # answered, so accepted
        assert answer.status == 200, answer.body
        assert self.link.sock is not None
        return _owner(self.port, self.supervisor, self.link.sock.getsockname()[1])

    def send(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        cookies: dict[str, str] | None = None,
        csrf: str | None = None,
    ) -> Answer:
        if time.monotonic() - self.used_at > IDLE_S:
            self._reopen()
        headers = {"Accept": "application/json"}
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        if csrf is not None:
            headers["X-CSRF-Token"] = csrf
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        return self._send(method, path, data, headers)

    def _send(self, method: str, path: str, data: bytes | None, headers: dict[str, str]) -> Answer:
        assert self.link is not None
        self.link.request(method, path, body=data, headers=headers)
        response = self.link.getresponse()
        answer = Answer(response.status, response.headers, response.read(), self.pid)
        self.used_at = time.monotonic()
        return answer

    def _reopen(self) -> None:
        for _ in range(MAX_CONNECTIONS_TRIED):
            if self.open() == self.pid:
                return
        raise AssertionError(f"process {self.pid} accepted none of the new connections")

    def close(self) -> None:
        if self.link is not None:
            self.link.close()
            self.link = None


@dataclass(slots=True)
class Server:
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    by_pid: dict[int, list[Connection]] = field(default_factory=dict)

    @property
    def pids(self) -> list[int]:
        return sorted(self.by_pid)

    def on(self, pid: int, n: int = 0) -> Connection:
        return self.by_pid[pid][n]

    def spread(self, count: int) -> list[Connection]:
        """``count`` connections, taken from both processes in turn."""
        first, second = (self.by_pid[pid] for pid in self.pids)
        mixed = [c for pair in zip(first, second, strict=True) for c in pair]
        assert count <= len(mixed)
        return mixed[:count]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (uvicorn's web processes, for its supervisor)."""
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # it ended meanwhile
            continue
        # "pid (name) state ppid ...": the name may hold spaces, so split after its ")"
        if int(stat.rpartition(")")[2].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def _socket_inode(server_port: int, client_port: int) -> int | None:
    """The inode of the server side of the connection from ``client_port``."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote, inode = fields[1], fields[2], int(fields[9])
            if (
                int(local.rsplit(":", 1)[1], 16) == server_port
                and int(remote.rsplit(":", 1)[1], 16) == client_port
                and inode
            ):
                return inode
    return None


def _owner(server_port: int, supervisor: int, client_port: int) -> int:
    """The web process holding the server side of this connection."""
    inode = _socket_inode(server_port, client_port)
    assert inode is not None, f"no server socket for client port {client_port}"
    wanted = f"socket:[{inode}]"
    for pid in _children(supervisor):
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                try:
                    if os.readlink(fd) == wanted:
                        return pid
                except FileNotFoundError:
                    continue
        except FileNotFoundError:
            continue
    raise AssertionError(f"no child of {supervisor} holds {wanted}")


def _pin_connections(server: Server) -> None:
    """Open connections until each of the two web processes holds enough of them."""
    for _ in range(MAX_CONNECTIONS_TRIED):
        connection = Connection(server.port, server.process.pid)
        connection.pid = connection.open()
        held = server.by_pid.setdefault(connection.pid, [])
        if len(held) < CONNECTIONS_PER_PROCESS:
            held.append(connection)
        else:
            connection.close()
        if len(server.by_pid) == 2 and all(
            len(held) == CONNECTIONS_PER_PROCESS for held in server.by_pid.values()
        ):
            return
    counts = {pid: len(held) for pid, held in server.by_pid.items()}
    raise AssertionError(f"the two processes never both accepted enough connections: {counts}")


def _process_env(settings: Settings, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERWIRE_")}
    env |= {
        "PAPERWIRE_ENV": "test",
        "PAPERWIRE_DATABASE_URL": settings.database_url,
        "PAPERWIRE_INDEX_DIR": str(settings.search_index_dir),
        "PAPERWIRE_SEMANTIC": "false",
        "PAPERWIRE_SYNC_SOURCES": "",
    }
    return env | {f"PAPERWIRE_{name.upper()}": value for name, value in values.items()}


@contextmanager
def serving(settings: Settings, folder: Path, **values: str) -> Iterator[Server]:
    """``paperwire serve --workers 2`` on a free port, with every test connection pinned.

    The secret key is left unset on purpose: each process must derive the same CSRF
    tokens from the development placeholder, never a per-process random one.
    """
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = _process_env(settings, base_url=url, **values)
    log = folder / "serve.log"
    command = [sys.executable, "-m", "paperwire", "serve", "--workers", "2"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(port)],
            env=env, cwd=folder, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    server = Server(port, process, log)
    try:
        _wait_for_both(server)
        _pin_connections(server)
        yield server
    finally:
        for held in server.by_pid.values():
            for connection in held:
                connection.close()
        _stop(process)


def _wait_for_both(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        assert server.process.poll() is None, server.log.read_text(errors="replace")
        # uvicorn logs this once per worker process, when its app has started
        if server.log.read_text(errors="replace").count("Application startup complete") >= 2:
            return
        time.sleep(0.1)
    log = server.log.read_text(errors="replace")
    raise AssertionError(f"no two web processes within {START_TIMEOUT_S:.0f} s:\n{log}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _all_at_once(calls: list[Callable[[], T]]) -> list[T]:
    """Run the calls in threads released together; their results in the calls' order."""
    barrier = threading.Barrier(len(calls))
    results: list[T | BaseException | None] = [None] * len(calls)

    def run(n: int) -> None:
        barrier.wait()
        try:
            results[n] = calls[n]()
        except BaseException as error:  # reported below, with the others' results
            results[n] = error

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    failed = [r for r in results if isinstance(r, BaseException) or r is None]
    assert not failed, f"requests failed: {failed!r}"
    return results  # type: ignore[return-value]


# --- data ---------------------------------------------------------------------------------


def _store_papers(engine: Engine, count: int, prefix: str) -> list[str]:
    """Recent arXiv papers (first version today), stored but featured nowhere."""
    now = datetime.now(UTC)
    ids = [f"{now:%y%m}.{prefix}{n:04d}" for n in range(count)]
    records = [
        ParsedRecord(
            paper=PaperRecord(
                id=paper_id,
                source="arxiv",
                title=f"A paper on processes {paper_id}",
                abstract="Several processes share one database.",
                authors=["Ada Lovelace"],
                categories=["cs.DC"],
                version=1,
                submitted_at=now - timedelta(hours=1),
            ),
            line=n + 1,
        )
        for n, paper_id in enumerate(ids)
    ]
    summary = import_records(engine, records)
    assert summary.errors == []
    assert summary.papers_inserted == count
    return ids


def _session(engine: Engine, user: User) -> str:
    with engine.begin() as conn:
        return accounts.start_session(conn, user, days=1)


def _csrf(connection: Connection) -> tuple[str, str]:
    """A fresh visitor's CSRF cookie and token, as the connection's process issues them."""
    answer = connection.send("GET", "/api/auth/csrf")
    cookie = answer.cookie(CSRF_COOKIE)
    assert answer.status == 200
    assert cookie is not None
    token: str = answer.json()["csrfToken"]
    return cookie, token


def _wait_for_a_fresh_window(seconds: int, margin_s: float = 20.0) -> None:
    """Fixed windows: do not start a count in the last seconds of one (it would reset)."""
    left = seconds - time.time() % seconds
    if left < margin_s:
        time.sleep(left + 0.5)


# --- the web processes --------------------------------------------------------------------


def test_sessions_csrf_rate_limits_cache_and_quotas_hold_across_web_processes(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    make_user(engine, "ada")
    make_user(engine, "victim")
    member = make_user(engine, "member")
    curator = make_user(engine, "curator", Role.CURATOR)
    paper_id = _store_papers(engine, 1, "1")[0]
    quota_papers = _store_papers(engine, SUBMISSIONS, "2")
    with (
        ArxivReplay() as arxiv,
        serving(
            settings,
            tmp_path,
            rate_limit_login=f"{LOGIN_LIMIT}/hour",
            rate_limit_login_ip="10000/minute",
            submission_daily_quota=str(QUOTA),
            arxiv_api_url=arxiv.url,
            arxiv_request_interval_s=str(ARXIV_INTERVAL_S),
        ) as server,
    ):
        one, other = server.pids
        session = _csrf_and_session_are_shared(server, one, other)
        _votes_reach_every_cached_page(server, one, other, paper_id, session)
        _login_limit_is_exact(server)
        _quota_holds_for_simultaneous_submissions(server, engine, member, quota_papers)
        _arxiv_spacing_is_shared(server, engine, curator, arxiv)


def _csrf_and_session_are_shared(server: Server, one: int, other: int) -> dict[str, str]:
    """A token issued by one process passes in the other; a session made by a log-in in
    one is honoured by the other, and a log-out in the other ends it everywhere."""
    csrf_cookie, token = _csrf(server.on(one))
    login = {"login": "ada", "password": PASSWORD}
    cookies = {CSRF_COOKIE: csrf_cookie}

    refused = server.on(other).send("POST", "/api/auth/login", body=login, cookies=cookies)
    assert refused.status == 403, refused.body  # no token: the other process does check
    forged = server.on(other).send(
        "POST", "/api/auth/login", body=login, cookies=cookies, csrf=token[:-2] + "xx"
    )
    assert forged.status == 403, forged.body

    signed_in = server.on(other).send(
        "POST", "/api/auth/login", body=login, cookies=cookies, csrf=token
    )
    assert signed_in.status == 200, signed_in.body
    session = signed_in.cookie(SESSION_COOKIE)
    assert session is not None
    signed = {CSRF_COOKIE: csrf_cookie, SESSION_COOKIE: session}
    for pid in (one, other):
        me = server.on(pid).send("GET", "/api/me", cookies=signed)
        assert (me.status, me.json()["username"]) == (200, "ada"), me.body

    out = server.on(one).send("POST", "/api/auth/logout", cookies=signed, csrf=token)
    assert out.status == 200, out.body
    for pid in (one, other):  # ended by one process: ended for the other too
        assert server.on(pid).send("GET", "/api/me", cookies=signed).status == 401

    again = server.on(one).send("POST", "/api/auth/login", body=login, cookies=cookies, csrf=token)
    assert again.status == 200, again.body
    session = again.cookie(SESSION_COOKIE)
    assert session is not None
    return {CSRF_COOKIE: csrf_cookie, SESSION_COOKIE: session, "token": token}


def _count_on_page(server: Server, pid: int, paper_id: str) -> int:
    """The upvote count on the anonymous (cached) paper page, as ``pid`` serves it."""
    page = server.on(pid).send("GET", f"/papers/{paper_id}")
    assert page.status == 200, page.body[:300]
    found = COUNT.search(page.body)
    assert found is not None, page.body[:300]
    return int(found.group(1))


def _votes_reach_every_cached_page(
    server: Server, one: int, other: int, paper_id: str, session: dict[str, str]
) -> None:
    """Both processes cache the anonymous paper page; a vote through one of them changes
    the content version in the database, so the other renders the page anew."""
    for pid in (one, other, one, other):  # the second round is answered from each cache
        assert _count_on_page(server, pid, paper_id) == 0
        api = server.on(pid).send("GET", f"/api/papers/{paper_id}")
        assert api.json()["upvotes"] == 0
    cookies = {k: v for k, v in session.items() if k != "token"}
    voted = server.on(other).send(
        "POST", f"/api/papers/{paper_id}/vote", cookies=cookies, csrf=session["token"]
    )
    assert (voted.status, voted.json()["upvotes"]) == (200, 1), voted.body
    for pid in (one, other):
        assert _count_on_page(server, pid, paper_id) == 1
        assert server.on(pid).send("GET", f"/api/papers/{paper_id}").json()["upvotes"] == 1
    withdrawn = server.on(one).send(
        "DELETE", f"/api/papers/{paper_id}/vote", cookies=cookies, csrf=session["token"]
    )
    assert (withdrawn.status, withdrawn.json()["upvotes"]) == (200, 0), withdrawn.body
    for pid in (other, one):
        assert _count_on_page(server, pid, paper_id) == 0


def _login_limit_is_exact(server: Server) -> None:
    """Log-ins to one account, all at once through both processes: exactly the limit
    pass, whichever process counted them."""
    _wait_for_a_fresh_window(3600)  # the limit is per hour
    connections = server.spread(2 * CONNECTIONS_PER_PROCESS)
    csrf_cookie, token = _csrf(connections[0])
    login = {"login": "victim", "password": PASSWORD}
    cookies = {CSRF_COOKIE: csrf_cookie}

    def attempts(connection: Connection) -> Callable[[], list[Answer]]:
        tries = LOGIN_ATTEMPTS // len(connections)
        return lambda: [
            connection.send("POST", "/api/auth/login", body=login, cookies=cookies, csrf=token)
            for _ in range(tries)
        ]

    answers = [a for each in _all_at_once([attempts(c) for c in connections]) for a in each]
    statuses = [a.status for a in answers]
    assert len(statuses) == LOGIN_ATTEMPTS
    assert {a.pid for a in answers} == set(server.pids)
    assert statuses.count(200) == LOGIN_LIMIT, statuses
    assert statuses.count(429) == LOGIN_ATTEMPTS - LOGIN_LIMIT, statuses


def _quota_holds_for_simultaneous_submissions(
    server: Server, engine: Engine, member: User, paper_ids: list[str]
) -> None:
    """A member's submissions, all at once through both processes: exactly the daily
    quota are featured, whatever the backend runs side by side."""
    _wait_for_a_fresh_window(86400)  # the quota is per day (UTC)
    connections = server.spread(SUBMISSIONS)
    csrf_cookie, token = _csrf(connections[0])
    cookies = {CSRF_COOKIE: csrf_cookie, SESSION_COOKIE: _session(engine, member)}

    def submit(connection: Connection, paper_id: str) -> Callable[[], Answer]:
        return lambda: connection.send(
            "POST", "/api/papers/submit", body={"id": paper_id}, cookies=cookies, csrf=token
        )

    answers = _all_at_once([submit(c, p) for c, p in zip(connections, paper_ids, strict=True)])
    statuses = [a.status for a in answers]
    assert {a.pid for a in answers} == set(server.pids)
    assert statuses.count(201) == QUOTA, [(a.status, a.body[:200]) for a in answers]
    assert statuses.count(429) == SUBMISSIONS - QUOTA, statuses
    with engine.connect() as conn:
        featured = conn.execute(
            select(func.count()).where(
                feed_entries.c.featured_by_user_id == member.id,
                feed_entries.c.source == SUBMISSION,
            )
        ).scalar_one()
    assert featured == QUOTA


def _arxiv_spacing_is_shared(
    server: Server, engine: Engine, curator: User, arxiv: ArxivReplay
) -> None:
    """Papers fetched from arXiv through both processes at once: the requests still
    reach arXiv one interval apart, as from one client."""
    wanted = arxiv.ids[:4]
    connections = server.spread(len(wanted))
    csrf_cookie, token = _csrf(connections[0])
    cookies = {CSRF_COOKIE: csrf_cookie, SESSION_COOKIE: _session(engine, curator)}

    def submit(connection: Connection, paper_id: str) -> Callable[[], Answer]:
        return lambda: connection.send(
            "POST", "/api/papers/submit", body={"id": paper_id}, cookies=cookies, csrf=token
        )

    answers = _all_at_once([submit(c, p) for c, p in zip(connections, wanted, strict=True)])
    assert [a.status for a in answers] == [201] * len(wanted), [a.body[:200] for a in answers]
    assert {a.pid for a in answers} == set(server.pids)
    assert sorted(r.query["id_list"][0] for r in arxiv.requests) == sorted(wanted)
    gaps = arxiv.gaps()
    assert min(gaps) >= ARXIV_INTERVAL_S - ARXIV_SLACK_S, gaps
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).where(papers.c.id.in_(wanted))).scalar_one()
    assert stored == len(wanted)


def test_shared_spacing_keeps_request_starts_an_interval_apart(engine: Engine) -> None:
    """The turns behind the arXiv spacing, taken at once by threads of two "processes"
    (two spacings, as each process has its own) on connections of their own: the starts
    recorded in the database are an interval apart, and nobody waits longer than needed."""
    interval = 0.1
    api = "https://export.arxiv.org/api/query"
    spacings = [SharedSpacing(engine, api, interval) for _ in range(2)]

    def ask(spacing: SharedSpacing) -> Callable[[], int]:
        def run() -> int:
            for _ in range(4):
                assert spacing.wait_s() == 0.0  # it waited itself; the caller sends now
            return 4

        return run

    assert sum(_all_at_once([ask(s) for s in spacings * 2])) == 16
    with engine.connect() as conn:
        rows = conn.execute(
            select(rate_limits.c.window, rate_limits.c.hits).where(
                rate_limits.c.key.startswith("pace:export.arxiv.org:")
            )
        ).all()
    starts = sorted(window * 10**6 + hits for window, hits in rows)  # microseconds
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert len(starts) == 16
    assert min(gaps) >= interval * 10**6, gaps
    assert starts[-1] - starts[0] < 2 * 16 * interval * 10**6, gaps
    before = time.monotonic()
    other_host = SharedSpacing(engine, "https://oaipmh.arxiv.org/oai", interval)
    assert other_host.wait_s() == 0.0
    assert time.monotonic() - before < interval  # a record of its own: its turn at once


# --- the workers --------------------------------------------------------------------------

DONE_LINE = re.compile(r"job (\d+) send_digests done")
STARTED = "started:"  # the worker's first log line, just before its first claim


def _wait_for_lines(logs: list[Path], text: str, timeout_s: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not all(text in log.read_text(errors="replace") for log in logs):
        assert time.monotonic() < deadline, [log.read_text(errors="replace") for log in logs]
        time.sleep(0.05)


def test_two_burst_workers_started_together_run_each_job_exactly_once(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    with engine.begin() as conn:
        ids = [queue.enqueue(conn, "send_digests", {}).id for _ in range(JOBS)]
    # a busy SQLite database is waited for, not refused, while the gate below is closed
    env = _process_env(settings, sqlite_busy_timeout_ms="120000")
    command = [sys.executable, "-m", "paperwire", "worker", "--burst", "--no-schedule"]
    logs = [tmp_path / f"worker-{n}.log" for n in (1, 2)]
    workers = []
    # The gate: a transaction that has written every job row, held until both workers are
    # up. Their first claim reads the queue and then waits to take a job (a row lock on
    # PostgreSQL, the write lock on SQLite), so the two race for every job from the first
    # one on, instead of one draining the queue before the other has even started.
    with engine.connect() as gate:
        gate.execute(update(jobs_table).values(max_attempts=jobs_table.c.max_attempts))
        for log in logs:
            with log.open("wb") as err:
                workers.append(
                    subprocess.Popen(
                        command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=err
                    )
                )
        try:
            _wait_for_lines(logs, STARTED)
            time.sleep(0.5)  # both are past their log line, waiting on the gate
        finally:
            gate.rollback()
    for worker, log in zip(workers, logs, strict=True):
        assert worker.wait(timeout=120) == 0, log.read_text(errors="replace")
    texts = [log.read_text(errors="replace") for log in logs]

    with engine.connect() as conn:
        found = [job_store.get(conn, job_id) for job_id in ids]
    done_jobs = [job for job in found if job is not None and job.status == "done"]
    assert len(done_jobs) == JOBS, found
    # attempts counts claims: each job was taken once, by one worker, and logged done once
    assert [job.attempts for job in done_jobs] == [1] * JOBS
    assert sorted(int(n) for text in texts for n in DONE_LINE.findall(text)) == ids, texts
    by_worker = [
        sum(1 for job in done_jobs if f":{worker.pid}:" in (job.locked_by or ""))
        for worker in workers
    ]
    assert sum(by_worker) == JOBS
    assert min(by_worker) > 0, f"one worker ran every job: {by_worker}"
