"""Benchmark: sync throughput (papers/s) from local replays of real arXiv answers.

Two sources, each served by the test suite's replay server on 127.0.0.1 (the same real
payloads the tests use) with paperwire's rate limit off (interval 0), into a fresh
SQLite database built by the migrations for every run:

1. OAI-PMH: a full harvest of the 387-record ``ListRecords`` page, split into pages of
   several sizes (``harvest``: fetch, parse, import and commit each page with its
   cursor), then the incremental harvest that follows (the records of the last day,
   all unchanged).
2. Atom API: a category sync over the 10 real entries (``sync_arxiv``), with several
   page sizes.

Each run is repeated (``--repeats``) and the medians are shown: these are runs of
tenths of a second.

For each, a second pass only fetches and parses the same pages (no database), so the
table splits the time: fetch (HTTP to the local replay), parse, and the rest, which is
storing (upserts, search queues, the cursor and the commit). Counts are checked: a
harvest that does not store exactly the replay's records fails the run.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from benchmarks._common import (
    DATA_DIR,
    PROJECT_ROOT,
    BenchmarkFailed,
    Table,
    require_data,
    say,
)

NAME = "sync"
HELP = "sync throughput (papers/s) from replays of real arXiv OAI-PMH and Atom answers"

FORMATS = DATA_DIR / "arxiv-formats"
ALL_TIME = timedelta(weeks=2000)  # the Atom sample's entries date from 2002 to 2018
# Every category of the Atom sample's 10 entries (primary or cross-list).
ATOM_CATEGORIES = [
    "cs.DB",
    "cs.LO",
    "physics.ed-ph",
    "physics.hist-ph",
    "physics.soc-ph",
    "quant-ph",
    "stat.ME",
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--oai-page-sizes",
        default="25,100,400",
        help="records per OAI-PMH page, comma-separated (default: 25,100,400)",
    )
    parser.add_argument(
        "--atom-page-sizes",
        default="2,10",
        help="entries per Atom API page, comma-separated (default: 2,10)",
    )
    parser.add_argument("--repeats", type=int, default=5, help="runs per page size")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="folder for the scratch databases (default: a temporary folder, removed after)",
    )


def _replays() -> tuple[Any, Any]:
    """``tests/oai_replay.py`` and ``tests/arxiv_replay.py``, shared with the tests."""
    tests = str(PROJECT_ROOT / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    import arxiv_replay
    import oai_replay

    return oai_replay, arxiv_replay


@dataclass(slots=True)
class Run:
    pages: int
    records: int
    inserted: int
    seconds: float
    fetch: float = 0.0
    parse: float = 0.0

    @property
    def store(self) -> float:
        return max(0.0, self.seconds - self.fetch - self.parse)


class Databases:
    """A migrated empty database, copied fresh for every run."""

    def __init__(self, folder: Path) -> None:
        from paperwire.config import Settings
        from paperwire.store import migrate
        from paperwire.store.db import make_engine

        self.folder = folder
        self.template = folder / "template.db"
        engine = make_engine(Settings(database_url=f"sqlite:///{self.template}"))
        try:
            migrate.upgrade(engine)
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            engine.dispose()
        self.count = 0

    def fresh(self) -> Path:
        self.count += 1
        path = self.folder / f"run-{self.count}.db"
        shutil.copyfile(self.template, path)
        return path


def _context(database: Path, **settings: object) -> Any:
    from paperwire.config import Settings
    from paperwire.context import build_context

    values: dict[str, object] = {
        "database_url": f"sqlite:///{database}",
        "semantic": False,
        "arxiv_request_interval_s": 0.0,  # rate limit off: the replay is local
        **settings,
    }
    return build_context(Settings(**values))  # type: ignore[arg-type]


def _timed(work: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, float]:
    began = time.perf_counter()
    result = work(*args, **kwargs)
    return result, time.perf_counter() - began


def _oai_fetch_parse(url: str, from_: date | None) -> tuple[float, float, int]:
    """Fetch and parse a whole harvest without storing: (fetch s, parse s, pages)."""
    from paperwire.ingest.arxiv_oai import parse_oai_page
    from paperwire.sync.oai_client import OaiClient

    client = OaiClient(url, agent="paperwire-benchmark", interval_s=0.0)
    fetch = parse = 0.0
    pages = 0
    token: str | None = None
    try:
        while True:
            if token:
                body, seconds = _timed(client.resume, token)
            else:
                body, seconds = _timed(client.list_records, set_spec="", from_=from_, until=None)
            fetch += seconds
            page, seconds = _timed(parse_oai_page, body, "page")
            parse += seconds
            pages += 1
            token = page.resumption_token
            if not token:
                return fetch, parse, pages
    finally:
        client.close()


def _oai_once(dbs: Databases, url: str, expected: int) -> tuple[Run, Run, date]:
    """A full harvest into a fresh database, then the incremental one that follows."""
    from paperwire.store import sync_state
    from paperwire.sync.oai import harvest

    context = _context(dbs.fresh(), arxiv_oai_url=url)
    try:
        first, seconds = _timed(harvest, context, set_spec="")
        with context.engine.connect() as conn:
            cursor = sync_state.get_source(conn, "oai").cursor or {}
        since = date.fromisoformat(cursor["harvested"][""])
        again, seconds_again = _timed(harvest, context, set_spec="")
    finally:
        context.close()
    if first.inserted != expected or first.skipped:
        raise BenchmarkFailed(
            f"OAI harvest stored {first.inserted} of {expected} records ({first.skipped} skipped)"
        )
    if again.inserted or again.updated:
        raise BenchmarkFailed("a second harvest changed papers")
    full = Run(first.pages, first.fetched, first.inserted, seconds)
    full.fetch, full.parse, _ = _oai_fetch_parse(url, None)
    later = Run(again.pages, again.fetched, again.inserted, seconds_again)
    later.fetch, later.parse, _ = _oai_fetch_parse(url, since)
    return full, later, since


def _oai_runs(dbs: Databases, page_sizes: list[int], repeats: int) -> Table:
    oai_replay, _ = _replays()
    table = Table(
        "Sync: OAI-PMH harvest of 387 real arXivRaw records (local replay, no rate limit; "
        f"medians of {repeats} runs)",
        ["run", "pages", "records", "new", "seconds", "papers/s", "fetch s", "parse s", "store s"],
    )
    for size in page_sizes:
        with oai_replay.OaiReplay(page_size=size) as replay:
            say(f"sync: OAI-PMH harvest, pages of {size}, {repeats} runs ...")
            runs = [_oai_once(dbs, replay.url, len(replay.records)) for _ in range(repeats)]
        since = runs[0][2]
        _row(table, f"pages of {size}", _median([full for full, _, _ in runs]))
        _row(table, f"pages of {size}, again (from {since})", _median([r for _, r, _ in runs]))
    table.notes.extend(
        [
            "each harvest commits every page with its resumption token (one transaction);",
            "'again': the incremental re-harvest that follows (from the repository's date",
            "  when the first began: the records stamped that day), all unchanged",
            "fetch s and parse s come from a second pass over the same pages without a",
            "  database; store s = seconds - fetch - parse (upserts, queues, cursor, commit);",
            "  each column is its own median",
        ]
    )
    return table


def _median(runs: list[Run]) -> Run:
    """Each timing's median over the runs (the counts are the same in every run)."""
    first = runs[0]
    return Run(
        first.pages,
        first.records,
        first.inserted,
        statistics.median(r.seconds for r in runs),
        statistics.median(r.fetch for r in runs),
        statistics.median(r.parse for r in runs),
    )


