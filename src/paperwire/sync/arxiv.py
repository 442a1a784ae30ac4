"""arXiv Atom API sync by category: new and updated papers, newest first.

One run asks ``search_query=cat:A OR cat:B``, ``sortBy=lastUpdatedDate``,
``sortOrder=descending`` page by page (``start``/``max_results``) through the process's
one :class:`~paperwire.ingest.arxiv_api.ArxivClient` (one request per
``arxiv_request_interval_s``, one connection, bounded retries, a paperwire User-Agent),
imports each page, and stops at the first of:

- the end of the results;
- a page reaching papers updated before the look-back ("floor"): ``since`` when given,
  else the newest ``updated`` the last finished run saw (the cursor), else
  ``sync_arxiv_since_days`` on a first run (the list is sorted, so the rest is older);
- a page that brings nothing new (every paper on it already stored as it is).

Each page and the cursor are written in one transaction. The cursor's ``newest_updated``
only moves when a run finishes: a run interrupted half-way (worker killed, arXiv down)
leaves ``run`` in the cursor, and the next run walks down to that run's floor again,
not stopping for "nothing new" before it is past the page where the other one stopped,
so no paper in the window is skipped. The cursor is per category set: syncing other
categories starts from the first-run look-back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from paperwire.clock import utcnow
from paperwire.context import Context
from paperwire.errors import UpstreamError, UserError
from paperwire.ingest import pipeline
from paperwire.ingest.arxiv_api import ArxivRejected
from paperwire.ingest.arxiv_atom import AtomPage
from paperwire.models import ParsedRecord, RecordError
from paperwire.store import sync_state
from paperwire.sync.report import Heartbeat, SyncError, SyncReport, no_heartbeat

SOURCE = "arxiv"
PAGE_SIZE = 100  # entries per request; arXiv allows up to 2,000 but 100 pages answer fast
# arXiv now and then answers a page with no entries although more results exist; asking
# the same page again (politely spaced by the client) usually brings them.
EMPTY_PAGE_RETRIES = 2
_CATEGORY = re.compile(r"[a-z][a-z-]*(?:\.[A-Za-z][A-Za-z-]*)?")


def sync_arxiv(
    context: Context,
    *,
    categories: list[str],
    since: timedelta | None = None,
    heartbeat: Heartbeat = no_heartbeat,
    page_size: int = PAGE_SIZE,
) -> SyncReport:
    """Import the papers of ``categories`` updated within the look-back, newest first.

    ``heartbeat`` is called after each committed page, and also before each wait for a
    retry (a long ``Retry-After``), so that a worker's lease outlives the wait.
    """
    wanted = _categories(categories)
    with context.engine.connect() as conn:
        stored = sync_state.get_source(conn, SOURCE).cursor or {}
    plan = SyncPlan.make(stored, wanted, since, context.settings.sync_arxiv_since_days)
    query = " OR ".join(f"cat:{category}" for category in wanted)
    report = SyncReport(SOURCE)
    start = 0
    while True:
        page = _fetch(context, query, start, page_size, report, heartbeat)
        parsed = [r for r in page.records if isinstance(r, ParsedRecord)]
        fresh = [r for r in parsed if plan.within(r)]
        errors = [r for r in page.records if isinstance(r, RecordError)]
        entries = len(page.records)
        at_end = entries < page_size or (
            page.total_results is not None and start + entries >= page.total_results
        )
        summary = pipeline.ImportSummary()
        with context.engine.begin() as conn:
            store_page(conn, [*fresh, *errors], summary)
            plan.saw(fresh)
            nothing_new = bool(parsed) and not summary.papers_inserted + summary.papers_updated
            note = ""
            if len(fresh) < len(parsed):
                note = f"reached the look-back ({plan.floor:%Y-%m-%d %H:%M} UTC)"
            elif at_end:
                note = "reached the end of the results"
            elif nothing_new and start >= plan.resume_past:
                note = "stopped: a page brought nothing new"
            cursor = plan.finished() if note else plan.progress(start + entries)
            sync_state.save_cursor(conn, SOURCE, cursor)
        _count(report, entries, summary)
        heartbeat()
        if note:
            report.note = note
            return report
        start += entries


def store_page(
    conn: Connection,
    records: Iterable[ParsedRecord | RecordError],
    summary: pipeline.ImportSummary,
) -> pipeline.ImportSummary:
    """Import one page inside the caller's transaction, the one that moves the cursor."""
    return pipeline.write_records(conn, records, summary)


