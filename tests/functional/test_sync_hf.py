"""Hugging Face daily sync against a local server replaying the real recorded days."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from databases import NewDatabase, database_environment
from hf_replay import HF_DIR, HfReplay, hf_replay_settings, recorded_body
from paperwire.config import Settings
from paperwire.context import build_context
from paperwire.errors import UserError
from paperwire.ingest.links import normalize_url
from paperwire.ingest.pipeline import import_paths
from paperwire.models import LinkKind
from paperwire.store import sync_state
from paperwire.store.db import make_engine
from paperwire.store.migrate import upgrade
from paperwire.store.schema import feed_entries, links, organizations, papers
from paperwire.sync.hf import sync_hf
from paperwire.sync.report import SyncError, SyncReport
from paperwire.sync.runner import run_sync

LIST_DAY = "2026-08-21"  # a list of items, every one with an organization, many links
REPR_DAY = "2024-12-11"  # a list of Python-repr strings
OBJECT_DAY = "2025-01-10"  # {"status", "date", "count", "data": [...]}
LINKS_DAY = "2025-10-07"


@pytest.fixture
def hf() -> Iterator[HfReplay]:
    with HfReplay() as server:
        yield server


def _settings(settings: Settings, hf: HfReplay, **overrides: object) -> Settings:
    return hf_replay_settings(settings, hf, **overrides)


def _sync(settings: Settings, day: str | None = None, heartbeat: Any = None) -> SyncReport:
    context = build_context(settings)
    try:
        args: dict[str, Any] = {"day": date.fromisoformat(day) if day else None}
        if heartbeat is not None:
            args["heartbeat"] = heartbeat
        return run_sync(context, "hf", lambda: sync_hf(context, **args))
    finally:
        context.close()


def recorded_items(day: str) -> list[dict[str, Any]]:
    """The recorded day's items, read straight from the file (any of its three shapes)."""
    document = json.loads(recorded_body(HF_DIR / f"{day}.json"))
    if isinstance(document, dict):
        document = document["data"]
    return [ast.literal_eval(item) if isinstance(item, str) else item for item in document]


def feed_rows(engine: Engine, day: str | None = None) -> dict[str, dict[str, Any]]:
    query = select(
        feed_entries.c.paper_id,
        feed_entries.c.feed_date,
        feed_entries.c.position,
        feed_entries.c.upvotes,
        feed_entries.c.num_comments,
        feed_entries.c.submitted_by,
        feed_entries.c.submitted_by_name,
        organizations.c.slug.label("organization"),
    ).select_from(feed_entries.outerjoin(organizations))
    if day is not None:
        query = query.where(feed_entries.c.feed_date == date.fromisoformat(day))
    with engine.connect() as conn:
        return {row["paper_id"]: dict(row) for row in conn.execute(query).mappings()}


