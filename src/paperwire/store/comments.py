"""Comments: rows, their authors, and the visible-comment count on papers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, RowMapping, func, insert, select, update

from paperwire.store.schema import author_claims, comments, papers, users

VERIFIED = "verified"  # author_claims.status of a claim a curator accepted


@dataclass(frozen=True, slots=True)
class StoredComment:
    id: int
    paper_id: str
    user_id: int
    parent_id: int | None
    body: str
    body_html: str
    created_at: datetime
    edited_at: datetime | None
    deleted_at: datetime | None
    hidden_at: datetime | None
    hidden_by: int | None
    username: str
    display_name: str | None

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def hidden(self) -> bool:
        return self.hidden_at is not None


_COLUMNS = (
    comments.c.id,
    comments.c.paper_id,
    comments.c.user_id,
    comments.c.parent_id,
    comments.c.body,
    comments.c.body_html,
    comments.c.created_at,
    comments.c.edited_at,
    comments.c.deleted_at,
    comments.c.hidden_at,
    comments.c.hidden_by,
    users.c.username,
    users.c.display_name,
)
_FROM = comments.join(users, users.c.id == comments.c.user_id)


def _from_row(row: RowMapping) -> StoredComment:
    return StoredComment(**dict(row))


def paper_exists(conn: Connection, paper_id: str) -> bool:
    return conn.execute(select(papers.c.id).where(papers.c.id == paper_id)).first() is not None


def get_comment(conn: Connection, comment_id: int) -> StoredComment | None:
    row = (
        conn.execute(select(*_COLUMNS).select_from(_FROM).where(comments.c.id == comment_id))
        .mappings()
        .first()
    )
    return _from_row(row) if row else None


def comments_of_paper(conn: Connection, paper_id: str) -> list[StoredComment]:
    """Every comment of a paper (deleted and hidden ones too), oldest first."""
    rows = conn.execute(
        select(*_COLUMNS)
        .select_from(_FROM)
        .where(comments.c.paper_id == paper_id)
        .order_by(comments.c.id)
    ).mappings()
    return [_from_row(row) for row in rows]


def parent_of(conn: Connection, comment_id: int) -> int | None:
    return conn.execute(
        select(comments.c.parent_id).where(comments.c.id == comment_id)
    ).scalar_one_or_none()


def insert_comment(
    conn: Connection,
    *,
    paper_id: str,
    user_id: int,
    parent_id: int | None,
    body: str,
    body_html: str,
    now: datetime,
) -> int:
    new_id = conn.execute(
        insert(comments).values(
            paper_id=paper_id,
            user_id=user_id,
            parent_id=parent_id,
            body=body,
            body_html=body_html,
            created_at=now,
        )
    ).inserted_primary_key
    assert new_id is not None
    return int(new_id[0])


def set_body(conn: Connection, comment_id: int, body: str, body_html: str, now: datetime) -> None:
    conn.execute(
        update(comments)
        .where(comments.c.id == comment_id)
        .values(body=body, body_html=body_html, edited_at=now)
    )


def mark_deleted(conn: Connection, comment_id: int, now: datetime) -> None:
    conn.execute(update(comments).where(comments.c.id == comment_id).values(deleted_at=now))


def set_hidden(
    conn: Connection, comment_id: int, hidden_by: int | None, now: datetime | None
) -> None:
    """Hide (``now`` and ``hidden_by`` given) or unhide (both ``None``) a comment."""
    conn.execute(
        update(comments)
        .where(comments.c.id == comment_id)
        .values(hidden_at=now, hidden_by=hidden_by)
    )


def recount(conn: Connection, paper_id: str) -> int:
    """Set ``papers.local_comments`` to the number of visible comments; return it."""
    visible = (
        select(func.count())
        .select_from(comments)
        .where(
            comments.c.paper_id == paper_id,
            comments.c.deleted_at.is_(None),
            comments.c.hidden_at.is_(None),
        )
        .scalar_subquery()
    )
    conn.execute(update(papers).where(papers.c.id == paper_id).values(local_comments=visible))
    return int(
        conn.execute(select(papers.c.local_comments).where(papers.c.id == paper_id)).scalar_one()
    )


def verified_authors(conn: Connection, paper_id: str) -> set[int]:
    """Ids of the users whose claim to be an author of the paper a curator verified."""
    rows = conn.execute(
        select(author_claims.c.user_id).where(
            author_claims.c.paper_id == paper_id, author_claims.c.status == VERIFIED
        )
    )
    return {int(row[0]) for row in rows}
