"""Benchmark 2: the daily page's latency at 200 requests/s, against a real server.

The database served is one of:

- by default, both real data sets (every HF daily-papers file, every arXiv listing)
  imported into one SQLite file, cached under ``benchmarks/.cache/``;
- ``--prepare-postgresql SERVER_URL``: the same import into the database
  ``pw_bench_latency`` on that PostgreSQL server, kept there between runs (both: see
  :mod:`benchmarks.prepared_db`);
- ``--database-url URL``: an existing, populated database (SQLite or PostgreSQL) served
  as it is, e.g. a large one built elsewhere; the days and papers asked for are read
  from it, and nothing in it is changed.

A real ``python -m paperwire serve`` is started on a free port of 127.0.0.1, and an
open-loop load (:mod:`benchmarks._loadgen`) is driven at a fixed rate for a fixed time
against three request mixes:

- ``daily``: ``/papers/date/D`` with D drawn from the days with a feed (90%), and ``/``;
- ``api``: ``GET /api/daily_papers?date=D``, same days;
- ``paper``: ``/papers/ID`` with ID drawn from the featured papers.

Each mix is measured one request at a time (uncached, then cached: the same-run
baseline), then at the rate on a freshly started server (cold response cache) and on
another whose cache was filled first (warm); see :func:`_run_mix`. Latency is measured
from each request's scheduled send time. Goal: daily page p95 under 50 ms at 200
requests/s; when one worker misses it, everything is repeated with ``--workers 2``.
On PostgreSQL the database's own CPU time is measured too when its server runs on this
machine (the web server's figure no longer includes the queries' work).
Everything is bounded: requests time out after 10 s, each loaded run sends
``rate x duration`` requests, and one-at-a-time passes stop after 30 s.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from benchmarks import _databases
from benchmarks._common import (
    BenchmarkFailed,
    MachineWatch,
    Table,
    fmt_ms,
    percentile,
    say,
)
from benchmarks._loadgen import RunResult, Sample, run_load
from benchmarks._server import HOST, Server, serving
from benchmarks.prepared_db import prepared_database, prepared_postgresql
from paperwire.store.schema import feed_entries

NAME = "latency"
HELP = "daily page (and API, paper page) latency at 200 requests/s against a real server"

EXPECTED_DAYS = 580
GOAL_P95_MS = 50.0
SEQUENTIAL_REQUESTS = 100
REQUEST_TIMEOUT_S = 10.0
SEQUENTIAL_LIMIT_S = 30.0
PRIME_LIMIT_S = 120.0
STALL_WAIT_S = 35.0

PathPicker = Callable[[random.Random], tuple[str, str]]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per loaded run")
    parser.add_argument(
        "--workers",
        default="auto",
        help="comma-separated worker counts, or 'auto': 1, then 2 if 1 misses the goal",
    )
    parser.add_argument(
        "--mix",
        default="daily,api,paper",
        help="which request mixes to run (daily, api, paper), comma-separated",
    )
    parser.add_argument("--seed", type=int, default=20251006)
    database = parser.add_mutually_exclusive_group()
    database.add_argument(
        "--database-url",
        metavar="URL",
        help="serve this existing, populated database as it is (sqlite:///... or "
        "postgresql+psycopg://...) instead of the prepared one",
    )
    database.add_argument(
        "--prepare-postgresql",
        metavar="SERVER_URL",
        help="serve the prepared data from the database pw_bench_latency on this PostgreSQL "
        "server (postgresql+psycopg://...), importing it there first if needed",
    )
    parser.add_argument(
        "--rebuild", action="store_true", help="rebuild the prepared database first"
    )


# --- the requests -------------------------------------------------------------------------


def feed_days_and_ids(database_url: str) -> tuple[list[str], list[str]]:
    """The days with a feed (ISO dates) and the featured papers' ids, read from the
    database without changing it."""
    engine = _databases.read_only_engine(database_url)
    try:
        with engine.connect() as conn:
            days = conn.execute(select(feed_entries.c.feed_date).distinct()).scalars().all()
            ids = conn.execute(select(feed_entries.c.paper_id).distinct()).scalars().all()
    finally:
        engine.dispose()
    if not days or not ids:
        raise BenchmarkFailed("the database has no feed entries (no featured papers)")
    return sorted(day.isoformat() for day in days), sorted(ids)


def mixes(days: list[str], ids: list[str]) -> dict[str, tuple[str, PathPicker]]:
    def daily(rng: random.Random) -> tuple[str, str]:
        if rng.random() < 0.1:
            return "home /", "/"
        return "day /papers/date/D", f"/papers/date/{rng.choice(days)}"

    def api(rng: random.Random) -> tuple[str, str]:
        return "api /api/daily_papers?date=D", f"/api/daily_papers?date={rng.choice(days)}"

    def paper(rng: random.Random) -> tuple[str, str]:
        return "paper /papers/ID", f"/papers/{rng.choice(ids)}"

    return {
        "daily": ("daily page (/papers/date/D 90%, / 10%)", daily),
        "api": ("API /api/daily_papers?date=D", api),
        "paper": ("paper page /papers/ID", paper),
    }


# --- measuring ----------------------------------------------------------------------------


def _ok(sample: Sample) -> bool:
    return not sample.error and sample.status == 200


def _latencies(samples: list[Sample]) -> list[float]:
    """Sorted latencies; a failed request (error, timeout, non-200) counts as infinite."""
    return sorted(s.latency if _ok(s) else math.inf for s in samples)


def _error_kinds(samples: list[Sample]) -> dict[str, int]:
    kinds: dict[str, int] = {}
    for sample in samples:
        if not _ok(sample):
            kind = sample.error or f"HTTP {sample.status}"
            kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def _ms(seconds: float) -> str:
    return "fail" if math.isinf(seconds) else fmt_ms(seconds)


@dataclass(slots=True)
class Measured:
    mix: str
    mode: str  # "1 by 1, ..." or "N/s, ..."
    rate: float | None  # None: one at a time
    result: RunResult
    server_cpu: float  # seconds, whole process tree
    others: str  # how busy the rest of the machine was meanwhile
    database_cpu: float | None = None  # seconds, PostgreSQL's processes (None: not measured)
    pool_timeouts: int = 0  # "QueuePool limit ... reached" errors in the server's log
    contention: str = ""  # what the server's log said about the database during the run

    def rows(self, database: str, workers: int) -> list[list[object]]:
        """One row for the whole run, then one per label when the mix has several."""
        labels = sorted({s.label for s in self.result.samples})
        rows = [self._row(database, workers, self.mix, None)]
        if len(labels) > 1:
            rows.extend(
                self._row(database, workers, f"  of which {label}", label) for label in labels
            )
        return rows

    def _row(self, database: str, workers: int, name: str, label: str | None) -> list[object]:
        result = self.result
        samples = [s for s in result.samples if label is None or s.label == label]
        latencies = _latencies(samples)
        errors = sum(1 for s in samples if not _ok(s))
        elapsed = max(result.end - result.start, 1e-9)
        whole = label is None
        database_cpu = "" if self.database_cpu is None else f"{self.database_cpu / elapsed:.0%}"
        cpu = self.server_cpu + (self.database_cpu or 0.0)
        return [
            name,
            database,
            workers,
            self.mode,
            len(samples),
            errors,
            f"{(len(samples) - errors) / elapsed:.0f}" if whole else "",
            *(_ms(percentile(latencies, q)) for q in (50, 95, 99, 100)),
            f"{self.server_cpu / elapsed:.0%}" if whole else "",
            database_cpu if whole else "",
            # CPU per response means little when most requests failed
            f"{cpu * 1000 / (len(samples) - errors):.1f}"
            if whole and errors <= 0.05 * len(samples)
            else "",
            f"{result.client_cpu / elapsed:.0%}" if whole else "",
        ]

    def halves(self, modes: list[str], first: int) -> list[Measured]:
        """Split a run of ``first`` paths sent twice into its two passes.

        The server's CPU time is shared out in proportion to each pass's summed latency
        (one request at a time, the server is busy about as long as each takes).
        """
        parts = [self.result.samples[:first], self.result.samples[first:]]
        busy = [sum(s.latency for s in part) for part in parts]
        total = sum(busy) or 1.0
        out = []
        for mode, part, part_busy in zip(modes, parts, busy, strict=True):
            start = part[0].scheduled if part else self.result.start
            end = max((s.done for s in part), default=start)
            result = RunResult(
                samples=part,
                start=start,
                end=end,
                send_window=end - start,
                client_cpu=self.result.client_cpu * part_busy / total,
                connections=self.result.connections,
                timeouts=sum(1 for s in part if s.error == "timeout"),
                errors_by_kind=_error_kinds(part),
            )
            out.append(
                Measured(
                    self.mix,
                    mode,
                    None,
                    result,
                    self.server_cpu * part_busy / total,
                    self.others,
                    None if self.database_cpu is None else self.database_cpu * part_busy / total,
                )
            )
        return out

    def p95_ms(self) -> float:
        return percentile(_latencies(self.result.samples), 95) * 1000

    def errors(self) -> int:
        return sum(1 for s in self.result.samples if not _ok(s))

    def send_lag_p99_ms(self) -> float:
        lags = sorted(max(0.0, s.started - s.scheduled) for s in self.result.samples)
        return percentile(lags, 99) * 1000


@dataclass(slots=True)
class Target:
    """The database served: its URL, and how to read its server's CPU time."""

    url: str
    cpu: _databases.DatabaseCpu