def stated_links(engine: Engine) -> set[tuple[str, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(links.c.paper_id, links.c.kind, links.c.url).where(links.c.origin == "source")
        )
        return {(r.paper_id, r.kind, r.url) for r in rows}


def cursor(engine: Engine) -> dict[str, Any] | None:
    with engine.connect() as conn:
        return sync_state.get_source(conn, "hf").cursor


def _org(item: dict[str, Any]) -> str | None:
    org = item.get("organization") or item["paper"].get("organization")
    return org["name"] if org else None


def _today() -> date:
    return datetime.now(UTC).date()


# --- a real day ------------------------------------------------------------------------


@pytest.mark.parametrize("day", [LIST_DAY, REPR_DAY, OBJECT_DAY])
def test_sync_features_exactly_the_recorded_days_papers(
    settings: Settings, engine: Engine, hf: HfReplay, day: str
) -> None:
    report = _sync(_settings(settings, hf), day)

    items = recorded_items(day)
    rows = feed_rows(engine)
    assert set(rows) == {item["paper"]["id"] for item in items}  # that day's, no others
    assert {row["feed_date"] for row in rows.values()} == {date.fromisoformat(day)}
    for position, item in enumerate(items):
        row = rows[item["paper"]["id"]]
        assert row["upvotes"] == item["paper"]["upvotes"]
        assert row["num_comments"] == item["numComments"]
        assert row["position"] == position
        assert row["organization"] == _org(item)
        submitter = item.get("submittedBy") or {}
        assert row["submitted_by"] == (
            submitter.get("name") or item["paper"].get("submittedOnDailyBy", {}).get("user")
        )
    expected_links = {
        (item["paper"]["id"], kind.value, normalize_url(kind, item["paper"].get(field)))
        for item in items
        for kind, field in ((LinkKind.CODE, "githubRepo"), (LinkKind.PROJECT, "projectPage"))
        if normalize_url(kind, item["paper"].get(field))
    }
    assert stated_links(engine) == expected_links
    assert report.pages == 1
    assert report.fetched == len(items)
    assert report.inserted == len(items)
    assert report.featured == len(items)
    assert report.skipped == 0
    assert cursor(engine) == {"day": day}
    (request,) = hf.requests
    assert request.path == "/api/daily_papers"
    assert request.day == day
    assert request.headers["user-agent"].startswith("paperwire/")


def test_a_synced_day_is_stored_as_the_importer_stores_its_file(
    settings: Settings, engine: Engine, hf: HfReplay, new_database: NewDatabase
) -> None:
    _sync(_settings(settings, hf), LINKS_DAY)

    imported = make_engine(new_database())
    upgrade(imported)
    import_paths(imported, [HF_DIR / f"{LINKS_DAY}.json"])
    assert feed_rows(engine) == feed_rows(imported)
    assert stated_links(engine) == stated_links(imported)
    with engine.connect() as a, imported.connect() as b:
        query = select(papers.c.id, papers.c.title, papers.c.abstract, papers.c.imported_upvotes)
        assert set(a.execute(query)) == set(b.execute(query))
    imported.dispose()
    assert any(kind == "code" for _, kind, _ in stated_links(engine))


def test_sync_through_the_cli(settings: Settings, engine: Engine, hf: HfReplay) -> None:
    env = {
        **os.environ,
        **database_environment(settings),
        "PAPERWIRE_HF_API_URL": hf.url,
        "PAPERWIRE_HF_REQUEST_INTERVAL_S": "0",
    }
    result = subprocess.run(
        [sys.executable, "-m", "paperwire", "sync", "hf", "--date", LIST_DAY],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    count = len(recorded_items(LIST_DAY))
    assert f"hf: 1 pages, {count} records: {count} new" in result.stdout
    assert len(feed_rows(engine, LIST_DAY)) == count


# --- repeated syncs --------------------------------------------------------------------


def test_resync_is_idempotent(settings: Settings, engine: Engine, hf: HfReplay) -> None:
    synced = _settings(settings, hf)
    _sync(synced, LIST_DAY)
    before = feed_rows(engine), stated_links(engine)

    again = _sync(synced, LIST_DAY)

    assert (feed_rows(engine), stated_links(engine)) == before
    assert again.inserted == again.updated == again.featured == 0
    assert again.unchanged == len(recorded_items(LIST_DAY))
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(papers)).scalar_one() == len(before[0])


def test_a_later_sync_raises_upvotes_and_never_lowers_them(
    settings: Settings, engine: Engine, hf: HfReplay
) -> None:
    synced = _settings(settings, hf)
    _sync(synced, LIST_DAY)
    items = recorded_items(LIST_DAY)
    raised, lowered = items[0]["paper"]["id"], items[1]["paper"]["id"]
    later = json.loads(hf.body(LIST_DAY))
    later[0]["paper"]["upvotes"] += 25
    later[0]["numComments"] += 3
    later[1]["paper"]["upvotes"] = 0  # an odd snapshot must not erase votes
    hf.serve(LIST_DAY, json.dumps(later).encode())

    report = _sync(synced, LIST_DAY)

    rows = feed_rows(engine)
    assert rows[raised]["upvotes"] == items[0]["paper"]["upvotes"] + 25
    assert rows[raised]["num_comments"] == items[0]["numComments"] + 3
    assert rows[lowered]["upvotes"] == items[1]["paper"]["upvotes"]
    assert report.featured == 1
    with engine.connect() as conn:
        shown = conn.execute(select(papers.c.imported_upvotes).where(papers.c.id == raised))
        assert shown.scalar_one() == items[0]["paper"]["upvotes"] + 25


# --- faults ----------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "retry_after"), [(503, None), (500, None), (429, "0.3")])
def test_transient_errors_are_retried_with_backoff(
    settings: Settings, engine: Engine, hf: HfReplay, status: int, retry_after: str | None
) -> None:
    hf.fail_next(2, status, retry_after)

    report = _sync(_settings(settings, hf, hf_request_interval_s=0.1), LIST_DAY)

    assert report.inserted == len(recorded_items(LIST_DAY))
    assert len(hf.requests) == 3
    first_wait, second_wait = hf.gaps()
    # backoff doubles from the interval (0.1 s, 0.2 s); Retry-After is honoured when longer
    assert first_wait >= (0.3 if retry_after else 0.1) * 0.9
    assert second_wait >= (0.3 if retry_after else 0.2) * 0.9


def test_a_timeout_is_retried(settings: Settings, engine: Engine, hf: HfReplay) -> None:
    hf.slow_next(1, 10.0)

    report = _sync(_settings(settings, hf, arxiv_timeout_s=0.5), LIST_DAY)

    assert report.inserted == len(recorded_items(LIST_DAY))
    assert len(hf.requests) == 2


def test_a_source_that_keeps_failing_is_a_sync_error_naming_it_and_its_url(
    settings: Settings, engine: Engine, hf: HfReplay
) -> None:
    hf.fail_next(10, 502)

    with pytest.raises(SyncError) as raised:
        _sync(_settings(settings, hf), LIST_DAY)

    message = str(raised.value)
    assert "Hugging Face" in message
    assert f"{hf.url}/api/daily_papers?date={LIST_DAY}" in message
    assert "HTTP 502" in message
    assert "3 tries" in message
    assert len(hf.requests) == 3  # bounded: arxiv_retries=2
    with engine.connect() as conn:
        state = sync_state.get_source(conn, "hf")
    assert state.last_status == "error"
    assert state.last_error == message
    assert feed_rows(engine) == {}
    assert state.cursor is None


def test_a_client_error_is_not_retried(settings: Settings, engine: Engine, hf: HfReplay) -> None:
    hf.fail_next(1, 404)
    with pytest.raises(SyncError, match="refused the request \\(HTTP 404\\)"):
        _sync(_settings(settings, hf), LIST_DAY)
    assert len(hf.requests) == 1


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (None, "not JSON"),  # the real day cut off mid-way
        (b"<html><body>Service temporarily unavailable</body></html>", "not JSON"),
        (b'{"error": "Invalid date"}', "a JSON dict, not a list of papers"),
        (b"null", "a JSON null"),
    ],
)
def test_a_malformed_body_is_a_sync_error_and_loses_nothing(
    settings: Settings, engine: Engine, hf: HfReplay, body: bytes | None, problem: str
) -> None:
    synced = _settings(settings, hf)
    _sync(synced, LIST_DAY)
    before = feed_rows(engine), stated_links(engine), cursor(engine)
    later = json.loads(hf.body(LIST_DAY))
    later[0]["paper"]["upvotes"] += 100
    hf.serve(LIST_DAY, json.dumps(later, indent=2).encode())
    if body is None:
        hf.malformed_next(1)
    else:
        hf.serve(LIST_DAY, body)

    with pytest.raises(SyncError, match=problem) as raised:
        _sync(synced, LIST_DAY)

    assert "nothing was stored" in str(raised.value)
    assert (feed_rows(engine), stated_links(engine), cursor(engine)) == before


