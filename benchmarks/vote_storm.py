"""Vote storm: many clients voting at once against a real server; counts must be exact.

A fresh database is built through the migrations (a SQLite file in a temporary folder;
with ``--database-url SERVER_URL``, a new database ``pw_bench_votes_<random>`` on that
PostgreSQL server, dropped at the end), real Hugging Face daily-papers files are
imported until 50 papers are featured, and 400 members are created through the
library. A real ``python -m paperwire serve`` (``--workers N`` processes, one by
default) is started on a free port with the vote and log-in rate limits raised through
the environment. Every member logs in over HTTP (``GET /login`` for the form's CSRF
token, then ``POST /login``), so each session is a real one.

Then 200 ``httpx.AsyncClient``\\s, each holding 2 sessions, send 20,000 vote requests in
all (``POST`` or ``DELETE /api/papers/{id}/vote``: upvote or withdraw, on random papers,
one request at a time per client, all clients at once). A client's two members are its
own, so the last answer it got for a member and paper is that vote's final state.

Checked afterwards, in the database and through the API: per paper, ``local_upvotes``
equals the number of ``votes`` rows, which equals the number of votes the clients'
answers say are standing; no duplicate rows; the API's counts agree; no 5xx. The run
fails (exit 1) on any mismatch or server error.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import Engine, func, select

from benchmarks import _databases
from benchmarks._common import (
    HF_DAILY,
    BenchmarkFailed,
    MachineWatch,
    Table,
    fmt_ms,
    percentile,
    require_data,
    say,
)
from benchmarks._server import HOST, serving
from paperwire.accounts import service as accounts
from paperwire.accounts.secrets import new_token, sign
from paperwire.config import Settings
from paperwire.ingest.pipeline import import_paths
from paperwire.models import User
from paperwire.store.db import make_engine
from paperwire.store.migrate import upgrade
from paperwire.store.schema import feed_entries, papers, votes
from paperwire.web.auth import SESSION_COOKIE
from paperwire.web.csrf import CSRF_COOKIE

NAME = "votes"
HELP = "20,000 concurrent votes from 200 clients (2 sessions each) against a real server"
DATABASE_PREFIX = "pw_bench_votes"

SECRET = "vote-storm-benchmark-secret-key"  # noqa: S105 - a throwaway server's key
PASSWORD = "storm-password-1234"  # noqa: S105 - throwaway accounts
UNLIMITED = "1000000/minute"
LOGIN_CONCURRENCY = 8  # argon2 verification is CPU-bound: more in flight only queues
_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--requests", type=int, default=20_000, help="vote requests in all")
    parser.add_argument("--clients", type=int, default=200, help="concurrent clients")
    parser.add_argument("--sessions", type=int, default=2, help="sessions (members) per client")
    parser.add_argument("--papers", type=int, default=50, help="featured papers voted on")
    parser.add_argument("--up-share", type=float, default=0.6, help="share of upvotes")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    parser.add_argument("--seed", type=int, default=20251006)
    parser.add_argument("--workers", type=int, default=1, help="web processes (serve --workers)")
    parser.add_argument(
        "--database-url",
        metavar="SERVER_URL",
        help="run on PostgreSQL: a postgresql+psycopg://... URL of a server, on which a fresh "
        "database is made (and dropped at the end); default: a SQLite file",
    )


# --- preparing ----------------------------------------------------------------------------


def _import_featured(engine: Engine, count: int) -> tuple[list[str], dict[str, int]]:
    """Import HF days in date order until ``count`` papers are featured; their ids (in
    feed order) and imported upvotes."""
    require_data(HF_DAILY)
    files = sorted(HF_DAILY.glob("*.json"))
    imported = 0
    while True:
        step = files[imported : imported + 2]
        if not step:
            raise BenchmarkFailed(f"the HF files feature fewer than {count} papers")
        summary = import_paths(engine, step)
        if summary.errors:
            raise BenchmarkFailed(f"import errors: {summary.errors[:3]}")
        imported += len(step)
        with engine.connect() as conn:
            rows = conn.execute(
                select(feed_entries.c.paper_id, papers.c.imported_upvotes)
                .join(papers, papers.c.id == feed_entries.c.paper_id)
                .order_by(feed_entries.c.feed_date, feed_entries.c.position)
            ).all()
        chosen: dict[str, int] = {}
        for paper_id, upvotes in rows:
            chosen.setdefault(paper_id, int(upvotes))
        if len(chosen) >= count:
            ids = list(chosen)[:count]
            say(f"imported {imported} HF days; voting on {len(ids)} featured papers")
            return ids, {pid: chosen[pid] for pid in ids}


def _members(engine: Engine, count: int) -> list[User]:
    with engine.begin() as conn:
        return [
            accounts.sign_up(
                conn, username=f"voter{n:03d}", email=f"voter{n:03d}@example.org", password=PASSWORD
            )
            for n in range(count)
        ]


@dataclass(slots=True)
class Session:
    user_id: int
    cookie: str  # the Cookie header: session and CSRF cookies
    csrf_token: str


async def _log_in(base: str, user: User, timeout: float) -> Session:
    """A real log-in: the form's CSRF token, then the form post; the session cookie."""
    async with httpx.AsyncClient(base_url=base, timeout=timeout) as client:
        page = await client.get("/login")
        found = _CSRF_FIELD.search(page.text)
        if page.status_code != 200 or found is None:
            raise BenchmarkFailed(f"GET /login answered {page.status_code} without a form")
        answer = await client.post(
            "/login",
            data={"login": user.username, "password": PASSWORD, "csrf_token": found[1]},
        )
        session = client.cookies.get(SESSION_COOKIE)
        if answer.status_code != 303 or not session:
            raise BenchmarkFailed(f"log-in of {user.username} answered {answer.status_code}")
        csrf_cookie = client.cookies[CSRF_COOKIE]
        return Session(
            user.id, f"{SESSION_COOKIE}={session}; {CSRF_COOKIE}={csrf_cookie}", found[1]
        )