def _measure(
    server: Server,
    target: Target,
    mix: str,
    mode: str,
    paths: list[tuple[str, str]],
    rate: float | None,
) -> Measured:
    cpu0, database_cpu0 = server.cpu_seconds(), target.cpu.seconds()
    with MachineWatch() as machine:
        result = run_load(
            HOST,
            server.port,
            paths,
            rate,
            timeout=REQUEST_TIMEOUT_S,
            max_seconds=SEQUENTIAL_LIMIT_S,
        )
    server_cpu = server.cpu_seconds() - cpu0
    database_cpu = target.cpu.seconds() - database_cpu0
    ours = server_cpu + database_cpu + result.client_cpu
    return Measured(
        mix,
        mode,
        rate,
        result,
        server_cpu,
        machine.others(ours),
        database_cpu if target.cpu.measured else None,
    )


def _pool_timeouts_after_stall(server: Server) -> int:
    """After timeouts, wait (bounded) for the server's log to say why, and count.

    A server whose every worker thread waits for a database connection logs SQLAlchemy's
    "QueuePool limit ... reached" once its pool timeout (30 s) ends the wait.
    """
    deadline = time.monotonic() + STALL_WAIT_S
    while time.monotonic() < deadline and "QueuePool limit" not in server.log_text():
        time.sleep(1.0)
    return server.log_text().count("QueuePool limit")


