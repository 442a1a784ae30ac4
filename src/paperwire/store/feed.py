"""Feed entries: papers featured on a day, and the lists built from them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    RowMapping,
    and_,
    bindparam,
    delete,
    func,
    literal,
    select,
    tuple_,
    update,
)

from paperwire.clock import utcnow
from paperwire.models import FeedEntry, FeedRecord
from paperwire.store.organizations import organization_from_prefixed
from paperwire.store.papers import IN_CHUNK, links_for, paper_from_row, paper_select
from paperwire.store.schema import feed_entries, organizations, papers, users
from paperwire.store.sql import chunks, insert_ignoring_conflicts

# Upvotes that order a list: those an import carried for this day plus local votes.
ENTRY_UPVOTES = (feed_entries.c.upvotes + papers.c.local_upvotes).label("entry_upvotes")
# Comments likewise: those the import counted plus the visible local ones.
ENTRY_COMMENTS = (feed_entries.c.num_comments + papers.c.local_comments).label("entry_num_comments")


@dataclass(slots=True)
class FeedUpsertResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


def upsert_feed_entries(
    conn: Connection, records: list[FeedRecord], organization_ids: dict[str, int], source: str
) -> FeedUpsertResult:
    """Feature papers on days; a repeated import changes nothing, a later one raises upvotes."""
    result = FeedUpsertResult()
    keys = [(r.feed_date, r.paper_id) for r in records]
    stored: dict[tuple[date, str], RowMapping] = {}
    for part in chunks(keys, IN_CHUNK):
        rows = conn.execute(
            select(feed_entries).where(
                tuple_(feed_entries.c.feed_date, feed_entries.c.paper_id).in_(part)
            )
        ).mappings()
        for row in rows:
            stored[(row["feed_date"], row["paper_id"])] = row

    now = utcnow()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for record in records:
        values = {
            "position": record.position,
            "upvotes": record.upvotes,
            "num_comments": record.num_comments,
            "submitted_by": record.submitted_by,
            "submitted_by_name": record.submitted_by_name,
            "organization_id": organization_ids.get(record.organization.slug)
            if record.organization
            else None,
        }
        old = stored.get((record.feed_date, record.paper_id))
        if old is None:
            inserts.append(
                {
                    "paper_id": record.paper_id,
                    "feed_date": record.feed_date,
                    "source": source,
                    "created_at": now,
                    **values,
                }
            )
            continue
        # Never lose votes or comments: a later snapshot may only raise them.
        values["upvotes"] = max(values["upvotes"], old["upvotes"])
        values["num_comments"] = max(values["num_comments"], old["num_comments"])
        # An entry's organization, once set, stays: a member may have corrected it
        # (community/edits.py), and a re-import must not undo that.
        if old["organization_id"] is not None:
            values["organization_id"] = old["organization_id"]
        if all(old[name] == value for name, value in values.items()):
            result.unchanged += 1
            continue
        updates.append({"_id": old["id"], **values})

    if inserts:
        conn.execute(feed_entries.insert(), inserts)
    if updates:
        conn.execute(
            update(feed_entries)
            .where(feed_entries.c.id == bindparam("_id"))
            .values({name: bindparam(name) for name in updates[0] if name != "_id"}),
            updates,
        )
    result.inserted, result.updated = len(inserts), len(updates)
    return result


def _of_organization(organization_id: int) -> ColumnElement[bool]:
    """An entry belongs to the organization it was featured for, else to its paper's."""
    return (feed_entries.c.organization_id == organization_id) | and_(
        feed_entries.c.organization_id.is_(None), papers.c.organization_id == organization_id
    )


def count_for_organization(conn: Connection, organization_id: int) -> int:
    stmt = (
        select(func.count())
        .select_from(feed_entries.join(papers, papers.c.id == feed_entries.c.paper_id))
        .where(_of_organization(organization_id))
    )
    return int(conn.execute(stmt).scalar_one())


def _entry_select() -> Any:
    entry_org = organizations.alias("entry_org")
    return (
        paper_select()
        .add_columns(
            feed_entries.c.feed_date,
            feed_entries.c.position,
            ENTRY_UPVOTES,
            ENTRY_COMMENTS,
            feed_entries.c.submitted_by,
            feed_entries.c.submitted_by_name,
            entry_org.c.id.label("entry_org_id"),
            entry_org.c.slug.label("entry_org_slug"),
            entry_org.c.name.label("entry_org_name"),
            entry_org.c.avatar_url.label("entry_org_avatar_url"),
        )
        .join(feed_entries, feed_entries.c.paper_id == papers.c.id)
        .outerjoin(entry_org, entry_org.c.id == feed_entries.c.organization_id)
    )


def _entries_from_rows(conn: Connection, rows: list[RowMapping]) -> list[FeedEntry]:
    paper_links = links_for(conn, {row["id"] for row in rows})
    entries = []
    for row in rows:
        organization = organization_from_prefixed(row, "entry_org_")
        paper = paper_from_row(row, paper_links.get(row["id"], []))
        entries.append(
            FeedEntry(
                paper=paper,
                feed_date=row["feed_date"],
                position=row["position"],
                upvotes=row["entry_upvotes"],
                num_comments=row["entry_num_comments"],
                submitted_by=row["submitted_by"],
                submitted_by_name=row["submitted_by_name"],
                organization=organization or paper.organization,
            )
        )
    return entries


