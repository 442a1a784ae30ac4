"""The arXiv Atom API sync by category, against a local server replaying real entries.

The replay holds 10 real entries updated between 2002 and 2018, so most tests look back
far enough (``ALL``) to reach them; the look-back rules are tested on their own.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from arxiv_replay import ATOM_SAMPLE, ArxivReplay, replay_settings
from databases import database_environment
from paperwire import __version__
from paperwire.config import Settings
from paperwire.context import Context, build_context
from paperwire.errors import UserError
from paperwire.ingest.arxiv_atom import parse_atom_feed
from paperwire.models import ParsedRecord
from paperwire.store import sync_state
from paperwire.store.papers import count_papers, get_paper
from paperwire.store.schema import papers
from paperwire.sync.arxiv import sync_arxiv
from paperwire.sync.report import SyncError
from paperwire.sync.runner import run_sync

ALL = timedelta(weeks=1500)  # back to 1997: every entry of the sample
CATEGORIES = ["stat.ME", "cs.LO", "cs.DB"]
INTERVAL = 0.2
SLACK = 0.02  # arrival times jitter a little around the client's send times


def sample_papers() -> list[ParsedRecord]:
    page = parse_atom_feed(ATOM_SAMPLE.read_bytes(), str(ATOM_SAMPLE))
    return [r for r in page.records if isinstance(r, ParsedRecord)]


def in_categories(categories: list[str]) -> list[ParsedRecord]:
    """The sample's papers listing one of ``categories``, newest update first."""
    chosen = [r for r in sample_papers() if set(r.paper.categories) & set(categories)]
    return sorted(chosen, key=lambda r: r.paper.updated_at or datetime.min, reverse=True)


def stored_ids(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(select(papers.c.id)).scalars())


@pytest.fixture
def arxiv() -> Iterator[ArxivReplay]:
    with ArxivReplay() as server:
        yield server


@pytest.fixture
def context(settings: Settings, arxiv: ArxivReplay) -> Iterator[Context]:
    context = build_context(replay_settings(settings, arxiv))
    yield context
    context.close()


def test_sync_imports_the_papers_of_the_categories_newest_first(
    context: Context, arxiv: ArxivReplay
) -> None:
    expected = in_categories(CATEGORIES)
    assert len(expected) == 6  # 3 stat.ME, 2 cs.LO, 1 cs.DB (+cs.CY)
    report = sync_arxiv(context, categories=CATEGORIES, since=ALL, page_size=2)

    assert stored_ids(context.engine) == {r.paper.id for r in expected}
    assert (report.pages, report.fetched, report.inserted, report.skipped) == (3, 6, 6, 0)
    assert report.note == "reached the end of the results"
    starts = [r.query["start"] for r in arxiv.requests]
    assert starts == [["0"], ["2"], ["4"]]
    for request in arxiv.requests:
        assert request.query["search_query"] == ["cat:cs.DB OR cat:cs.LO OR cat:stat.ME"]
        assert request.query["sortBy"] == ["lastUpdatedDate"]
        assert request.query["sortOrder"] == ["descending"]
        assert request.query["max_results"] == ["2"]
        assert request.headers["user-agent"].startswith(f"paperwire/{__version__} (+")
    assert len({r.port for r in arxiv.requests}) == 1  # one connection for the whole run
    with context.engine.connect() as conn:
        paper = get_paper(conn, "1501.05039")
        cursor = sync_state.get_source(conn, "arxiv").cursor
    assert paper is not None
    assert paper.title == "Defining Data Science"
    assert paper.categories == ["cs.DB", "cs.CY"]
    assert cursor is not None
    assert cursor["categories"] == sorted(CATEGORIES)
    assert cursor["run"] is None
    newest = expected[0].paper.updated_at
    assert newest is not None
    assert datetime.fromisoformat(cursor["newest_updated"]) == newest


def test_a_second_run_stops_at_the_first_page_that_brings_nothing_new(
    context: Context, arxiv: ArxivReplay
) -> None:
    sync_arxiv(context, categories=CATEGORIES, since=ALL, page_size=2)
    first = len(arxiv.requests)
    again = sync_arxiv(context, categories=CATEGORIES, since=ALL, page_size=2)
    assert len(arxiv.requests) == first + 1
    assert (again.pages, again.inserted, again.updated, again.unchanged) == (1, 0, 0, 2)
    assert again.note == "stopped: a page brought nothing new"


