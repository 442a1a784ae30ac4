"""Papers: batched upserts for importers and reads for pages, the API and the CLI."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, RowMapping, bindparam, delete, func, select, update

from paperwire.clock import as_utc, utcnow
from paperwire.ingest.merge import MERGED_FIELDS, as_stored, merge
from paperwire.models import Link, LinkKind, Paper
from paperwire.store.organizations import organization_from_prefixed
from paperwire.store.schema import links, organizations, paper_authors, papers
from paperwire.store.sql import chunks, insert_ignoring_conflicts

IN_CHUNK = 500
_STORED_FIELDS = ("source", "version", "submitted_at", "updated_at", *MERGED_FIELDS)


@dataclass(slots=True)
class UpsertResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    changed_ids: list[str] = field(default_factory=list)  # inserted or updated
    retext_ids: list[str] = field(default_factory=list)  # new title or abstract: re-embed


def _stored_fields(row: RowMapping) -> dict[str, Any]:
    fields = {name: row[name] for name in _STORED_FIELDS}
    fields["id"] = row["id"]
    fields["submitted_at"] = as_utc(row["submitted_at"])
    fields["updated_at"] = as_utc(row["updated_at"])
    return fields


def _row_values(fields: dict[str, Any]) -> dict[str, Any]:
    values = {name: fields.get(name) for name in _STORED_FIELDS}
    values["primary_category"] = fields["categories"][0] if fields["categories"] else None
    return values


def _author_rows(paper_id: str, authors: list[str]) -> list[dict[str, Any]]:
    return [
        {"paper_id": paper_id, "position": i, "name": name, "name_key": name.casefold()}
        for i, name in enumerate(authors)
    ]


def upsert_papers(
    conn: Connection, incoming: list[dict[str, Any]]
) -> tuple[UpsertResult, dict[str, dict[str, Any]]]:
    """Insert new papers and merge newer metadata into stored ones.

    ``incoming`` holds one field dict per paper (already merged within the batch). Returns
    the counts and, for papers whose abstract or comments changed, their new fields (their
    extracted links need a refresh).
    """
    result = UpsertResult()
    stored: dict[str, dict[str, Any]] = {}
    for ids in chunks([fields["id"] for fields in incoming], IN_CHUNK):
        for row in conn.execute(select(papers).where(papers.c.id.in_(ids))).mappings():
            stored[row["id"]] = _stored_fields(row)

    now = utcnow()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    author_rows: list[dict[str, Any]] = []
    authors_changed: list[str] = []
    text_changed: dict[str, dict[str, Any]] = {}
    for fields in incoming:
        old = stored.get(fields["id"])
        if old is None:
            fields = as_stored(fields)
            inserts.append(
                {"id": fields["id"], **_row_values(fields), "created_at": now, "modified_at": now}
            )
            author_rows.extend(_author_rows(fields["id"], fields["authors"]))
            text_changed[fields["id"]] = fields
            result.retext_ids.append(fields["id"])
            continue
        merged = merge(old, fields)
        if merged == old:
            result.unchanged += 1
            continue
        updates.append({"_id": fields["id"], **_row_values(merged), "modified_at": now})
        if merged["authors"] != old["authors"]:
            authors_changed.append(fields["id"])
            author_rows.extend(_author_rows(fields["id"], merged["authors"]))
        if (merged["abstract"], merged["comments"]) != (old["abstract"], old["comments"]):
            text_changed[fields["id"]] = merged
        if (merged["title"], merged["abstract"]) != (old["title"], old["abstract"]):
            result.retext_ids.append(fields["id"])

    if inserts:
        conn.execute(papers.insert(), inserts)
    if updates:
        conn.execute(
            update(papers)
            .where(papers.c.id == bindparam("_id"))
            .values({name: bindparam(name) for name in updates[0] if name != "_id"}),
            updates,
        )
    for ids in chunks(authors_changed, IN_CHUNK):
        conn.execute(delete(paper_authors).where(paper_authors.c.paper_id.in_(ids)))
    if author_rows:
        conn.execute(paper_authors.insert(), author_rows)
    result.inserted, result.updated = len(inserts), len(updates)
    result.changed_ids = [row["id"] for row in inserts] + [row["_id"] for row in updates]
    return result, text_changed


def add_links(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Add typed links (``paper_id``, ``kind``, ``url``, ``origin``); known URLs are kept."""
    if rows:
        conn.execute(insert_ignoring_conflicts(conn, links), rows)


def replace_extracted_links(conn: Connection, extracted: dict[str, list[Link]]) -> None:
    """Make each paper's extracted links exactly ``extracted[paper_id]``; stated links stay."""
    for ids in chunks(list(extracted), IN_CHUNK):
        rows = conn.execute(
            select(links.c.id, links.c.paper_id, links.c.url).where(
                links.c.paper_id.in_(ids), links.c.origin == "extracted"
            )
        ).all()
        stale = [r.id for r in rows if r.url not in {link.url for link in extracted[r.paper_id]}]
        for stale_ids in chunks(stale, IN_CHUNK):
            conn.execute(delete(links).where(links.c.id.in_(stale_ids)))
    add_links(
        conn,
        [
            {"paper_id": pid, "kind": link.kind.value, "url": link.url, "origin": "extracted"}
            for pid, found in extracted.items()
            for link in found
        ],
    )


