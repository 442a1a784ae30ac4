"""Votes: one row per user and paper, and the paper's count kept in step with the rows.

The ``votes`` primary key makes a second vote impossible; ``papers.local_upvotes`` moves
only when a row was really inserted or deleted (the statement's rowcount), in the same
transaction, so the count equals the rows under any concurrency, on SQLite (one writer
at a time) and on PostgreSQL (the row lock of the UPDATE orders concurrent changes).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Connection, Engine, delete, func, select, update

from paperwire.store.schema import papers, votes
from paperwire.store.sql import chunks, insert_ignoring_conflicts

IN_CHUNK = 500
_GATES: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()
_GATES_LOCK = threading.Lock()


@contextmanager
def write_gate(engine: Engine) -> Iterator[None]:
    """On SQLite, one thread of this process at a time in the block; elsewhere nothing.

    SQLite has one writer; a second waits in its busy handler, which sleeps and retries
    (up to 100 ms a try) and gives up after the busy timeout. With dozens of request
    threads voting at once, an unlucky thread lost every retry for over 5 s (a 500 in
    the vote storm), while the lock was free most of the time. Waiting here instead is a
    plain queue with no timeout; other processes still meet the busy handler, but as one
    writer each.
    """
    if engine.dialect.name != "sqlite":
        yield
        return
    with _GATES_LOCK:
        gate = _GATES.get(engine)
        if gate is None:
            gate = _GATES[engine] = threading.RLock()
    with gate:
        yield


def add_vote(conn: Connection, user_id: int, paper_id: str, now: datetime) -> bool:
    """Record a vote; False when the user had already voted (nothing changes then).

    The INSERT comes first so that, on SQLite, the transaction takes the write lock at
    once (waiting out the busy timeout) instead of failing to upgrade a read later.
    """
    inserted = conn.execute(
        insert_ignoring_conflicts(conn, votes).values(
            user_id=user_id, paper_id=paper_id, created_at=now
        )
    ).rowcount
    if inserted != 1:
        return False
    conn.execute(
        update(papers)
        .where(papers.c.id == paper_id)
        .values(local_upvotes=papers.c.local_upvotes + 1)
    )
    return True


def remove_vote(conn: Connection, user_id: int, paper_id: str) -> bool:
    """Withdraw a vote; False when there was none (nothing changes then)."""
    deleted = conn.execute(
        delete(votes).where(votes.c.user_id == user_id, votes.c.paper_id == paper_id)
    ).rowcount
    if deleted != 1:
        return False
    conn.execute(
        update(papers)
        .where(papers.c.id == paper_id)
        .values(local_upvotes=papers.c.local_upvotes - 1)
    )
    return True


def paper_upvotes(conn: Connection, paper_id: str) -> int | None:
    """Imported plus local upvotes of a paper; None when there is no such paper."""
    row = conn.execute(
        select(papers.c.imported_upvotes + papers.c.local_upvotes).where(papers.c.id == paper_id)
    ).first()
    return None if row is None else int(row[0])


def paper_exists(conn: Connection, paper_id: str) -> bool:
    return conn.execute(select(papers.c.id).where(papers.c.id == paper_id)).first() is not None


def has_voted(conn: Connection, user_id: int, paper_id: str) -> bool:
    found = conn.execute(
        select(votes.c.paper_id).where(votes.c.user_id == user_id, votes.c.paper_id == paper_id)
    ).first()
    return found is not None


def voted_among(conn: Connection, user_id: int, paper_ids: Iterable[str]) -> set[str]:
    """Which of ``paper_ids`` the user has voted for (for the pressed state on lists)."""
    found: set[str] = set()
    for part in chunks(list(dict.fromkeys(paper_ids)), IN_CHUNK):
        found.update(
            conn.execute(
                select(votes.c.paper_id).where(
                    votes.c.user_id == user_id, votes.c.paper_id.in_(part)
                )
            ).scalars()
        )
    return found


def count_votes(conn: Connection, paper_id: str) -> int:
    stmt = select(func.count()).select_from(votes).where(votes.c.paper_id == paper_id)
    return int(conn.execute(stmt).scalar_one())


def local_upvotes(conn: Connection, paper_id: str) -> int | None:
    value = conn.execute(
        select(papers.c.local_upvotes).where(papers.c.id == paper_id)
    ).scalar_one_or_none()
    return None if value is None else int(value)