async def _log_in_all(base: str, users: list[User], timeout: float) -> list[Session]:
    gate = asyncio.Semaphore(LOGIN_CONCURRENCY)

    async def one(user: User) -> Session:
        async with gate:
            return await _log_in(base, user, timeout)

    return list(await asyncio.gather(*(one(user) for user in users)))


def _library_sessions(engine: Engine, users: list[User]) -> list[Session]:
    """Sessions made by the library, for a server without ``/login``."""
    found = []
    with engine.begin() as conn:
        for user in users:
            token = accounts.start_session(conn, user, days=1)
            cookie = new_token()
            csrf = sign(SECRET, cookie)
            found.append(
                Session(user.id, f"{SESSION_COOKIE}={token}; {CSRF_COOKIE}={cookie}", csrf)
            )
    return found


# --- the storm ----------------------------------------------------------------------------


@dataclass(slots=True)
class Outcome:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    wrong_answers: list[str] = field(default_factory=list)  # 200s that contradict the request
    final: dict[tuple[int, str], bool] = field(default_factory=dict)  # per member and paper
    uncertain: set[tuple[int, str]] = field(default_factory=set)  # a request with no answer
    ups: int = 0


async def _client(
    base: str,
    sessions: list[Session],
    paper_ids: list[str],
    count: int,
    rng: random.Random,
    args: argparse.Namespace,
    outcome: Outcome,
    start: asyncio.Event,
) -> None:
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(base_url=base, timeout=args.timeout, limits=limits) as client:
        await start.wait()
        for _ in range(count):
            session, paper_id = rng.choice(sessions), rng.choice(paper_ids)
            up = rng.random() < args.up_share
            outcome.ups += up
            key = (session.user_id, paper_id)
            began = time.perf_counter()
            try:
                answer = await client.request(
                    "POST" if up else "DELETE",
                    f"/api/papers/{paper_id}/vote",
                    headers={"Cookie": session.cookie, "X-CSRF-Token": session.csrf_token},
                )
            except httpx.HTTPError as error:
                outcome.statuses[type(error).__name__] += 1
                outcome.uncertain.add(key)
                continue
            outcome.latencies.append(time.perf_counter() - began)
            outcome.statuses[str(answer.status_code)] += 1
            if answer.status_code != 200:
                outcome.uncertain.add(key)  # a 5xx may or may not have written
                continue
            state = answer.json()
            if state.get("paperId") != paper_id or state.get("voted") is not up:
                outcome.wrong_answers.append(f"{'up' if up else 'down'} {paper_id}: {state}")
            outcome.final[key] = bool(state.get("voted"))


async def _storm(
    base: str, sessions: list[Session], paper_ids: list[str], args: argparse.Namespace
) -> tuple[Outcome, float]:
    outcome = Outcome()
    rng = random.Random(args.seed)
    per_client, extra = divmod(args.requests, args.clients)
    start = asyncio.Event()
    tasks = [
        asyncio.create_task(
            _client(
                base,
                sessions[n * args.sessions : (n + 1) * args.sessions],
                paper_ids,
                per_client + (1 if n < extra else 0),
                random.Random(rng.random()),
                args,
                outcome,
                start,
            )
        )
        for n in range(args.clients)
    ]
    await asyncio.sleep(0.5)  # every client set up before the first request
    began = time.perf_counter()
    start.set()
    await asyncio.gather(*tasks)
    return outcome, time.perf_counter() - began


# --- checking -----------------------------------------------------------------------------