def test_without_since_it_looks_back_to_the_cursor_or_the_configured_days(
    settings: Settings, arxiv: ArxivReplay
) -> None:
    # A first run looks back sync_arxiv_since_days (at most a year): the sample's
    # entries are older, so it reads one page and stores nothing.
    context = build_context(replay_settings(settings, arxiv, sync_arxiv_since_days=365))
    try:
        first = sync_arxiv(context, categories=CATEGORIES, page_size=2)
        assert (first.pages, first.fetched, first.inserted) == (1, 2, 0)
        assert first.note.startswith("reached the look-back")
        assert stored_ids(context.engine) == set()

        sync_arxiv(context, categories=CATEGORIES, since=ALL, page_size=2)
        # Then a run without --since looks back to the newest update the last run saw:
        # the newest entry (stored, unchanged) and then an older one end it.
        later = sync_arxiv(context, categories=CATEGORIES, page_size=2)
        assert (later.pages, later.inserted, later.unchanged) == (1, 0, 1)
        assert later.note.startswith("reached the look-back (2018-02-07 22:21")
    finally:
        context.close()


def test_a_newer_version_replaces_the_stored_metadata(context: Context, arxiv: ArxivReplay) -> None:
    sync_arxiv(context, categories=CATEGORIES, since=ALL, page_size=2)
    arxiv.revise("0705.1367", 2, "Proof systems, revised", "2025-11-20T09:30:00Z")
    report = sync_arxiv(context, categories=CATEGORIES, page_size=2)
    # page 1: the revision and the newest known paper; page 2 reaches the look-back
    assert (report.pages, report.updated, report.inserted) == (2, 1, 0)
    with context.engine.connect() as conn:
        paper = get_paper(conn, "0705.1367")
        cursor = sync_state.get_source(conn, "arxiv").cursor
    assert paper is not None
    assert (paper.title, paper.version) == ("Proof systems, revised", 2)
    assert cursor is not None
    assert cursor["newest_updated"] == "2025-11-20T09:30:00+00:00"


def test_503s_are_retried_with_backoff_then_the_sync_succeeds(
    context: Context, arxiv: ArxivReplay
) -> None:
    arxiv.fail_next(2)
    report = sync_arxiv(context, categories=CATEGORIES, since=ALL, page_size=3)
    assert report.inserted == 6
    assert len(arxiv.requests) == report.pages + 2
    gaps = arxiv.gaps()
    # Exponential: waits of 1x then 2x the backoff (the 0.05 s interval). Each gap also
    # holds the fixed cost of a request (a database step of the shared spacing, more
    # under load), so compare differences, which that cost cancels out of.
    backoff = 0.05
    assert gaps[0] >= backoff - SLACK
    assert gaps[1] - gaps[0] >= backoff - SLACK


def test_timeouts_and_an_empty_page_are_retried(settings: Settings, arxiv: ArxivReplay) -> None:
    context = build_context(replay_settings(settings, arxiv, arxiv_timeout_s=0.5))
    try:
        arxiv.slow_next(1, 3.0)  # past the 0.5 s timeout: asked again
        first = sync_arxiv(context, categories=["stat.ME"], since=ALL, page_size=2)
        assert first.inserted == 3
        assert len(arxiv.requests) == first.pages + 1
        arxiv.empty_next(1)  # arXiv's quirk: no entries, although its total says 3
        before = len(arxiv.requests)
        second = sync_arxiv(context, categories=["cs.LO", "cs.DB"], since=ALL, page_size=2)
        assert second.inserted == 3
        assert len(arxiv.requests) - before == second.pages + 1
    finally:
        context.close()


