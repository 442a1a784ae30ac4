"""Submissions: a member features an arXiv paper on today's list, within rules.

The rules (configurable, each refusal says why and what is allowed):

- the paper's first version is at most ``submission_max_age_days`` old;
- it was never featured before (on any day);
- a member submits at most ``submission_daily_quota`` papers a day (UTC).

Curators and admins bypass all three (they curate). A paper not stored yet is fetched
from the arXiv API and stored through the import pipeline (so search indexes it) only
once every rule has passed: a refused submission stores nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from sqlalchemy import Engine

from paperwire.clock import utcnow
from paperwire.config import Settings
from paperwire.errors import Conflict, NotFound, RateLimited, UserError
from paperwire.ingest.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperwire.ingest.pipeline import import_records
from paperwire.models import Paper, PaperRecord, ParsedRecord, User
from paperwire.store import feed as feed_store
from paperwire.store import papers as paper_store
from paperwire.store.state import bump_content_version

SUBMISSION = "submission"  # feed_entries.source of a member's submission
MAX_INPUT = 300
ACCEPTED_FORMS = (
    "2510.01459, arXiv:2510.01459v2, https://arxiv.org/abs/2510.01459, "
    "https://arxiv.org/pdf/2510.01459v1 (or .pdf), or an old-style id like hep-th/9901001"
)


class PaperSource(Protocol):
    """Where missing papers come from: :class:`paperwire.ingest.arxiv_api.ArxivClient`."""

    def fetch(self, arxiv_id: str) -> PaperRecord: ...


@dataclass(frozen=True, slots=True)
class Submission:
    paper: Paper
    day: date
    position: int
    fetched: bool  # the paper was new here, and fetched from arXiv


def parse_submitted_id(text: str) -> str:
    """The canonical arXiv id in ``text`` (any accepted spelling), or a UserError."""
    text = (text or "").strip()
    if not text:
        raise UserError(f"Enter an arXiv id or link: {ACCEPTED_FORMS}.")
    try:
        arxiv_id, _version = parse_arxiv_id(text[:MAX_INPUT])
    except InvalidArxivId as error:
        reason = str(error)
        reason = reason[:1].upper() + reason[1:]
        raise UserError(f"{reason}. Accepted forms: {ACCEPTED_FORMS}.") from error
    return arxiv_id


def store_record(engine: Engine, record: PaperRecord) -> bool:
    """Store a fetched paper the way imports do (merged, linked, queued for search);
    whether anything stored changed."""
    summary = import_records(engine, [ParsedRecord(paper=record, line=1)])
    if summary.errors:  # one record, built by our own parser: not expected
        raise UserError(f"arXiv's record could not be stored: {summary.errors[0].message}")
    return summary.papers_inserted + summary.papers_updated > 0


def stored_or_fetched(
    engine: Engine, source: PaperSource, paper_id: str
) -> tuple[Paper | None, PaperRecord | None]:
    """The stored paper, or else the record fetched from arXiv (not stored yet)."""
    with engine.connect() as conn:
        stored = paper_store.get_paper(conn, paper_id)
    if stored is not None:
        return stored, None
    return None, source.fetch(paper_id)


def submit(
    engine: Engine,
    source: PaperSource,
    settings: Settings,
    user: User,
    text: str,
    *,
    today: date | None = None,
) -> Submission:
    """Feature the paper named by ``text`` on ``today``'s list (UTC) as ``user``'s submission."""
    paper_id = parse_submitted_id(text)
    day = today or utcnow().date()
    ruled = not user.is_curator
    with engine.connect() as conn:
        if ruled:
            _check_quota(feed_store.count_submissions(conn, user.id, day), settings)
        featured_on = feed_store.entries_for_paper(conn, paper_id)
        stored = paper_store.get_paper(conn, paper_id)
    if day in featured_on:
        raise Conflict(f"arXiv:{paper_id} is already on the list of {day.isoformat()}.")
    if ruled and featured_on:
        days = ", ".join(d.isoformat() for d in featured_on[:3])
        raise Conflict(
            f"arXiv:{paper_id} was already featured on {days}; a paper is featured only once."
        )
    record = None
    if stored is None:
        if ruled:
            _check_age_from_id(paper_id, day, settings)  # refuses old ids without asking arXiv
        record = source.fetch(paper_id)
    if ruled:
        known = stored or record
        _check_age(paper_id, known.submitted_at if known else None, day, settings)
    if record is not None:
        store_record(engine, record)
    with engine.begin() as conn:
        if ruled:
            feed_store.hold_submission_count(conn, user.id)
        position = feed_store.feature(
            conn,
            paper_id=paper_id,
            day=day,
            source=SUBMISSION,
            user_id=user.id,
            submitted_by=user.username,
            submitted_by_name=user.display_name or user.username,
        )
        if position is None:  # featured by someone else a moment ago
            raise Conflict(f"arXiv:{paper_id} is already on the list of {day.isoformat()}.")
        if ruled:
            # Counted again inside the write, which holds the member's count (SQLite: one
            # writer; PostgreSQL: a row lock), so two submissions at once cannot both
            # pass; the refused one rolls back with its entry.
            _check_quota(feed_store.count_submissions(conn, user.id, day) - 1, settings)
        bump_content_version(conn)
        paper = paper_store.get_paper(conn, paper_id)
    if paper is None:  # stored above; only a concurrent delete could get here
        raise NotFound(f"No paper with id {paper_id}.")
    return Submission(paper=paper, day=day, position=position, fetched=record is not None)


def _check_quota(already: int, settings: Settings) -> None:
    quota = settings.submission_daily_quota
    if already >= quota:
        now = utcnow()
        midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
        raise RateLimited(
            f"You have submitted {already} paper{'s' if already != 1 else ''} today; members "
            f"can submit {quota} a day. Try again tomorrow (UTC), or ask a curator.",
            retry_after=max(1, int((midnight - now).total_seconds())),
        )


def _too_old(paper_id: str, since: str, settings: Settings) -> UserError:
    return UserError(
        f"arXiv:{paper_id} was first published {since}; members can submit papers whose "
        f"first version is at most {settings.submission_max_age_days} days old. "
        "A curator can still feature it."
    )


def _check_age(paper_id: str, first: datetime | None, day: date, settings: Settings) -> None:
    if first is None:  # the source gave no date: nothing to hold against it
        return
    age = (day - first.astimezone(UTC).date()).days
    if age > settings.submission_max_age_days:
        raise _too_old(paper_id, f"on {first.date().isoformat()} ({age} days ago)", settings)


def _check_age_from_id(paper_id: str, day: date, settings: Settings) -> None:
    """Refuse, without a request to arXiv, ids whose month alone makes them too old.

    Both kinds of id hold the year and month they were issued in: ``YYMM.NNNNN`` and
    ``archive/YYMMNNN`` (old style, 1991 to March 2007). A month of margin covers papers
    numbered at a month's turn.
    """
    yymm = paper_id.rpartition("/")[2][:4]
    yy, month = int(yymm[:2]), int(yymm[2:])
    year = (1900 if yy >= 91 else 2000) + yy
    # the first day of the month after next: later than any v1 date this id can have
    year_after, month_after = (year + 1, month - 10) if month > 10 else (year, month + 2)
    if (day - date(year_after, month_after, 1)).days >= settings.submission_max_age_days:
        raise _too_old(paper_id, f"in {date(year, month, 1).strftime('%B %Y')}", settings)