def entries_between(
    conn: Connection,
    start: date,
    end: date,
    *,
    order: str = "upvotes",
    limit: int | None = None,
    offset: int = 0,
    organization_id: int | None = None,
) -> list[FeedEntry]:
    """Entries featured on ``start``..``end`` (inclusive), most upvoted first by default.

    ``order="date"`` lists newest day first, each day in feed order.
    """
    stmt = _entry_select().where(feed_entries.c.feed_date.between(start, end))
    if organization_id is not None:
        stmt = stmt.where(_of_organization(organization_id))
    if order == "date":
        stmt = stmt.order_by(feed_entries.c.feed_date.desc(), feed_entries.c.position)
    else:
        stmt = stmt.order_by(
            ENTRY_UPVOTES.desc(), feed_entries.c.feed_date.desc(), feed_entries.c.position
        )
    stmt = stmt.limit(limit).offset(offset)
    return _entries_from_rows(conn, list(conn.execute(stmt).mappings()))


def count_between(conn: Connection, start: date, end: date) -> int:
    stmt = select(func.count()).where(feed_entries.c.feed_date.between(start, end))
    return int(conn.execute(stmt).scalar_one())


def entries_for_paper(conn: Connection, paper_id: str) -> list[date]:
    """The days a paper was featured, newest first."""
    stmt = (
        select(feed_entries.c.feed_date)
        .where(feed_entries.c.paper_id == paper_id)
        .order_by(feed_entries.c.feed_date.desc())
    )
    return list(conn.execute(stmt).scalars())


def neighbour_dates(conn: Connection, start: date, end: date) -> tuple[date | None, date | None]:
    """The nearest featured day before ``start`` and after ``end``."""
    before = conn.execute(
        select(func.max(feed_entries.c.feed_date)).where(feed_entries.c.feed_date < start)
    ).scalar_one()
    after = conn.execute(
        select(func.min(feed_entries.c.feed_date)).where(feed_entries.c.feed_date > end)
    ).scalar_one()
    return before, after


def latest_feed_date(conn: Connection, until: date | None = None) -> date | None:
    """The latest featured day (on or before ``until`` when given)."""
    stmt = select(func.max(feed_entries.c.feed_date))
    if until is not None:
        stmt = stmt.where(feed_entries.c.feed_date <= until)
    latest: date | None = conn.execute(stmt).scalar_one()  # max() keeps the Date type
    return latest


def count_entries(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(feed_entries)).scalar_one())


# --- featuring by members and curators ------------------------------------------------------


def feature(
    conn: Connection,
    *,
    paper_id: str,
    day: date,
    source: str,
    user_id: int,
    submitted_by: str,
    submitted_by_name: str | None,
) -> int | None:
    """Feature a paper on ``day`` after the day's last entry; its position, or None when
    it is already featured that day (the unique key decides, so two at once cannot both)."""
    after_last = (
        select(func.coalesce(func.max(feed_entries.c.position) + 1, literal(0)))
        .where(feed_entries.c.feed_date == day)
        .scalar_subquery()
    )
    inserted = conn.execute(
        insert_ignoring_conflicts(conn, feed_entries).values(
            paper_id=paper_id,
            feed_date=day,
            position=after_last,
            source=source,
            submitted_by=submitted_by,
            submitted_by_name=submitted_by_name,
            featured_by_user_id=user_id,
            created_at=utcnow(),
        )
    ).rowcount
    if inserted != 1:
        return None
    position: int = conn.execute(
        select(feed_entries.c.position).where(
            feed_entries.c.feed_date == day, feed_entries.c.paper_id == paper_id
        )
    ).scalar_one()
    return position


def unfeature(conn: Connection, day: date, paper_id: str) -> bool:
    deleted = conn.execute(
        delete(feed_entries).where(
            feed_entries.c.feed_date == day, feed_entries.c.paper_id == paper_id
        )
    ).rowcount
    return bool(deleted == 1)


def day_paper_ids(conn: Connection, day: date) -> list[str]:
    """The day's papers in their as-featured order."""
    stmt = (
        select(feed_entries.c.paper_id)
        .where(feed_entries.c.feed_date == day)
        .order_by(feed_entries.c.position, feed_entries.c.id)
    )
    return list(conn.execute(stmt).scalars())


def set_day_order(conn: Connection, day: date, paper_ids: list[str]) -> None:
    """Number the day's entries 0, 1, 2... in the order of ``paper_ids``."""
    if not paper_ids:
        return
    conn.execute(
        update(feed_entries)
        .where(feed_entries.c.feed_date == day, feed_entries.c.paper_id == bindparam("_pid"))
        .values(position=bindparam("_position")),
        [{"_pid": pid, "_position": n} for n, pid in enumerate(paper_ids)],
    )


def count_submissions(conn: Connection, user_id: int, day: date) -> int:
    """How many papers the member submitted to ``day``'s list."""
    stmt = select(func.count()).where(
        feed_entries.c.feed_date == day,
        feed_entries.c.featured_by_user_id == user_id,
        feed_entries.c.source == "submission",
    )
    return int(conn.execute(stmt).scalar_one())


def hold_submission_count(conn: Connection, user_id: int) -> None:
    """Make this write transaction the only one counting the member's submissions.

    On PostgreSQL two submissions at once would each insert their entry and count before
    the other commits, and both pass the daily quota: locking the member's row first
    queues them (FOR NO KEY UPDATE: rows that merely reference the user, like votes and
    sessions, are not held up). SQLite needs nothing, as it runs one writer at a time;
    a read there before the first write would even risk a busy error on the upgrade.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(
            select(users.c.id).where(users.c.id == user_id).with_for_update(key_share=True)
        )