def _atom_fetch_parse(url: str, page_size: int) -> tuple[float, float]:
    from paperwire.ingest.arxiv_api import PoliteHttp
    from paperwire.ingest.arxiv_atom import parse_atom_feed

    http = PoliteHttp("arXiv API", agent="paperwire-benchmark", accept="*/*", interval_s=0.0)
    fetch = parse = 0.0
    start = 0
    try:
        while True:
            params = {
                "search_query": " OR ".join(f"cat:{c}" for c in sorted(ATOM_CATEGORIES)),
                "sortBy": "lastUpdatedDate",
                "sortOrder": "descending",
                "start": start,
                "max_results": page_size,
            }
            body, seconds = _timed(http.get, url, params)
            fetch += seconds
            page, seconds = _timed(parse_atom_feed, body, "page")
            parse += seconds
            start += len(page.records)
            if len(page.records) < page_size or start >= (page.total_results or 0):
                return fetch, parse
    finally:
        http.close()


def _atom_runs(dbs: Databases, page_sizes: list[int], repeats: int) -> Table:
    from paperwire.sync.arxiv import sync_arxiv

    _, arxiv_replay = _replays()
    table = Table(
        f"Sync: arXiv Atom API by category, 10 real entries (local replay, no rate limit; "
        f"medians of {repeats} runs)",
        ["run", "pages", "records", "new", "seconds", "papers/s", "fetch s", "parse s", "store s"],
    )
    with arxiv_replay.ArxivReplay() as replay:
        for size in page_sizes:
            say(f"sync: Atom API, pages of {size}, {repeats} runs ...")
            runs: list[Run] = []
            for _ in range(repeats):
                context = _context(dbs.fresh(), arxiv_api_url=replay.url)
                try:
                    report, seconds = _timed(
                        sync_arxiv,
                        context,
                        categories=ATOM_CATEGORIES,
                        since=ALL_TIME,
                        page_size=size,
                    )
                finally:
                    context.close()
                if report.inserted != len(replay.ids):
                    raise BenchmarkFailed(
                        f"Atom sync stored {report.inserted} of {len(replay.ids)} entries"
                    )
                run = Run(report.pages, report.fetched, report.inserted, seconds)
                run.fetch, run.parse = _atom_fetch_parse(replay.url, size)
                runs.append(run)
            _row(table, f"pages of {size}", _median(runs))
    table.notes.append(
        "10 papers per run: the figures show the per-page cost more than a steady rate"
    )
    return table


def _row(table: Table, label: str, run: Run) -> None:
    table.add(
        label,
        run.pages,
        run.records,
        run.inserted,
        run.seconds,
        run.records / run.seconds if run.seconds else 0.0,
        run.fetch,
        run.parse,
        run.store,
    )


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as error:
        raise BenchmarkFailed(f"page sizes must be numbers: {text!r}") from error
    if not sizes or min(sizes) < 1:
        raise BenchmarkFailed(f"page sizes must be at least 1: {text!r}")
    return sizes


def run(args: argparse.Namespace) -> list[Table]:
    require_data(FORMATS)
    with tempfile.TemporaryDirectory(prefix="paperwire-bench-", dir=args.workdir) as tmp:
        dbs = Databases(Path(tmp))
        return [
            _oai_runs(dbs, _sizes(args.oai_page_sizes), max(1, args.repeats)),
            _atom_runs(dbs, _sizes(args.atom_page_sizes), max(1, args.repeats)),
        ]