def test_unreadable_items_are_reported_and_the_rest_stored(
    settings: Settings, engine: Engine, hf: HfReplay
) -> None:
    items = json.loads(hf.body(LIST_DAY))
    del items[2]["paper"]["id"]
    items[5]["paper"]["id"] = "not an arxiv id"
    hf.serve(LIST_DAY, json.dumps(items, indent=2).encode())

    report = _sync(_settings(settings, hf), LIST_DAY)

    assert report.skipped == 2
    assert len(report.errors) == 2
    assert all(error.startswith(f"{LIST_DAY} line ") for error in report.errors)
    assert len(feed_rows(engine)) == len(items) - 2
    assert cursor(engine) == {"day": LIST_DAY}


# --- which days a run reads ------------------------------------------------------------


def test_without_a_day_it_syncs_today(settings: Settings, engine: Engine, hf: HfReplay) -> None:
    today = _today().isoformat()
    hf.serve(today, hf.body(LIST_DAY))

    report = _sync(_settings(settings, hf))

    assert [r.day for r in hf.requests] == [today]
    assert set(feed_rows(engine, today)) == {i["paper"]["id"] for i in recorded_items(LIST_DAY)}
    assert report.featured == len(recorded_items(LIST_DAY))
    assert cursor(engine) == {"day": today}