def _warm_up(server: Server, pickers: dict[str, tuple[str, PathPicker]], seed: int) -> None:
    """One request of each kind per 20 random picks: fails loudly on any non-200."""
    rng = random.Random(seed - 1)
    paths = [picker(rng) for _title, picker in pickers.values() for _ in range(20)]
    result = run_load(HOST, server.port, paths, None, timeout=REQUEST_TIMEOUT_S)
    bad = [(s.label, s.status, s.error) for s in result.samples if s.error or s.status != 200]
    if bad:
        raise BenchmarkFailed(f"warm-up requests failed: {bad[:5]}\n{server.log_tail()}")
    small = [s for s in result.samples if s.nbytes < 1000]
    if small:
        raise BenchmarkFailed(f"suspiciously small responses: {[s.label for s in small][:5]}")


def _distinct(picker: PathPicker, rng: random.Random, count: int) -> list[tuple[str, str]]:
    """``count`` picks with distinct paths (fewer if the mix has fewer)."""
    seen: dict[str, tuple[str, str]] = {}
    for _ in range(count * 50):
        label, path = picker(rng)
        seen.setdefault(path, (label, path))
        if len(seen) == count:
            break
    return list(seen.values())


def _run_mix(
    args: argparse.Namespace,
    target: Target,
    workers: int,
    key: str,
    pickers: dict[str, tuple[str, PathPicker]],
    logdir: Path,
) -> list[Measured]:
    """One mix, on two freshly started servers (so that one run cannot spill into another).

    Server A, response cache empty at start:
      1. warm-up: 20 requests that must all answer 200 (checks the server; not timed);
      2. one at a time, 100 paths not asked before: the uncached service time;
      3. the same 100 paths again: the cached service time;
      4. ``rate x duration`` requests at the rate, on a nearly cold cache.
    Server B: every distinct path of step 4 asked once, one at a time (not timed), then
      5. the very same requests as step 4 at the rate, on a warm cache.
    """
    title, picker = pickers[key]
    rng = random.Random(f"{args.seed}-{key}")
    loaded = [picker(rng) for _ in range(round(args.rate * args.duration))]
    sequential = _distinct(picker, rng, SEQUENTIAL_REQUESTS)
    rate_label = f"{args.rate:.0f}/s"
    measured: list[Measured] = []

    def step(server: Server, mode: str, paths: list[tuple[str, str]], rate: float | None) -> None:
        say(f"latency: {workers} worker(s), {key}: {len(paths)} requests, {mode} ...")
        signs_before = _databases.contention_signs(server.log_text())
        m = _measure(server, target, title, mode, paths, rate)
        if rate is not None and m.result.timeouts:
            m.pool_timeouts = _pool_timeouts_after_stall(server)
        signs = _databases.contention_signs(server.log_text()) - signs_before
        m.contention = ", ".join(f"'{sign}' {count}" for sign, count in signs.items())
        measured.append(m)
        if server.process.poll() is not None:
            raise BenchmarkFailed(f"the server died during the run:\n{server.log_tail()}")

    def one_by_one(server: Server) -> None:
        # Both passes in one call, so over one keep-alive connection and so to one worker
        # (with several, each keeps its own cache): the second pass is surely cached.
        say(f"latency: {workers} worker(s), {key}: {len(sequential)} paths one at a time, twice")
        both = _measure(server, target, title, "1 by 1", sequential + sequential, None)
        measured.extend(both.halves(["1 by 1, uncached", "1 by 1, cached"], len(sequential)))

    say(f"latency: {workers} worker(s), {key}: starting server A ...")
    with serving(target.url, workers, logdir) as server:
        _warm_up(server, {key: pickers[key]}, args.seed)
        one_by_one(server)
        step(server, f"{rate_label}, cold cache", loaded, args.rate)
    say(f"latency: {workers} worker(s), {key}: starting server B and filling its cache ...")
    with serving(target.url, workers, logdir) as server:
        _prime(server, loaded, workers)
        step(server, f"{rate_label}, warm cache", loaded, args.rate)
    return measured


