"""The OAI-PMH harvest, against a local server replaying the real 387-record page."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from email.utils import format_datetime

import pytest
from sqlalchemy import Engine, select

from databases import database_environment
from oai_replay import OaiReplay, oai_settings
from paperwire import __version__
from paperwire.config import Settings
from paperwire.context import Context, build_context
from paperwire.store import sync_state
from paperwire.store.papers import get_paper
from paperwire.store.schema import papers
from paperwire.sync.oai import harvest
from paperwire.sync.report import SyncError
from paperwire.sync.runner import run_sync

PAGE = 50  # 387 records: 8 pages
PAGES = 8
SLACK = 0.02


class Interrupted(Exception):
    """Stands for a process killed right after a page was committed."""


def stored_ids(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(papers.c.id)).scalars())


def cursor(engine: Engine) -> dict[str, object]:
    with engine.connect() as conn:
        value = sync_state.get_source(conn, "oai").cursor
    assert value is not None
    return value


def first_requests(oai: OaiReplay) -> int:
    """Requests that started a harvest (rather than following a token)."""
    return sum(1 for r in oai.requests if "metadataPrefix" in r.query)


def after_pages(count: int, action: Callable[[], None]) -> Callable[[], None]:
    """A heartbeat that runs ``action()`` once, at its ``count``-th call: after the
    ``count``-th committed page when no retry waited before (waits call it too)."""
    seen = 0

    def heartbeat() -> None:
        nonlocal seen
        seen += 1
        if seen == count:
            action()

    return heartbeat


def interrupt() -> None:
    raise Interrupted


@pytest.fixture
def oai() -> Iterator[OaiReplay]:
    with OaiReplay(page_size=PAGE) as server:
        yield server


@pytest.fixture
def context(settings: Settings, oai: OaiReplay) -> Iterator[Context]:
    context = build_context(oai_settings(settings, oai))
    yield context
    context.close()


def test_a_full_harvest_follows_the_tokens_to_exactly_the_387_records(
    context: Context, oai: OaiReplay
) -> None:
    report = harvest(context, set_spec="")
    assert len(oai.records) == 387
    assert stored_ids(context.engine) == sorted(r.paper_id for r in oai.records)
    assert (report.pages, report.fetched, report.inserted, report.skipped) == (PAGES, 387, 387, 0)
    first, *rest = oai.requests
    assert first.query == {"verb": ["ListRecords"], "metadataPrefix": ["arXivRaw"]}
    assert [r.query.keys() for r in rest] == [{"verb", "resumptionToken"}] * (PAGES - 1)
    assert first.headers["user-agent"].startswith(f"paperwire/{__version__} (+")
    assert len({r.port for r in oai.requests}) == 1  # one connection
    state = cursor(context.engine)
    assert state["finished"] is True
    assert state["token"] is None
    assert (state["pages"], state["records"], state["complete_list_size"]) == (PAGES, 387, 387)
    with context.engine.connect() as conn:
        paper = get_paper(conn, "0803.4354")
    assert paper is not None
    assert paper.version == 6  # arXivRaw lists every version; the latest is kept
    assert paper.title.startswith("A O(n^8) X O(n^7) Linear Programming Model")


def test_set_from_and_until_select_what_the_repository_holds(
    context: Context, oai: OaiReplay
) -> None:
    report = harvest(context, set_spec="cs", from_=date(2016, 10, 21), until=date(2016, 10, 21))
    expected = oai.expected_ids("cs", date(2016, 10, 21), date(2016, 10, 21))
    assert 0 < len(expected) < len(oai.expected_ids("cs"))
    assert stored_ids(context.engine) == sorted(expected)
    assert report.inserted == len(expected)
    assert oai.requests[0].query == {
        "verb": ["ListRecords"],
        "metadataPrefix": ["arXivRaw"],
        "set": ["cs"],
        "from": ["2016-10-21"],
        "until": ["2016-10-21"],
    }


def test_an_interrupted_harvest_resumes_from_its_last_committed_token(
    context: Context, oai: OaiReplay
) -> None:
    with pytest.raises(Interrupted):
        harvest(context, set_spec="", heartbeat=after_pages(3, interrupt))
    assert len(stored_ids(context.engine)) == 3 * PAGE
    state = cursor(context.engine)
    assert (state["pages"], state["finished"]) == (3, False)

    report = harvest(context, set_spec="")
    assert oai.tokens_requested()[2] == state["token"]  # the resumed run's first request
    assert report.note == "resumed after page 3"
    assert (report.pages, report.inserted, report.unchanged) == (PAGES - 3, 387 - 150, 0)
    assert stored_ids(context.engine) == sorted(r.paper_id for r in oai.records)
    assert oai.pages_served() == PAGES  # no page fetched twice
    assert first_requests(oai) == 1
    tokens = oai.tokens_requested()
    assert len(tokens) == len(set(tokens)) == PAGES - 1
    assert cursor(context.engine)["finished"] is True


def test_killed_after_every_page_it_still_completes_without_loss_or_duplicates(
    context: Context, oai: OaiReplay
) -> None:
    runs = 0
    while not cursor_finished(context.engine):
        runs += 1
        with pytest.raises(Interrupted):
            harvest(context, set_spec="", heartbeat=after_pages(1, interrupt))
        assert runs <= PAGES
    assert runs == PAGES
    assert stored_ids(context.engine) == sorted(r.paper_id for r in oai.records)
    assert oai.pages_served() == PAGES
    assert first_requests(oai) == 1


def cursor_finished(engine: Engine) -> bool:
    with engine.connect() as conn:
        value = sync_state.get_source(conn, "oai").cursor
    return bool(value and value.get("finished"))


def test_other_arguments_start_a_new_harvest(context: Context, oai: OaiReplay) -> None:
    with pytest.raises(Interrupted):
        harvest(context, set_spec="", heartbeat=after_pages(2, interrupt))
    report = harvest(context, set_spec="cs")
    assert first_requests(oai) == 2
    assert oai.requests[-report.pages].query["set"] == ["cs"]
    assert report.fetched == len(oai.expected_ids("cs"))
    assert cursor(context.engine)["request"] == {"set": "cs", "from": None, "until": None}


def test_a_finished_set_is_harvested_incrementally_from_the_repository_date(
    context: Context, oai: OaiReplay
) -> None:
    harvest(context, set_spec="")
    again = harvest(context, set_spec="")
    # The repository said 2016-10-21 when the first harvest began: from that day on.
    assert oai.requests[-again.pages].query["from"] == ["2016-10-21"]
    assert again.fetched == len(oai.expected_ids(from_=date(2016, 10, 21)))
    assert (again.inserted, again.updated) == (0, 0)


def test_503_with_retry_after_in_seconds_is_honoured(context: Context, oai: OaiReplay) -> None:
    report = harvest(
        context,
        set_spec="",
        heartbeat=after_pages(1, lambda: oai.fail_next(1, 503, "1")),
    )
    assert report.inserted == 387
    refused, retried = oai.requests[1], oai.requests[2]
    assert refused.query == retried.query  # the same page asked again
    assert retried.at - refused.at >= 1.0 - SLACK
    assert retried.at - refused.at < 2.0  # not the exponential backoff on top


def test_503_with_retry_after_as_an_http_date_is_honoured(context: Context, oai: OaiReplay) -> None:
    def refuse() -> None:
        when = datetime.now().astimezone() + timedelta(seconds=2)
        oai.fail_next(1, 503, format_datetime(when, usegmt=False))

    harvest(context, set_spec="", heartbeat=after_pages(1, refuse))
    refused, retried = oai.requests[1], oai.requests[2]
    # HTTP dates are whole seconds: the wait is between 1 and 2 s.
    assert 1.0 - SLACK <= retried.at - refused.at < 2.5


def test_a_retry_after_beyond_the_cap_stops_at_once_and_keeps_the_position(
    context: Context, oai: OaiReplay
) -> None:
    began = time.monotonic()
    with pytest.raises(SyncError, match=r"asked to wait 3600 s .* \(page 2; the 1 page"):
        harvest(
            context,
            set_spec="",
            heartbeat=after_pages(1, lambda: oai.fail_next(1, 503, "3600")),
        )
    assert time.monotonic() - began < 5
    assert len(oai.requests) == 2
    assert cursor(context.engine)["pages"] == 1
    assert len(stored_ids(context.engine)) == PAGE


def test_5xx_and_timeouts_are_retried(settings: Settings, oai: OaiReplay) -> None:
    context = build_context(oai_settings(settings, oai, arxiv_timeout_s=0.5))
    try:

        def misbehave() -> None:
            oai.fail_next(1, 502)  # then, once retried,
            oai.slow_next(1, 3.0)  # an answer past the 0.5 s timeout

        report = harvest(context, set_spec="", heartbeat=after_pages(1, misbehave))
    finally:
        context.close()
    assert report.inserted == 387
    assert len(oai.requests) == PAGES + 2
    assert oai.requests[1].query == oai.requests[2].query == oai.requests[3].query
    assert oai.pages_served() == PAGES


def test_a_malformed_page_is_named_and_the_cursor_stays_at_the_last_good_page(
    context: Context, oai: OaiReplay
) -> None:
    with pytest.raises(SyncError, match=r"answered page 3 with something that is not XML"):
        harvest(
            context,
            set_spec="",
            heartbeat=after_pages(2, lambda: oai.malformed_next(1)),
        )
    state = cursor(context.engine)
    assert (state["pages"], state["records"], state["finished"]) == (2, 2 * PAGE, False)
    assert state["token"] == oai.tokens_requested()[-1]  # page 3's token, still to be read
    assert len(stored_ids(context.engine)) == 2 * PAGE

    report = harvest(context, set_spec="")
    assert report.pages == PAGES - 2
    assert len(stored_ids(context.engine)) == 387


def test_an_expired_token_tells_the_operator_to_start_over(
    context: Context, oai: OaiReplay
) -> None:
    with pytest.raises(Interrupted):
        harvest(context, set_spec="", heartbeat=after_pages(2, interrupt))
    oai.expire_tokens()
    with pytest.raises(
        SyncError, match=r"refused the resumption token of page 3 .*run the harvest"
    ):
        harvest(context, set_spec="")
    assert cursor(context.engine)["token"] is None
    assert len(stored_ids(context.engine)) == 2 * PAGE  # what was stored stays

    report = harvest(context, set_spec="")  # starts over
    assert first_requests(oai) == 2
    assert (report.pages, report.inserted, report.unchanged) == (PAGES, 387 - 100, 100)


def test_no_records_match_is_a_harvest_of_nothing(context: Context, oai: OaiReplay) -> None:
    report = harvest(context, set_spec="cs", from_=date(2016, 10, 22))
    assert (report.pages, report.fetched, report.inserted) == (1, 0, 0)
    assert report.note == "no records match"
    assert cursor(context.engine)["finished"] is True


def test_a_bad_argument_is_a_sync_error(context: Context, oai: OaiReplay) -> None:
    with pytest.raises(SyncError, match="badArgument: The from date is later than the until"):
        harvest(context, set_spec="cs", from_=date(2016, 10, 21), until=date(2016, 10, 20))


def test_requests_are_spaced_by_the_configured_interval(settings: Settings, oai: OaiReplay) -> None:
    interval = 0.2
    context = build_context(oai_settings(settings, oai, arxiv_request_interval_s=interval))
    try:
        harvest(context, set_spec="")
    finally:
        context.close()
    gaps = oai.gaps()
    assert len(gaps) == PAGES - 1
    assert min(gaps) >= interval - SLACK, gaps


def test_an_unreachable_repository_is_recorded_as_the_source_error(
    settings: Settings,
) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/oai"
    context = build_context(
        settings.model_copy(
            update={"arxiv_oai_url": url, "arxiv_retries": 1, "arxiv_request_interval_s": 0.05}
        )
    )
    try:
        with pytest.raises(
            SyncError,
            match=r"arXiv OAI-PMH \(http://[^)]+\) could not be reached .*\(2 tries\)",
        ):
            run_sync(context, "oai", lambda: harvest(context, set_spec="cs"))
        with context.engine.connect() as conn:
            state = sync_state.get_source(conn, "oai")
    finally:
        context.close()
    assert state.last_status == "error"
    assert state.last_error is not None
    assert "could not be reached" in state.last_error


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cli(settings: Settings, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "paperwire", *args],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            **database_environment(settings),
            "PAPERWIRE_ARXIV_OAI_URL": url,
            "PAPERWIRE_ARXIV_REQUEST_INTERVAL_S": "0.05",
            "PAPERWIRE_ARXIV_RETRIES": "1",
        },
        timeout=120,
        check=False,
    )


def test_the_cli_harvests_and_reports(settings: Settings) -> None:
    with OaiReplay(page_size=20) as oai:
        done = _cli(settings, oai.url, "sync", "oai", "--set", "cs", "--from", "2016-10-20")
        expected = len(oai.expected_ids("cs", date(2016, 10, 20)))
    assert done.returncode == 0, done.stderr
    pages = -(-expected // 20)
    assert f"oai: {pages} pages, {expected} records: {expected} new, 0 updated" in done.stdout

    down = _cli(settings, f"http://127.0.0.1:{_closed_port()}/oai", "sync", "oai", "--set", "cs")
    assert down.returncode == 1
    assert re.search(
        r"Error: oai: arXiv OAI-PMH \(http://[^)]+\) could not be reached", down.stderr
    )