def raise_imported_upvotes(conn: Connection, upvotes: dict[str, int]) -> None:
    """Keep, per paper, the highest upvote count any import reported."""
    stmt = (
        update(papers)
        .where(papers.c.id == bindparam("_id"), papers.c.imported_upvotes < bindparam("_votes"))
        .values(imported_upvotes=bindparam("_votes"))
    )
    if upvotes:
        conn.execute(stmt, [{"_id": pid, "_votes": votes} for pid, votes in upvotes.items()])


def set_missing_organizations(conn: Connection, organization_ids: dict[str, int]) -> None:
    """Link papers to an organization where they have none yet."""
    stmt = (
        update(papers)
        .where(papers.c.id == bindparam("_id"), papers.c.organization_id.is_(None))
        .values(organization_id=bindparam("_org"))
    )
    if organization_ids:
        conn.execute(stmt, [{"_id": pid, "_org": oid} for pid, oid in organization_ids.items()])


# --- reads -------------------------------------------------------------------------------

_PAPER_COLUMNS = [
    *(papers.c[name] for name in ("id", *_STORED_FIELDS)),
    papers.c.imported_upvotes,
    papers.c.local_upvotes,
    organizations.c.id.label("org_id"),
    organizations.c.slug.label("org_slug"),
    organizations.c.name.label("org_name"),
    organizations.c.avatar_url.label("org_avatar_url"),
]
PAPERS_WITH_ORG = papers.outerjoin(organizations, organizations.c.id == papers.c.organization_id)


def paper_select() -> Any:
    """A SELECT of everything a :class:`Paper` needs; callers add WHERE and ORDER BY."""
    return select(*_PAPER_COLUMNS).select_from(PAPERS_WITH_ORG)


def paper_from_row(row: RowMapping, paper_links: list[Link] | None = None) -> Paper:
    organization = organization_from_prefixed(row, "org_")
    return Paper(
        id=row["id"],
        source=row["source"],
        version=row["version"],
        title=row["title"],
        abstract=row["abstract"],
        authors=list(row["authors"]),
        categories=list(row["categories"]),
        submitted_at=as_utc(row["submitted_at"]),
        updated_at=as_utc(row["updated_at"]),
        comments=row["comments"],
        journal_ref=row["journal_ref"],
        doi=row["doi"],
        license=row["license"],
        url=row["url"],
        venue=row["venue"],
        thumbnail_url=row["thumbnail_url"],
        organization=organization,
        upvotes=row["imported_upvotes"] + row["local_upvotes"],
        links=paper_links or [],
    )


def links_for(conn: Connection, paper_ids: Iterable[str]) -> dict[str, list[Link]]:
    """Each paper's links: stated ones before extracted ones, then in the order found."""
    found: dict[str, list[Link]] = defaultdict(list)
    for ids in chunks(list(paper_ids), IN_CHUNK):
        rows = conn.execute(
            select(links.c.paper_id, links.c.kind, links.c.url)
            .where(links.c.paper_id.in_(ids))
            .order_by(links.c.paper_id, links.c.origin.desc(), links.c.id)
        )
        for paper_id, kind, url in rows:
            found[paper_id].append(Link(LinkKind(kind), url))
    return found


def get_paper(conn: Connection, paper_id: str) -> Paper | None:
    row = conn.execute(paper_select().where(papers.c.id == paper_id)).mappings().first()
    if row is None:
        return None
    return paper_from_row(row, links_for(conn, [paper_id]).get(paper_id, []))


def papers_by_ids(conn: Connection, paper_ids: list[str]) -> dict[str, Paper]:
    """Papers with their links, keyed by id (missing ids are absent)."""
    paper_links = links_for(conn, paper_ids)
    found: dict[str, Paper] = {}
    for ids in chunks(paper_ids, IN_CHUNK):
        for row in conn.execute(paper_select().where(papers.c.id.in_(ids))).mappings():
            found[row["id"]] = paper_from_row(row, paper_links.get(row["id"], []))
    return found


def count_papers(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(papers)).scalar_one())


def papers_by_author(
    conn: Connection, name: str, *, limit: int, offset: int = 0
) -> tuple[list[Paper], int]:
    """Papers listing an author (matched case-insensitively), newest first, and their count."""
    key = name.casefold()
    by_author = select(paper_authors.c.paper_id).where(paper_authors.c.name_key == key)
    total = conn.execute(
        select(func.count(func.distinct(paper_authors.c.paper_id))).where(
            paper_authors.c.name_key == key
        )
    ).scalar_one()
    rows = list(
        conn.execute(
            paper_select()
            .where(papers.c.id.in_(by_author))
            .order_by(papers.c.submitted_at.desc(), papers.c.id)
            .limit(limit)
            .offset(offset)
        ).mappings()
    )
    paper_links = links_for(conn, [row["id"] for row in rows])
    return [paper_from_row(row, paper_links.get(row["id"], [])) for row in rows], int(total)
