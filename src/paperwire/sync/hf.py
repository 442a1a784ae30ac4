"""Hugging Face daily-papers sync: feature each day's list with its upvotes and links.

One request per day (``GET /api/daily_papers?date=YYYY-MM-DD``), parsed by
:func:`paperwire.ingest.hf_daily.parse_hf_daily` and stored by the import pipeline, so a
synced day looks exactly like an imported file of the archive: papers upserted, featured
on that day with their upvotes, submitter and organization, links stored, search queues
fed. Re-syncing a day changes nothing unless Hugging Face's numbers grew (upvotes and
comment counts only ever rise).

The cursor (``sync_sources.cursor = {"day": "YYYY-MM-DD"}``) is the newest day read.
Without an explicit day a run reads from the cursor's day through today (UTC), at most
:data:`MAX_CATCH_UP_DAYS` back: the days missed while the server was down, and the
cursor's own day again, because the list of the day of the last run was still growing
(and its upvotes still rising) when it was read.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from paperwire.clock import utcnow
from paperwire.context import Context
from paperwire.errors import UserError
from paperwire.ingest.hf_daily import parse_hf_daily
from paperwire.ingest.pipeline import write_records
from paperwire.models import ParsedRecord, RecordError
from paperwire.store import sync_state
from paperwire.sync.hf_client import SOURCE_LABEL, HfClient
from paperwire.sync.report import Heartbeat, SyncError, SyncReport, no_heartbeat

SOURCE = "hf"
MAX_CATCH_UP_DAYS = 7
# Hugging Face dates its lists in UTC; a day ahead of UTC is still "today" somewhere.
MAX_DAYS_AHEAD = 1


def sync_hf(
    context: Context, *, day: date | None = None, heartbeat: Heartbeat = no_heartbeat
) -> SyncReport:
    """Sync ``day``'s list, or (no day) today's and the days missed since the last run."""
    today = utcnow().date()
    with context.engine.connect() as conn:
        last = cursor_day(sync_state.get_source(conn, SOURCE).cursor)
    days = days_to_sync(today, last, day)
    report = SyncReport(source=SOURCE)
    settings = context.settings
    spacing = context.shared_spacing(settings.hf_api_url, settings.hf_request_interval_s)
    with HfClient.from_settings(settings, spacing) as client:
        for each in days:
            url = client.url_for(each)
            records = read_day(client.daily_papers(each, waiting=heartbeat), url, each)
            _store_day(context, each, records, report, advance=each <= today)
            heartbeat()
    if len(days) > 1:
        report.note = f"read {days[0].isoformat()} to {days[-1].isoformat()}"
    return report


def cursor_day(cursor: dict[str, Any] | None) -> date | None:
    """The newest day read, from a stored cursor (``None``: never synced, or unreadable)."""
    value = (cursor or {}).get("day")
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def days_to_sync(today: date, last: date | None, day: date | None) -> list[date]:
    """Which days a run reads, oldest first."""
    if day is not None:
        if day > today + timedelta(days=MAX_DAYS_AHEAD):
            raise UserError(f"{day.isoformat()} is in the future: there is no list for it yet")
        return [day]
    if last is None or last >= today:
        return [today]
    start = max(last, today - timedelta(days=MAX_CATCH_UP_DAYS))
    return [start + timedelta(days=n) for n in range((today - start).days + 1)]


def read_day(body: bytes, url: str, day: date) -> list[ParsedRecord | RecordError]:
    """The day's records; :class:`SyncError` when the body is not a daily-papers list.

    The body is checked as a whole first: the parser would salvage the readable items of
    a truncated or garbled answer, but storing part of a day and moving the cursor past
    it would lose the rest. A body that is a list with some unreadable items is stored;
    those items become the report's errors.
    """
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as error:  # JSONDecodeError, bad UTF-8
        raise SyncError(
            f"{SOURCE_LABEL} at {url} answered something that is not JSON "
            f"({_first_line(error)}); nothing was stored"
        ) from error
    if isinstance(document, dict) and isinstance(document.get("data"), list):
        document = document["data"]  # the {"status", "date", "count", "data"} shape
    if not isinstance(document, list):
        kind = "null" if document is None else type(document).__name__
        raise SyncError(
            f"{SOURCE_LABEL} at {url} answered a JSON {kind}, not a list of papers; "
            "nothing was stored"
        )
    return list(parse_hf_daily(body, url, feed_date=day))


def _store_day(
    context: Context,
    day: date,
    records: list[ParsedRecord | RecordError],
    report: SyncReport,
    *,
    advance: bool,
) -> None:
    """Store one day's records and move the cursor to the day, in one transaction."""
    with context.engine.begin() as conn:
        summary = write_records(conn, records)
        if advance:
            last = cursor_day(sync_state.get_source(conn, SOURCE).cursor)
            if last is None or day > last:
                sync_state.save_cursor(conn, SOURCE, {"day": day.isoformat()})
    report.pages += 1
    report.fetched += summary.records + summary.skipped
    report.inserted += summary.papers_inserted
    report.updated += summary.papers_updated
    report.unchanged += summary.papers_unchanged
    report.featured += summary.feed_inserted + summary.feed_updated
    report.skipped += summary.skipped
    report.errors.extend(
        f"{day.isoformat()} line {error.line}: {error.message}" for error in summary.errors
    )


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__