@dataclass(slots=True)
class Verdict:
    rows: int = 0
    duplicates: int = 0
    count_mismatches: list[str] = field(default_factory=list)  # local_upvotes != rows
    state_mismatches: list[str] = field(default_factory=list)  # rows != clients' answers
    api_mismatches: list[str] = field(default_factory=list)  # API upvotes != imported + rows
    uncertain: int = 0


def _verify(
    engine: Engine,
    base: str,
    paper_ids: list[str],
    imported: dict[str, int],
    outcome: Outcome,
) -> Verdict:
    verdict = Verdict()
    with engine.connect() as conn:
        stored = {(r.user_id, r.paper_id) for r in conn.execute(select(votes))}
        verdict.rows = int(conn.execute(select(func.count()).select_from(votes)).scalar_one())
        verdict.duplicates = verdict.rows - len(stored)
        local = dict(
            conn.execute(
                select(papers.c.id, papers.c.local_upvotes).where(papers.c.id.in_(paper_ids))
            ).all()
        )
    verdict.uncertain = len(outcome.uncertain)
    rows_per_paper = Counter(pid for _, pid in stored)
    for paper_id in paper_ids:
        if local[paper_id] != rows_per_paper[paper_id]:
            verdict.count_mismatches.append(
                f"{paper_id}: local_upvotes {local[paper_id]}, rows {rows_per_paper[paper_id]}"
            )
    known = {key: up for key, up in outcome.final.items() if key not in outcome.uncertain}
    for key, up in known.items():
        if up != (key in stored):
            verdict.state_mismatches.append(f"member {key[0]} on {key[1]}: answered {up}")
    for key in stored - set(outcome.final) - outcome.uncertain:
        verdict.state_mismatches.append(f"member {key[0]} on {key[1]}: a row nobody voted")
    with httpx.Client(base_url=base, timeout=30) as client:
        for paper_id in paper_ids:
            shown = client.get(f"/api/papers/{paper_id}").json()["upvotes"]
            if shown != imported[paper_id] + rows_per_paper[paper_id]:
                verdict.api_mismatches.append(
                    f"{paper_id}: API {shown}, imported {imported[paper_id]} + rows "
                    f"{rows_per_paper[paper_id]}"
                )
    return verdict


@contextmanager
def _fresh_database(args: argparse.Namespace, folder: Path) -> Iterator[str]:
    """The URL of a new, empty database: a SQLite file in ``folder``, or a database of
    its own on the PostgreSQL server of ``--database-url`` (dropped on exit)."""
    if args.database_url is None:
        yield _databases.sqlite_url(folder / "votes.db")
        return
    _databases.require_postgresql(args.database_url, "--database-url")
    with _databases.scratch_database(args.database_url, DATABASE_PREFIX) as url:
        say(f"votes: created the database {_databases.database_name(url)}")
        yield url


@dataclass(slots=True)
class Storm:
    """What the run measured and what the server said, for the table."""

    outcome: Outcome
    verdict: Verdict
    seconds: float
    login_mode: str
    server_cpu: float
    database_cpu: float | None  # None: not measured (SQLite, or a server elsewhere)
    others: str
    log: str
    database: str  # the backend and its settings, in words


def run(args: argparse.Namespace) -> list[Table]:
    if args.workers < 1:
        raise BenchmarkFailed("--workers must be at least 1")
    with (
        tempfile.TemporaryDirectory(prefix="pw-votes-") as tmp,
        _fresh_database(args, Path(tmp)) as url,
    ):
        settings = Settings(env="test", database_url=url, secret_key=SECRET)
        engine = make_engine(settings)
        try:
            storm = _prepare_and_storm(args, engine, url, Path(tmp))
        finally:
            engine.dispose()
    return [_report(args, url, storm)]