def _prime(server: Server, paths: list[tuple[str, str]], workers: int) -> None:
    """Ask every distinct path once, one at a time.

    Each worker process keeps its own cache and the kernel picks which one accepts a
    connection, so with several workers each path is asked ``2 * workers`` times, each
    on a new connection: most, not surely all, of every worker's cache is filled.
    """
    distinct = list(dict.fromkeys(paths))
    repeat = 1 if workers == 1 else 2 * workers
    result = run_load(
        HOST,
        server.port,
        distinct * repeat,
        None,
        timeout=REQUEST_TIMEOUT_S,
        max_seconds=PRIME_LIMIT_S,
        keep_alive=workers == 1,
    )
    bad = sum(1 for s in result.samples if not _ok(s))
    if bad or len(result.samples) < len(distinct) * repeat:
        say(
            f"latency: filling the cache: {len(result.samples)} of {len(distinct) * repeat} "
            f"requests sent in {PRIME_LIMIT_S:.0f} s, {bad} failed"
        )


def _database_url(args: argparse.Namespace) -> str:
    """The URL of the database to serve (preparing it first when it is the prepared one)."""
    if args.database_url is not None:
        if args.rebuild:
            raise BenchmarkFailed("--rebuild rebuilds a prepared database, not --database-url")
        url: str = args.database_url
        say(f"latency: serving {_databases.backend_title(url)} database as it is")
        return url
    if args.prepare_postgresql is not None:
        return prepared_postgresql(args.prepare_postgresql, rebuild=args.rebuild)
    return _databases.sqlite_url(prepared_database(rebuild=args.rebuild))


def _meets_goal(m: Measured, rate: float) -> bool:
    elapsed = m.result.end - m.result.start
    achieved = (len(m.result.samples) - m.errors()) / elapsed
    return m.errors() == 0 and m.p95_ms() < GOAL_P95_MS and achieved >= 0.97 * rate


