"""Feed use cases: what pages, the JSON API and the CLI all call."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

from sqlalchemy import Connection

from paperwire.feed.periods import Period, PeriodKind, period_of
from paperwire.feed.ranking import trending_score
from paperwire.ingest.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperwire.models import FeedEntry, Organization, Paper
from paperwire.store import feed as feed_store
from paperwire.store import organizations as org_store
from paperwire.store import papers as paper_store

SortOrder = Literal["upvotes", "date", "trending"]


@dataclass(slots=True)
class FeedPage:
    period: Period
    entries: list[FeedEntry]
    total: int
    offset: int
    previous: Period | None  # the nearest earlier period with featured papers
    next: Period | None
    anchor: date  # the latest featured day in the period (its end if none): tabs start here


def feed_page(
    conn: Connection,
    period: Period,
    *,
    sort: SortOrder = "upvotes",
    limit: int = 50,
    offset: int = 0,
    gravity: float = 1.5,
) -> FeedPage:
    """The papers featured in ``period``: by upvotes, newest day first, or trending score."""
    if sort == "trending":
        everything = feed_store.entries_between(conn, period.start, period.end)
        ranked = rank_trending(everything, as_of=period.end, gravity=gravity)
        entries = ranked[offset : offset + limit]
    else:
        entries = feed_store.entries_between(
            conn, period.start, period.end, order=sort, limit=limit, offset=offset
        )
    before, after = feed_store.neighbour_dates(conn, period.start, period.end)
    return FeedPage(
        period=period,
        entries=entries,
        total=feed_store.count_between(conn, period.start, period.end),
        offset=offset,
        previous=period_of(period.kind, before) if before else None,
        next=period_of(period.kind, after) if after else None,
        anchor=feed_store.latest_feed_date(conn, until=period.end) or period.end,
    )


def latest_period(conn: Connection, kind: PeriodKind, today: date) -> Period:
    """The period holding the latest featured day (today's when nothing is featured)."""
    latest = feed_store.latest_feed_date(conn)
    return period_of(kind, min(latest, today) if latest else today)


def rank_trending(entries: list[FeedEntry], *, as_of: date, gravity: float) -> list[FeedEntry]:
    """Score each entry (kept on ``entry.score``); a paper featured twice counts once."""
    best: dict[str, FeedEntry] = {}
    for entry in entries:
        entry.score = trending_score(entry.upvotes, entry.feed_date, as_of, gravity)
        current = best.get(entry.paper.id)
        if current is None or (entry.score or 0) > (current.score or 0):
            best[entry.paper.id] = entry
    return sorted(
        best.values(), key=lambda e: (-(e.score or 0), -e.upvotes, -e.feed_date.toordinal())
    )


@dataclass(slots=True)
class TrendingPage:
    as_of: date
    window_days: int
    entries: list[FeedEntry]


def trending(
    conn: Connection, *, today: date, window_days: int, gravity: float, limit: int = 50
) -> TrendingPage:
    """Papers featured in the ``window_days`` up to the latest featured day, by score.

    The window ends on the latest featured day (not on today) so that an instance whose
    sources paused still shows what was trending when they stopped.
    """
    latest = feed_store.latest_feed_date(conn)
    as_of = min(latest, today) if latest else today
    start = as_of - timedelta(days=window_days - 1)
    entries = feed_store.entries_between(conn, start, as_of)
    return TrendingPage(
        as_of=as_of,
        window_days=window_days,
        entries=rank_trending(entries, as_of=as_of, gravity=gravity)[:limit],
    )


def canonical_paper_id(text: str) -> str:
    """A paper id as stored: arXiv ids in any form lose their prefix and version."""
    text = text.strip()
    try:
        return parse_arxiv_id(text)[0]
    except InvalidArxivId:
        return text


@dataclass(slots=True)
class PaperDetail:
    paper: Paper
    featured_on: list[date]


def paper_detail(conn: Connection, paper_id: str) -> PaperDetail | None:
    paper = paper_store.get_paper(conn, paper_id)
    if paper is None:
        return None
    return PaperDetail(paper=paper, featured_on=feed_store.entries_for_paper(conn, paper_id))


@dataclass(slots=True)
class OrganizationPage:
    organization: Organization
    entries: list[FeedEntry]  # never-featured papers carry their submission day
    total: int
    offset: int
    members: list[org_store.Member] = field(default_factory=list)  # the first few
    member_count: int = 0


MEMBERS_SHOWN = 100


def organization_page(
    conn: Connection, slug: str, *, limit: int = 50, offset: int = 0
) -> OrganizationPage | None:
    """An organization's papers, newest first: the days it was featured, and the papers
    linked to it that were never featured (on the day they were submitted)."""
    organization = org_store.get_organization(conn, slug)
    if organization is None:
        return None
    # Both lists come sorted from the store as light keys; merge just enough of each.
    wanted = offset + limit
    keyed: list[tuple[tuple[int, int, int], date, str, bool]] = []
    for day, position, paper_id in org_store.featured_keys(conn, organization.id, wanted):
        keyed.append(((-day.toordinal(), 0, position), day, paper_id, True))
    for i, (day, paper_id) in enumerate(org_store.unfeatured_keys(conn, organization.id, wanted)):
        keyed.append(((-day.toordinal(), 1, i), day, paper_id, False))
    keyed.sort(key=lambda item: item[0])
    shown = keyed[offset:wanted]

    featured = {(day, paper_id) for _key, day, paper_id, is_entry in shown if is_entry}
    by_key: dict[tuple[date, str], FeedEntry] = {}
    if featured:
        days = [day for day, _paper_id in featured]
        # Every entry of the organization strictly inside the page's days is on the page;
        # only its first and last day may hold a few others, dropped here.
        for entry in feed_store.entries_between(
            conn, min(days), max(days), order="date", organization_id=organization.id
        ):
            if (entry.feed_date, entry.paper.id) in featured:
                by_key[(entry.feed_date, entry.paper.id)] = entry
    linked = paper_store.papers_by_ids(
        conn, [paper_id for _key, _day, paper_id, is_entry in shown if not is_entry]
    )
    for _key, day, paper_id, is_entry in shown:
        if not is_entry and paper_id in linked:
            paper = linked[paper_id]
            by_key[(day, paper_id)] = FeedEntry(
                paper=paper,
                feed_date=day,
                position=0,
                upvotes=paper.upvotes,
                organization=paper.organization,
            )
    entries = [by_key[(day, pid)] for _key, day, pid, _e in shown if (day, pid) in by_key]
    total = feed_store.count_for_organization(conn, organization.id) + org_store.count_unfeatured(
        conn, organization.id
    )
    return OrganizationPage(
        organization=organization,
        entries=entries,
        total=total,
        offset=offset,
        members=org_store.members_of(conn, organization.id, limit=MEMBERS_SHOWN),
        member_count=org_store.count_members(conn, organization.id),
    )


def organizations(conn: Connection) -> list[tuple[Organization, int]]:
    """Every organization with its number of papers, most papers first."""
    return org_store.list_organizations(conn)


@dataclass(slots=True)
class AuthorPage:
    name: str  # as the newest paper spells it
    papers: list[Paper]
    total: int
    offset: int


def author_page(
    conn: Connection, name: str, *, limit: int = 50, offset: int = 0
) -> AuthorPage | None:
    """Every stored paper an author wrote, newest first; None if no paper names them."""
    found, total = paper_store.papers_by_author(conn, name, limit=limit, offset=offset)
    if total == 0:
        return None
    key = name.casefold()
    spelled = next((a for p in found for a in p.authors if a.casefold() == key), name)
    return AuthorPage(name=spelled, papers=found, total=total, offset=offset)