def _prepare_and_storm(args: argparse.Namespace, engine: Engine, url: str, tmp: Path) -> Storm:
    members = args.clients * args.sessions
    upgrade(engine)
    paper_ids, imported = _import_featured(engine, args.papers)
    say(f"creating {members} members through the library (argon2id hashes)")
    users = _members(engine, members)
    database_cpu = _databases.DatabaseCpu(url)
    env = {
        "PAPERWIRE_SECRET_KEY": SECRET,
        "PAPERWIRE_SEMANTIC": "false",
        "PAPERWIRE_RATE_LIMIT_VOTE": UNLIMITED,
        "PAPERWIRE_RATE_LIMIT_VOTE_IP": UNLIMITED,
        "PAPERWIRE_RATE_LIMIT_LOGIN": UNLIMITED,
        "PAPERWIRE_RATE_LIMIT_LOGIN_IP": UNLIMITED,
    }
    with serving(url, args.workers, tmp, env) as server:
        base = f"http://{HOST}:{server.port}"
        login_started = time.perf_counter()
        if httpx.get(f"{base}/login", timeout=10).status_code == 200:
            say(f"logging {members} members in over HTTP (POST /login)")
            sessions = asyncio.run(_log_in_all(base, users, args.timeout))
            login_mode = f"POST /login over HTTP ({time.perf_counter() - login_started:.1f} s)"
        else:
            say("no /login on this server: sessions made by the library instead")
            sessions = _library_sessions(engine, users)
            login_mode = "library sessions (accounts.service.start_session): no /login yet"
        say(f"storm: {args.requests} vote requests from {args.clients} clients")
        cpu_before, database_cpu_before = server.cpu_seconds(), database_cpu.seconds()
        with MachineWatch() as machine:
            outcome, seconds = asyncio.run(_storm(base, sessions, paper_ids, args))
        server_cpu = server.cpu_seconds() - cpu_before
        database_seconds = database_cpu.seconds() - database_cpu_before
        verdict = _verify(engine, base, paper_ids, imported, outcome)
        log = server.log_text()
    return Storm(
        outcome=outcome,
        verdict=verdict,
        seconds=seconds,
        login_mode=login_mode,
        server_cpu=server_cpu,
        database_cpu=database_seconds if database_cpu.measured else None,
        others=machine.others(server_cpu + database_seconds),
        log=log,
        database=_databases.describe(url),
    )


def _report(args: argparse.Namespace, url: str, storm: Storm) -> Table:
    """The table; fails the run on any server error, wrong answer or wrong count."""
    outcome, verdict, seconds, log = storm.outcome, storm.verdict, storm.seconds, storm.log
    latencies = sorted(outcome.latencies)
    server_errors = sum(n for status, n in outcome.statuses.items() if status.startswith("5"))
    other = sum(n for status, n in outcome.statuses.items() if status != "200") - server_errors
    mismatches = (
        len(verdict.count_mismatches) + len(verdict.state_mismatches) + len(verdict.api_mismatches)
    )
    processes = "one web process" if args.workers == 1 else f"{args.workers} web processes"
    table = Table(
        f"Vote storm on {_databases.backend_title(url)}: {args.clients} clients x "
        f"{args.sessions} sessions, {args.papers} papers, {processes}",
        ["database", "workers", "requests", "seconds", "req/s", "p50 ms", "p95 ms", "p99 ms",
         "max ms", "5xx", "other errors", "mismatches", "duplicate rows"],
    )  # fmt: skip
    table.add(
        _databases.backend_title(url),
        args.workers,
        args.requests,
        seconds,
        args.requests / seconds,
        fmt_ms(percentile(latencies, 50)),
        fmt_ms(percentile(latencies, 95)),
        fmt_ms(percentile(latencies, 99)),
        fmt_ms(latencies[-1]) if latencies else "n/a",
        server_errors,
        other,
        mismatches,
        verdict.duplicates,
    )
    database_cpu = (
        "not measured (SQLite: in the server's processes)"
        if storm.database_cpu is None
        else f"{storm.database_cpu:.1f} s ({storm.database_cpu / seconds:.2f} cores)"
    )
    contention = dict(_databases.contention_signs(log))
    table.notes += [
        f"database: {storm.database}",
        f"sessions: {storm.login_mode}",
        f"answers: {dict(sorted(outcome.statuses.items()))}; {outcome.ups} upvotes, "
        f"{args.requests - outcome.ups} withdrawals requested",
        f"final: {verdict.rows} vote rows; per paper local_upvotes == rows == the clients' "
        f"answers ({len(outcome.final)} member/paper pairs, {verdict.uncertain} uncertain), "
        "API upvotes == imported + rows",
        f"server CPU {storm.server_cpu:.1f} s ({storm.server_cpu / seconds:.2f} cores); "
        f"database CPU {database_cpu}; other processes {storm.others} (the clients run in "
        "this process)",
        f"contention in the server log: {contention or 'none'}",
    ]
    problems = [
        *verdict.count_mismatches,
        *verdict.state_mismatches,
        *verdict.api_mismatches,
        *outcome.wrong_answers,
    ]
    if server_errors or problems or verdict.duplicates:
        raise BenchmarkFailed(
            table.render()
            + "\n"
            + "\n".join(problems[:20] or ["server errors (5xx)"])
            + "\n"
            + _first_traceback(log)
        )
    return table


def _first_traceback(log: str) -> str:
    """Where the server's first error came from: its traceback's own frames and errors."""
    lines = log.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("Traceback")), None)
    if start is None:
        return "(no traceback in the server log)"
    shown = []
    for i in range(start, min(len(lines), start + 400)):
        line = lines[i]
        if "/paperwire/" in line and "File " in line:
            shown.append(line.strip() + " | " + lines[i + 1].strip() if i + 1 < len(lines) else "")
        elif line and not line[0].isspace() and "Error" in line:
            shown.append(line)
        if i > start and line.startswith("INFO"):
            break
    return "\n".join(shown[-30:])