def run(args: argparse.Namespace) -> list[Table]:
    chosen = [m.strip() for m in args.mix.split(",") if m.strip()]
    target = Target(url := _database_url(args), _databases.DatabaseCpu(url))
    days, ids = feed_days_and_ids(url)
    if args.database_url is None and len(days) != EXPECTED_DAYS:
        raise BenchmarkFailed(f"days with a feed: expected {EXPECTED_DAYS}, found {len(days)}")
    pickers = mixes(days, ids)
    unknown = set(chosen) - set(pickers)
    if unknown:
        raise BenchmarkFailed(f"unknown mix: {', '.join(sorted(unknown))}")
    auto = args.workers == "auto"
    worker_counts = [1] if auto else [int(w) for w in args.workers.split(",")]

    table = Table(
        f"Latency on {_databases.backend_title(url)} (ms, from the scheduled send time); "
        f"open loop at {args.rate:.0f} requests/s for {args.duration:.0f} s; "
        f"goal: daily page p95 under {GOAL_P95_MS:.0f} ms",
        [
            "mix", "database", "workers", "load", "requests", "errors", "ok/s", "p50", "p95", "p99",
            "max", "server CPU", "DB CPU", "CPU ms/ok", "client CPU",
        ],
    )  # fmt: skip
    database = (
        f"database: {_databases.describe(url)}; {len(days):,} days with a feed, "
        f"{len(ids):,} featured papers"
    )
    verdicts: list[str] = []
    details: list[str] = []
    with tempfile.TemporaryDirectory(prefix="paperwire-bench-") as tmp:
        while worker_counts:
            workers = worker_counts.pop(0)
            measured: list[Measured] = []
            for key in chosen:
                measured.extend(_run_mix(args, target, workers, key, pickers, Path(tmp)))
            missed = False
            for m in measured:
                for row in m.rows(_databases.backend_title(url), workers):
                    table.add(*row)
                short = f"{workers}w {m.mix.split(' ')[0]}, {m.mode}"
                kinds = ", ".join(f"{k}: {v}" for k, v in m.result.errors_by_kind.items())
                facts = [f"others on the machine {m.others}"]
                if kinds:
                    facts.insert(0, f"errors {kinds}")
                if m.contention:
                    facts.append(f"the server's log says {m.contention}")
                if m.pool_timeouts:
                    facts.append(
                        f"STALLED: the server logged {m.pool_timeouts} SQLAlchemy 'QueuePool limit"
                        " reached' errors (every worker thread waited for a DB connection)"
                    )
                if m.rate is not None:
                    facts.append(f"connections {m.result.connections}")
                    facts.append(f"client send lag p99 {m.send_lag_p99_ms():.1f} ms")
                details.append(f"{short}: {'; '.join(facts)}")
                if m.mix.startswith("daily") and m.rate is not None:
                    met = _meets_goal(m, args.rate)
                    missed = missed or not met
                    verdicts.append(
                        f"goal {'MET' if met else 'MISSED'} with {workers} worker(s), {m.mode}: "
                        f"p95 {_ms(m.p95_ms() / 1000)} ms, {m.errors()} errors"
                    )
            if auto and missed and workers == 1:
                worker_counts.append(2)
    table.notes.extend(
        [
            database,
            *verdicts,
            "p50..max count a failed request (error, timeout after "
            f"{REQUEST_TIMEOUT_S:.0f} s, non-200) as infinitely slow: 'fail' means that",
            "  percentile is a failure; ok/s: 200 responses per second over the run",
            "1 by 1: 100 distinct paths one at a time, first uncached then again cached",
            "  (one keep-alive connection, so one worker; server CPU shared out by latency);",
            "  cold cache: the loaded run on the same, freshly started server; warm cache:",
            "  the very same requests on a second fresh server that was first asked every",
            "  distinct path once (one at a time, not timed)",
            "server CPU: the server's process tree, % of one core; DB CPU: PostgreSQL's",
            "  processes, % of one core (blank: SQLite, whose work is in the server's, or a",
            "  PostgreSQL server not on this machine); CPU ms/ok: server + DB CPU time per",
            "  200 response; client CPU: the load generator (this process), % of one core;",
            f"  the machine has {os.cpu_count()} cores; 'others': CPU used by other processes",
            "  meanwhile and hypervisor steal, in cores (the figures are only as good as",
            "  these are small)",
            *details,
        ]
    )
    return [table]
