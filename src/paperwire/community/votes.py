"""Upvotes: one per user per paper (the primary key), undoable.

Voting twice, or withdrawing a vote that is not there, changes nothing and answers the
same state: the JSON routes are idempotent, and a double-clicked form does no harm.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine

from paperwire.clock import utcnow
from paperwire.community import curation
from paperwire.errors import NotFound
from paperwire.models import Paper, User
from paperwire.store import votes as vote_store
from paperwire.store.state import bump_content_version

# Callers that write more than the vote (the web edge counts rate limits) queue the
# whole request's writes together: see store.votes.write_gate.
write_gate = vote_store.write_gate


@dataclass(frozen=True, slots=True)
class VoteState:
    paper_id: str
    voted: bool
    upvotes: int  # imported plus local, as lists count them

    def as_json(self) -> dict[str, Any]:
        return {"paperId": self.paper_id, "voted": self.voted, "upvotes": self.upvotes}


def set_vote(engine: Engine, user: User, paper_id: str, voted: bool) -> VoteState:
    """Make ``user``'s vote on ``paper_id`` be ``voted``; the paper's count after it."""
    # Looked up apart from the write: on SQLite the write transaction then starts with its
    # INSERT/DELETE and takes the write lock at once (see store.votes.add_vote).
    with engine.connect() as conn:
        if not vote_store.paper_exists(conn, paper_id):
            raise NotFound(f"No paper with id {paper_id[:100]!r}.")
    with vote_store.write_gate(engine), engine.begin() as conn:
        if voted:
            changed = vote_store.add_vote(conn, user.id, paper_id, utcnow())
        else:
            changed = vote_store.remove_vote(conn, user.id, paper_id)
        if changed:
            bump_content_version(conn)  # every list showing the count is stale now
        upvotes = vote_store.paper_upvotes(conn, paper_id)
    return VoteState(paper_id, voted, upvotes or 0)


def upvote(engine: Engine, user: User, paper_id: str) -> VoteState:
    return set_vote(engine, user, paper_id, True)


def unvote(engine: Engine, user: User, paper_id: str) -> VoteState:
    return set_vote(engine, user, paper_id, False)


def voted_ids(conn: Connection, viewer: User | None, paper_ids: Iterable[str]) -> set[str]:
    """The papers among ``paper_ids`` that ``viewer`` upvoted (none for anonymous viewers)."""
    if viewer is None:
        return set()
    return vote_store.voted_among(conn, viewer.id, paper_ids)


def page_values(conn: Connection, paper: Paper, viewer: User | None) -> dict[str, Any]:
    """What the paper page shows about votes (and the refresh button) to ``viewer``."""
    if viewer is None:
        return {"voted": False, "can_refresh": False}
    return {
        "voted": vote_store.has_voted(conn, viewer.id, paper.id),
        "can_refresh": paper.is_arxiv and curation.may_refresh(conn, viewer, paper.id),
    }