def test_a_persistent_failure_is_a_sync_error_and_loses_nothing(
    context: Context, arxiv: ArxivReplay
) -> None:
    def fail_after_the_first_page() -> None:
        arxiv.fail_next(100)

    with pytest.raises(
        SyncError, match=r"page 2 \(start=2\): The arXiv API \(http://[^)]+\) answered HTTP 503"
    ):
        run_sync(
            context,
            "arxiv",
            lambda: sync_arxiv(
                context,
                categories=CATEGORIES,
                since=ALL,
                page_size=2,
                heartbeat=fail_after_the_first_page,
            ),
        )
    newest_two = {r.paper.id for r in in_categories(CATEGORIES)[:2]}
    assert stored_ids(context.engine) == newest_two  # the first page stays
    with context.engine.connect() as conn:
        state = sync_state.get_source(conn, "arxiv")
    assert state.last_status == "error"
    assert state.last_error is not None
    assert "answered HTTP 503 (3 tries)" in state.last_error
    assert state.cursor is not None
    assert state.cursor["run"]["next_start"] == 2

    # The next run goes past the first page (unchanged: it was stored) to the rest.
    arxiv.fail_next(0)
    report = run_sync(
        context, "arxiv", lambda: sync_arxiv(context, categories=CATEGORIES, page_size=2)
    )
    assert stored_ids(context.engine) == {r.paper.id for r in in_categories(CATEGORIES)}
    assert (report.pages, report.unchanged, report.inserted) == (3, 2, 4)
    with context.engine.connect() as conn:
        state = sync_state.get_source(conn, "arxiv")
    assert (state.last_status, state.last_error) == ("ok", None)
    assert state.cursor is not None
    assert state.cursor["run"] is None


def test_garbage_is_a_sync_error(context: Context, arxiv: ArxivReplay) -> None:
    arxiv.malformed_next(1)
    with pytest.raises(SyncError, match="not an Atom feed"):
        sync_arxiv(context, categories=CATEGORIES, since=ALL)
    with context.engine.connect() as conn:
        assert count_papers(conn) == 0


def test_categories_are_checked(context: Context, arxiv: ArxivReplay) -> None:
    with pytest.raises(UserError, match=r"not an arXiv category: 'cs\.CL OR all'"):
        sync_arxiv(context, categories=["cs.CL OR all"])
    with pytest.raises(UserError, match="no arXiv categories"):
        sync_arxiv(context, categories=[" "])
    assert arxiv.requests == []


def test_requests_are_spaced_by_the_configured_interval(
    settings: Settings, arxiv: ArxivReplay
) -> None:
    context = build_context(replay_settings(settings, arxiv, arxiv_request_interval_s=INTERVAL))
    try:
        report = sync_arxiv(context, categories=CATEGORIES, since=ALL, page_size=1)
    finally:
        context.close()
    assert report.pages == 6
    gaps = arxiv.gaps()
    assert len(gaps) == 5
    assert min(gaps) >= INTERVAL - SLACK, gaps
    assert sum(gaps) < 5 * INTERVAL + 1.0  # and no slower than it needs to be


def _cli(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "paperwire", *args],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            **database_environment(settings),
            "PAPERWIRE_ARXIV_REQUEST_INTERVAL_S": "0.05",
            "PAPERWIRE_ARXIV_RETRIES": "1",
            **env,
        },
        timeout=120,
        check=False,
    )


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_cli_syncs_and_reports(settings: Settings, arxiv: ArxivReplay) -> None:
    done = _cli(
        settings,
        *("sync", "arxiv", "--category", "cs.LO", "--category", "stat.ME", "--since", "1500w"),
        PAPERWIRE_ARXIV_API_URL=arxiv.url,
    )
    assert done.returncode == 0, done.stderr
    assert "arxiv: 1 pages, 5 records: 5 new, 0 updated, 0 unchanged" in done.stdout
    assert arxiv.requests[0].query["search_query"] == ["cat:cs.LO OR cat:stat.ME"]

    url = f"http://127.0.0.1:{_closed_port()}/api/query"
    down = _cli(settings, "sync", "arxiv", "--since", "2d", PAPERWIRE_ARXIV_API_URL=url)
    assert down.returncode == 1
    assert f"Error: arxiv: arXiv API, page 1 (start=0): The arXiv API ({url}) could not be" in (
        down.stderr
    )
    engine = build_context(settings)
    try:
        with engine.engine.connect() as conn:
            state = sync_state.get_source(conn, "arxiv")
            assert count_papers(conn) == 5
    finally:
        engine.close()
    assert state.last_status == "error"
    assert state.last_error is not None
    assert "could not be reached" in state.last_error
