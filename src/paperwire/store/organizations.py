"""Organizations: the labs and companies papers belong to, and their members."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import (
    ColumnElement,
    Connection,
    RowMapping,
    and_,
    delete,
    exists,
    func,
    insert,
    select,
    union,
    update,
)
from sqlalchemy.exc import IntegrityError

from paperwire.clock import as_utc, utcnow
from paperwire.models import Organization, OrganizationRecord
from paperwire.store.schema import (
    feed_entries,
    organization_members,
    organizations,
    papers,
    users,
)
from paperwire.store.sql import insert_ignoring_conflicts


def organization_from_row(row: RowMapping) -> Organization:
    return Organization(
        id=row["id"], slug=row["slug"], name=row["name"], avatar_url=row["avatar_url"]
    )


def organization_from_prefixed(row: RowMapping, prefix: str) -> Organization | None:
    """The organization a joined row carries as ``{prefix}id``, ``{prefix}slug``, ..."""
    if row[f"{prefix}id"] is None:
        return None
    return Organization(
        id=row[f"{prefix}id"],
        slug=row[f"{prefix}slug"],
        name=row[f"{prefix}name"],
        avatar_url=row[f"{prefix}avatar_url"],
    )


def ensure_organizations(conn: Connection, records: list[OrganizationRecord]) -> dict[str, int]:
    """Store organizations that are new (updating a changed name or avatar); slug -> id."""
    by_slug = {record.slug: record for record in records}
    if not by_slug:
        return {}
    now = utcnow()
    conn.execute(
        insert_ignoring_conflicts(conn, organizations),
        [
            {"slug": r.slug, "name": r.name, "avatar_url": r.avatar_url, "created_at": now}
            for r in by_slug.values()
        ],
    )
    rows = conn.execute(select(organizations).where(organizations.c.slug.in_(list(by_slug))))
    ids: dict[str, int] = {}
    for row in rows.mappings():
        record = by_slug[row["slug"]]
        ids[row["slug"]] = row["id"]
        if (row["name"], row["avatar_url"]) != (
            record.name,
            record.avatar_url or row["avatar_url"],
        ):
            conn.execute(
                update(organizations)
                .where(organizations.c.id == row["id"])
                .values(name=record.name, avatar_url=record.avatar_url or row["avatar_url"])
            )
    return ids


def get_organization(conn: Connection, slug: str) -> Organization | None:
    row = conn.execute(select(organizations).where(organizations.c.slug == slug)).mappings().first()
    return organization_from_row(row) if row else None


def list_organizations(conn: Connection) -> list[tuple[Organization, int]]:
    """Every organization with its number of papers, most papers first.

    A paper counts for an organization it is linked to (``papers.organization_id``) or was
    featured for (``feed_entries.organization_id``), once, as on the organization's page.
    """
    belongs = union(
        select(papers.c.organization_id.label("org_id"), papers.c.id.label("paper_id")).where(
            papers.c.organization_id.is_not(None)
        ),
        select(
            feed_entries.c.organization_id.label("org_id"),
            feed_entries.c.paper_id.label("paper_id"),
        ).where(feed_entries.c.organization_id.is_not(None)),
    ).subquery()
    count = func.count(belongs.c.paper_id)
    rows = conn.execute(
        select(organizations, count.label("paper_count"))
        .select_from(organizations.outerjoin(belongs, belongs.c.org_id == organizations.c.id))
        .group_by(organizations.c.id)
        .order_by(count.desc(), organizations.c.name)
    ).mappings()
    return [(organization_from_row(row), row["paper_count"]) for row in rows]


def slug_taken(conn: Connection, slug: str) -> bool:
    """Whether a slug is in use, ignoring case (imported slugs keep their case: "SJTU")."""
    found = conn.execute(
        select(organizations.c.id).where(func.lower(organizations.c.slug) == slug.lower())
    ).first()
    return found is not None


def create_organization(
    conn: Connection, *, slug: str, name: str, avatar_url: str | None, now: datetime
) -> Organization | None:
    """Insert an organization; None when the slug exists (the unique constraint decides)."""
    values = {"slug": slug, "name": name, "avatar_url": avatar_url, "created_at": now}
    try:
        with conn.begin_nested():
            key = conn.execute(insert(organizations).values(values)).inserted_primary_key
    except IntegrityError:
        return None
    assert key is not None
    return Organization(id=int(key[0]), slug=slug, name=name, avatar_url=avatar_url)


def organizations_by_id(conn: Connection, ids: list[int]) -> dict[int, Organization]:
    rows = conn.execute(select(organizations).where(organizations.c.id.in_(ids))).mappings()
    return {row["id"]: organization_from_row(row) for row in rows}


# --- members -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Member:
    user_id: int
    username: str
    display_name: str | None
    joined_at: datetime

    @property
    def name(self) -> str:
        return self.display_name or self.username


def add_member(conn: Connection, organization_id: int, user_id: int, now: datetime) -> bool:
    """Make a user a member; False when they already were (the primary key decides)."""
    result = conn.execute(
        insert_ignoring_conflicts(conn, organization_members).values(
            organization_id=organization_id, user_id=user_id, joined_at=now
        )
    )
    return bool(result.rowcount)


def remove_member(conn: Connection, organization_id: int, user_id: int) -> bool:
    """End a membership; False when there was none."""
    result = conn.execute(
        delete(organization_members).where(
            organization_members.c.organization_id == organization_id,
            organization_members.c.user_id == user_id,
        )
    )
    return bool(result.rowcount)


def is_member(conn: Connection, organization_id: int, user_id: int) -> bool:
    found = conn.execute(
        select(organization_members.c.user_id).where(
            organization_members.c.organization_id == organization_id,
            organization_members.c.user_id == user_id,
        )
    ).first()
    return found is not None


def members_of(
    conn: Connection, organization_id: int, *, limit: int | None = None, offset: int = 0
) -> list[Member]:
    """An organization's members, earliest first."""
    rows = conn.execute(
        select(
            users.c.id,
            users.c.username,
            users.c.display_name,
            organization_members.c.joined_at,
        )
        .join(organization_members, organization_members.c.user_id == users.c.id)
        .where(organization_members.c.organization_id == organization_id)
        .order_by(organization_members.c.joined_at, users.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [
        Member(row.id, row.username, row.display_name, as_utc(row.joined_at) or utcnow())
        for row in rows
    ]


def count_members(conn: Connection, organization_id: int) -> int:
    stmt = select(func.count()).where(organization_members.c.organization_id == organization_id)
    return int(conn.execute(stmt).scalar_one())


def organizations_of(conn: Connection, user_id: int) -> list[Organization]:
    """The organizations a user is a member of, by name."""
    rows = conn.execute(
        select(organizations)
        .join(organization_members, organization_members.c.organization_id == organizations.c.id)
        .where(organization_members.c.user_id == user_id)
        .order_by(organizations.c.name)
    ).mappings()
    return [organization_from_row(row) for row in rows]


# --- an organization's papers --------------------------------------------------------------
# Its featured entries (each day it was featured) and the papers linked to it that were
# never featured. Pages list both, newest first; these queries return light keys only, so
# that a deep page costs a scan of keys, and only the page's own rows are loaded in full.


def _entry_of(organization_id: int) -> ColumnElement[bool]:
    """An entry belongs to the organization it was featured for, else to its paper's.

    The same rule as :func:`paperwire.store.feed.count_for_organization`.
    """
    return (feed_entries.c.organization_id == organization_id) | and_(
        feed_entries.c.organization_id.is_(None), papers.c.organization_id == organization_id
    )


def _never_featured(organization_id: int) -> ColumnElement[bool]:
    featured = exists().where(feed_entries.c.paper_id == papers.c.id)
    return and_(papers.c.organization_id == organization_id, ~featured)


def featured_keys(
    conn: Connection, organization_id: int, limit: int
) -> list[tuple[date, int, str]]:
    """The first ``limit`` entries of the organization as (day, position, paper id), newest
    first, in feed order within a day."""
    rows = conn.execute(
        select(feed_entries.c.feed_date, feed_entries.c.position, feed_entries.c.paper_id)
        .join(papers, papers.c.id == feed_entries.c.paper_id)
        .where(_entry_of(organization_id))
        .order_by(feed_entries.c.feed_date.desc(), feed_entries.c.position)
        .limit(limit)
    )
    return [(row.feed_date, row.position, row.paper_id) for row in rows]


def unfeatured_keys(conn: Connection, organization_id: int, limit: int) -> list[tuple[date, str]]:
    """The first ``limit`` linked, never-featured papers as (day, paper id), newest first.

    The day is the paper's submission date (when it was stored, if unknown).
    """
    day = func.coalesce(papers.c.submitted_at, papers.c.created_at)
    rows = conn.execute(
        select(papers.c.id, papers.c.submitted_at, papers.c.created_at)
        .where(_never_featured(organization_id))
        .order_by(day.desc(), papers.c.id)
        .limit(limit)
    )
    keys = []
    for row in rows:
        when = as_utc(row.submitted_at or row.created_at)
        assert when is not None  # created_at is never null
        keys.append((when.date(), row.id))
    return keys


def count_unfeatured(conn: Connection, organization_id: int) -> int:
    stmt = select(func.count()).select_from(papers).where(_never_featured(organization_id))
    return int(conn.execute(stmt).scalar_one())
