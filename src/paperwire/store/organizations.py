"""Organizations: the labs and companies papers belong to."""

from __future__ import annotations

from sqlalchemy import Connection, RowMapping, func, select, update

from paperwire.clock import utcnow
from paperwire.models import Organization, OrganizationRecord
from paperwire.store.schema import organizations, papers
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
    """Every organization with the number of papers linked to it, most papers first."""
    count = func.count(papers.c.id)
    rows = conn.execute(
        select(organizations, count.label("paper_count"))
        .select_from(
            organizations.outerjoin(papers, papers.c.organization_id == organizations.c.id)
        )
        .group_by(organizations.c.id)
        .order_by(count.desc(), organizations.c.name)
    ).mappings()
    return [(organization_from_row(row), row["paper_count"]) for row in rows]