def test_missed_days_are_caught_up(settings: Settings, engine: Engine, hf: HfReplay) -> None:
    today = _today()
    last = today - timedelta(days=3)
    with engine.begin() as conn:
        sync_state.save_cursor(conn, "hf", {"day": last.isoformat()})
    served = {  # the server was down for two days: their lists are there now
        today - timedelta(days=2): LIST_DAY,
        today - timedelta(days=1): LINKS_DAY,
        today: OBJECT_DAY,
    }
    for day, recorded in served.items():
        hf.serve(day.isoformat(), hf.body(recorded))
    beats: list[int] = []

    report = _sync(_settings(settings, hf), heartbeat=lambda: beats.append(1))

    wanted = [(last + timedelta(days=n)).isoformat() for n in range(4)]
    assert [r.day for r in hf.requests] == wanted  # the cursor's day again, then the missed
    for day, recorded in served.items():
        ids = {item["paper"]["id"] for item in recorded_items(recorded)}
        assert set(feed_rows(engine, day.isoformat())) == ids
    assert report.pages == 4
    assert len(beats) == 4  # one heartbeat per committed day
    assert cursor(engine) == {"day": today.isoformat()}


def test_catching_up_looks_back_at_most_a_week(
    settings: Settings, engine: Engine, hf: HfReplay
) -> None:
    today = _today()
    with engine.begin() as conn:
        sync_state.save_cursor(conn, "hf", {"day": (today - timedelta(days=40)).isoformat()})

    _sync(_settings(settings, hf))

    assert [r.day for r in hf.requests] == [
        (today - timedelta(days=n)).isoformat() for n in range(7, -1, -1)
    ]


def test_an_explicit_day_never_moves_the_cursor_back(
    settings: Settings, engine: Engine, hf: HfReplay
) -> None:
    synced = _settings(settings, hf)
    _sync(synced, LIST_DAY)
    _sync(synced, REPR_DAY)  # an older day, e.g. a backfill

    assert cursor(engine) == {"day": LIST_DAY}
    assert len(feed_rows(engine, REPR_DAY)) == len(recorded_items(REPR_DAY))


def test_a_failure_midway_keeps_the_days_before_it(
    settings: Settings, engine: Engine, hf: HfReplay
) -> None:
    today = _today()
    last = today - timedelta(days=2)
    with engine.begin() as conn:
        sync_state.save_cursor(conn, "hf", {"day": last.isoformat()})
    hf.serve((today - timedelta(days=1)).isoformat(), hf.body(LIST_DAY))
    hf.serve(today.isoformat(), b"garbage")

    with pytest.raises(SyncError, match="not JSON"):
        _sync(_settings(settings, hf))

    assert len(feed_rows(engine, (today - timedelta(days=1)).isoformat())) == len(
        recorded_items(LIST_DAY)
    )
    assert cursor(engine) == {"day": (today - timedelta(days=1)).isoformat()}
    hf.serve(today.isoformat(), b"[]")  # the server recovers: the next run finishes
    _sync(_settings(settings, hf))
    assert cursor(engine) == {"day": today.isoformat()}


def test_a_day_in_the_future_is_refused(settings: Settings, engine: Engine, hf: HfReplay) -> None:
    with pytest.raises(UserError, match="in the future"):
        _sync(_settings(settings, hf), (_today() + timedelta(days=5)).isoformat())
    assert hf.requests == []
    with engine.connect() as conn:
        assert sync_state.get_source(conn, "hf").last_status == "error"
