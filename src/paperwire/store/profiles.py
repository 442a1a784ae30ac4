"""What a profile page lists about one user: submissions, upvotes, claims, organizations.

Read-only queries, each returning one page of items and the total count; plus the one
profile field a user edits themself (their display name).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, func, select, update

from paperwire.clock import as_utc
from paperwire.models import Organization, Paper
from paperwire.store.organizations import organization_from_row
from paperwire.store.papers import links_for, paper_from_row, paper_select
from paperwire.store.schema import (
    author_claims,
    feed_entries,
    organization_members,
    organizations,
    papers,
    users,
    votes,
)

SUBMISSION = "submission"  # feed_entries.source of a member's submission


@dataclass(frozen=True, slots=True)
class Submission:
    paper: Paper
    feed_date: date


@dataclass(frozen=True, slots=True)
class Upvote:
    paper: Paper
    voted_at: datetime


@dataclass(frozen=True, slots=True)
class Claim:
    paper: Paper
    author_name: str
    status: str  # pending | verified | rejected
    created_at: datetime
    decided_at: datetime | None


def _papers(conn: Connection, rows: list[RowMapping]) -> list[Paper]:
    paper_links = links_for(conn, [row["id"] for row in rows])
    return [paper_from_row(row, paper_links.get(row["id"], [])) for row in rows]


def _count(conn: Connection, query: Any) -> int:
    return int(conn.execute(select(func.count()).select_from(query.subquery())).scalar_one())


def submissions(
    conn: Connection, user_id: int, *, limit: int, offset: int = 0
) -> tuple[list[Submission], int]:
    """Papers the user submitted (featured through the submission rules), newest first."""
    mine = (feed_entries.c.featured_by_user_id == user_id, feed_entries.c.source == SUBMISSION)
    total = _count(conn, select(feed_entries.c.id).where(*mine))
    rows = list(
        conn.execute(
            paper_select()
            .add_columns(feed_entries.c.feed_date.label("entry_feed_date"))
            .join(feed_entries, feed_entries.c.paper_id == papers.c.id)
            .where(*mine)
            .order_by(feed_entries.c.feed_date.desc(), feed_entries.c.id.desc())
            .limit(limit)
            .offset(offset)
        ).mappings()
    )
    found = _papers(conn, rows)
    return [
        Submission(paper, row["entry_feed_date"]) for paper, row in zip(found, rows, strict=True)
    ], total


def upvotes(
    conn: Connection, user_id: int, *, limit: int, offset: int = 0
) -> tuple[list[Upvote], int]:
    """Papers the user upvoted, the latest vote first."""
    total = _count(conn, select(votes.c.paper_id).where(votes.c.user_id == user_id))
    rows = list(
        conn.execute(
            paper_select()
            .add_columns(votes.c.created_at.label("voted_at"))
            .join(votes, votes.c.paper_id == papers.c.id)
            .where(votes.c.user_id == user_id)
            .order_by(votes.c.created_at.desc(), votes.c.paper_id)
            .limit(limit)
            .offset(offset)
        ).mappings()
    )
    found = _papers(conn, rows)
    return [
        Upvote(paper, as_utc(row["voted_at"]) or row["voted_at"])
        for paper, row in zip(found, rows, strict=True)
    ], total


def claims(
    conn: Connection, user_id: int, statuses: tuple[str, ...], *, limit: int, offset: int = 0
) -> tuple[list[Claim], int]:
    """The user's authorship claims with one of ``statuses``, newest first."""
    where = (author_claims.c.user_id == user_id, author_claims.c.status.in_(statuses))
    total = _count(conn, select(author_claims.c.id).where(*where))
    rows = list(
        conn.execute(
            paper_select()
            .add_columns(
                author_claims.c.author_name.label("claim_author_name"),
                author_claims.c.status.label("claim_status"),
                author_claims.c.created_at.label("claim_created_at"),
                author_claims.c.decided_at.label("claim_decided_at"),
            )
            .join(author_claims, author_claims.c.paper_id == papers.c.id)
            .where(*where)
            .order_by(author_claims.c.created_at.desc(), author_claims.c.id.desc())
            .limit(limit)
            .offset(offset)
        ).mappings()
    )
    found = _papers(conn, rows)
    return [
        Claim(
            paper=paper,
            author_name=row["claim_author_name"],
            status=row["claim_status"],
            created_at=as_utc(row["claim_created_at"]) or row["claim_created_at"],
            decided_at=as_utc(row["claim_decided_at"]),
        )
        for paper, row in zip(found, rows, strict=True)
    ], total


def organizations_of(conn: Connection, user_id: int, *, limit: int) -> list[Organization]:
    """Organizations the user is a member of, by name."""
    rows = conn.execute(
        select(organizations)
        .join(
            organization_members,
            organization_members.c.organization_id == organizations.c.id,
        )
        .where(organization_members.c.user_id == user_id)
        .order_by(organizations.c.name, organizations.c.id)
        .limit(limit)
    ).mappings()
    return [organization_from_row(row) for row in rows]


def set_display_name(conn: Connection, user_id: int, display_name: str | None) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(display_name=display_name))
