"""Author claims: a member's claim to be one of a paper's authors, and its status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from paperwire.clock import as_utc
from paperwire.store.schema import author_claims, papers, users


class ClaimStatus(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Claim:
    id: int
    paper_id: str
    paper_title: str
    user_id: int
    username: str
    author_name: str
    status: ClaimStatus
    created_at: datetime
    decided_at: datetime | None = None

    @property
    def is_pending(self) -> bool:
        return self.status is ClaimStatus.PENDING

    @property
    def is_verified(self) -> bool:
        return self.status is ClaimStatus.VERIFIED

    @property
    def is_rejected(self) -> bool:
        return self.status is ClaimStatus.REJECTED


def _claim_select() -> Any:
    return (
        select(
            author_claims.c.id,
            author_claims.c.paper_id,
            papers.c.title.label("paper_title"),
            author_claims.c.user_id,
            users.c.username,
            author_claims.c.author_name,
            author_claims.c.status,
            author_claims.c.created_at,
            author_claims.c.decided_at,
        )
        .join(papers, papers.c.id == author_claims.c.paper_id)
        .join(users, users.c.id == author_claims.c.user_id)
    )


def _claim_from_row(row: RowMapping) -> Claim:
    created = as_utc(row["created_at"])
    assert created is not None  # the column is NOT NULL
    return Claim(
        id=row["id"],
        paper_id=row["paper_id"],
        paper_title=row["paper_title"],
        user_id=row["user_id"],
        username=row["username"],
        author_name=row["author_name"],
        status=ClaimStatus(row["status"]),
        created_at=created,
        decided_at=as_utc(row["decided_at"]),
    )


def create_claim(
    conn: Connection, *, paper_id: str, user_id: int, author_name: str, now: datetime
) -> int | None:
    """Insert a pending claim; None when the user already has one on this paper.

    The unique constraint on (paper, user), not a prior read, rules out a second claim.
    """
    values = {
        "paper_id": paper_id,
        "user_id": user_id,
        "author_name": author_name,
        "status": ClaimStatus.PENDING.value,
        "created_at": now,
    }
    try:
        with conn.begin_nested():
            key = conn.execute(insert(author_claims).values(values)).inserted_primary_key
    except IntegrityError:
        return None
    assert key is not None
    return int(key[0])


def get_claim(conn: Connection, claim_id: int) -> Claim | None:
    row = conn.execute(_claim_select().where(author_claims.c.id == claim_id)).mappings().first()
    return _claim_from_row(row) if row else None


def claim_of(conn: Connection, paper_id: str, user_id: int) -> Claim | None:
    """A user's claim on a paper, if any."""
    row = (
        conn.execute(
            _claim_select().where(
                author_claims.c.paper_id == paper_id, author_claims.c.user_id == user_id
            )
        )
        .mappings()
        .first()
    )
    return _claim_from_row(row) if row else None


def claims_for_paper(
    conn: Connection, paper_id: str, status: ClaimStatus | None = None
) -> list[Claim]:
    """A paper's claims (of one status when given), in the order they were made."""
    stmt = _claim_select().where(author_claims.c.paper_id == paper_id)
    if status is not None:
        stmt = stmt.where(author_claims.c.status == status.value)
    rows = conn.execute(stmt.order_by(author_claims.c.id)).mappings()
    return [_claim_from_row(row) for row in rows]


def claims_with_status(
    conn: Connection, status: ClaimStatus, *, limit: int, offset: int = 0
) -> list[Claim]:
    """Claims of a status, oldest first (the curators' queue)."""
    rows = conn.execute(
        _claim_select()
        .where(author_claims.c.status == status.value)
        .order_by(author_claims.c.created_at, author_claims.c.id)
        .limit(limit)
        .offset(offset)
    ).mappings()
    return [_claim_from_row(row) for row in rows]


def count_with_status(conn: Connection, status: ClaimStatus) -> int:
    stmt = select(func.count()).where(author_claims.c.status == status.value)
    return int(conn.execute(stmt).scalar_one())


def claims_of_user(
    conn: Connection, user_id: int, status: ClaimStatus | None = None
) -> list[Claim]:
    """A user's claims, newest first (for profile pages: ``VERIFIED`` ones are their papers)."""
    stmt = _claim_select().where(author_claims.c.user_id == user_id)
    if status is not None:
        stmt = stmt.where(author_claims.c.status == status.value)
    rows = conn.execute(stmt.order_by(author_claims.c.created_at.desc())).mappings()
    return [_claim_from_row(row) for row in rows]


def change_status(
    conn: Connection,
    claim_id: int,
    *,
    allowed_from: tuple[ClaimStatus, ...],
    to: ClaimStatus,
    decided_by: int | None,
    now: datetime | None,
) -> bool:
    """Move a claim to ``to`` if it is still in one of ``allowed_from``.

    The condition is in the UPDATE itself, so two curators deciding at once cannot both
    win; returns whether this call changed the claim.
    """
    result = conn.execute(
        update(author_claims)
        .where(
            author_claims.c.id == claim_id,
            author_claims.c.status.in_([status.value for status in allowed_from]),
        )
        .values(status=to.value, decided_by=decided_by, decided_at=now)
    )
    return bool(result.rowcount)


def delete_claim(conn: Connection, claim_id: int, *, status: ClaimStatus) -> bool:
    """Delete a claim that still has ``status``; returns whether it did."""
    result = conn.execute(
        delete(author_claims).where(
            author_claims.c.id == claim_id, author_claims.c.status == status.value
        )
    )
    return bool(result.rowcount)


def verified_authors(conn: Connection, paper_id: str) -> list[tuple[str, str, int]]:
    """(author name, username, user id) of a paper's verified claims."""
    rows = conn.execute(
        select(author_claims.c.author_name, users.c.username, users.c.id)
        .join(users, users.c.id == author_claims.c.user_id)
        .where(
            author_claims.c.paper_id == paper_id,
            author_claims.c.status == ClaimStatus.VERIFIED.value,
        )
        .order_by(author_claims.c.id)
    )
    return [(row.author_name, row.username, row.id) for row in rows]


def verified_user_ids(conn: Connection, paper_id: str) -> set[int]:
    """The users verified as authors of a paper (comments mark them)."""
    return {user_id for _name, _username, user_id in verified_authors(conn, paper_id)}


def is_verified_author(conn: Connection, paper_id: str, user_id: int) -> bool:
    found = conn.execute(
        select(author_claims.c.id).where(
            author_claims.c.paper_id == paper_id,
            author_claims.c.user_id == user_id,
            author_claims.c.status == ClaimStatus.VERIFIED.value,
        )
    ).first()
    return found is not None