def _count(report: SyncReport, entries: int, summary: pipeline.ImportSummary) -> None:
    report.pages += 1
    report.fetched += entries
    report.inserted += summary.papers_inserted
    report.updated += summary.papers_updated
    report.unchanged += summary.papers_unchanged
    report.skipped += len(summary.errors)
    report.errors.extend(str(error) for error in summary.errors)


def _categories(categories: list[str]) -> list[str]:
    wanted = sorted({c.strip() for c in categories if c.strip()})
    if not wanted:
        raise UserError(
            "no arXiv categories to sync: give --category or set PAPERWIRE_SYNC_ARXIV_CATEGORIES"
        )
    bad = [c for c in wanted if not _CATEGORY.fullmatch(c)]
    if bad:
        raise UserError(f"not an arXiv category: {bad[0]!r} (like cs.CL or hep-th)")
    return wanted


def _fetch(
    context: Context,
    query: str,
    start: int,
    page_size: int,
    report: SyncReport,
    heartbeat: Heartbeat,
) -> AtomPage:
    params: dict[str, str | int] = {
        "search_query": query,
        "sortBy": "lastUpdatedDate",
        "sortOrder": "descending",
        "start": start,
        "max_results": page_size,
    }
    where = f"page {report.pages + 1} (start={start})"
    kept = ""
    if report.pages:
        kept = f"; the {report.pages} page(s) before it are stored and the next run goes on"
    for attempt in range(EMPTY_PAGE_RETRIES + 1):
        try:
            page = context.arxiv.query(params, waiting=heartbeat)
        except ArxivRejected as error:
            raise SyncError(f"arXiv API rejected the query {query!r}: {error.message}") from error
        except UpstreamError as error:
            raise SyncError(f"arXiv API, {where}: {error.message}{kept}") from error
        missing = page.total_results is not None and start < page.total_results
        if page.records or not missing:
            return page
        if attempt < EMPTY_PAGE_RETRIES:
            heartbeat()
    raise SyncError(
        f"arXiv API, {where}: {EMPTY_PAGE_RETRIES + 1} empty answers although it reports "
        f"{page.total_results} results; please try again later{kept}"
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _updated(record: ParsedRecord) -> datetime | None:
    return record.paper.updated_at or record.paper.submitted_at


class SyncPlan:
    """Where this run stops, and the cursor it leaves after each page."""

    def __init__(
        self,
        categories: list[str],
        floor: datetime,
        previous_newest: datetime | None,
        newest: datetime | None,
        resume_past: int,
    ) -> None:
        self.categories = categories
        self.floor = floor
        self.previous_newest = previous_newest  # the last finished run's newest
        self.newest = newest  # the newest `updated` this run (and an unfinished one) saw
        self.resume_past = resume_past  # an unfinished run stored the pages before this

    @classmethod
    def make(
        cls,
        stored: dict[str, Any],
        categories: list[str],
        since: timedelta | None,
        first_run_days: int,
    ) -> SyncPlan:
        now = utcnow()
        same = stored.get("categories") == categories
        previous = _parse(stored.get("newest_updated")) if same else None
        if since is not None:
            floor = now - since
        elif previous is not None:
            floor = previous  # papers updated at that instant again are merely unchanged
        else:
            floor = now - timedelta(days=first_run_days)
        unfinished = stored.get("run") if same else None
        newest, resume_past = previous, 0
        if isinstance(unfinished, dict):
            floor = min(floor, _parse(unfinished.get("floor")) or floor)
            newest = max(filter(None, [newest, _parse(unfinished.get("newest"))]), default=None)
            resume_past = int(unfinished.get("next_start") or 0)
        return cls(categories, floor, previous, newest, resume_past)

    def within(self, record: ParsedRecord) -> bool:
        updated = _updated(record)
        return updated is None or updated >= self.floor

    def saw(self, records: list[ParsedRecord]) -> None:
        dates = [d for r in records if (d := _updated(r)) is not None]
        if self.newest is not None:
            dates.append(self.newest)
        self.newest = max(dates, default=None)

    def progress(self, next_start: int) -> dict[str, Any]:
        return {
            "categories": self.categories,
            "newest_updated": _iso(self.previous_newest),
            "run": {
                "floor": _iso(self.floor),
                "newest": _iso(self.newest),
                "next_start": max(next_start, self.resume_past),
            },
        }

    def finished(self) -> dict[str, Any]:
        return {
            "categories": self.categories,
            "newest_updated": _iso(self.newest),
            "run": None,
            "last_floor": _iso(self.floor),
            "finished_at": _iso(utcnow()),
        }
