"""Routes: votes (form posts and their JSON twins under /api).

Submissions, curators' feed controls and metadata refresh live in
:mod:`paperwire.web.curation`, included into this router.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from paperwire.community import votes
from paperwire.feed.service import canonical_paper_id
from paperwire.models import User
from paperwire.web import curation
from paperwire.web.auth import UserDep, safe_next
from paperwire.web.curation import check_limits
from paperwire.web.deps import ContextDep
from paperwire.web.urls import paper_path

router = APIRouter()
router.include_router(curation.router)

VOTE_ANSWER = {
    "description": "The vote's state after the request, and the paper's upvotes.",
    "content": {
        "application/json": {
            "example": {"paperId": "2510.01459", "voted": True, "upvotes": 42},
        }
    },
}
NextField = Annotated[str | None, Form(alias="next", max_length=2000)]


def _vote(
    request: Request, context: ContextDep, user: User, paper_id: str, voted: bool
) -> votes.VoteState:
    settings = context.settings
    # the rate limit's counters and the vote are both writes: queued together (SQLite)
    with votes.write_gate(context.engine):
        check_limits(
            request, context, "vote", user, settings.rate_limit_vote, settings.rate_limit_vote_ip
        )
        return votes.set_vote(context.engine, user, canonical_paper_id(paper_id), voted)


@router.post(
    "/api/papers/{paper_id:path}/vote",
    summary="Upvote a paper",
    tags=["community"],
    responses={200: VOTE_ANSWER},
)
def api_upvote(
    request: Request, context: ContextDep, user: UserDep, paper_id: str
) -> dict[str, Any]:
    """One vote per member and paper: voting again changes nothing (idempotent)."""
    return _vote(request, context, user, paper_id, True).as_json()


@router.delete(
    "/api/papers/{paper_id:path}/vote",
    summary="Withdraw an upvote",
    tags=["community"],
    responses={200: VOTE_ANSWER},
)
def api_unvote(
    request: Request, context: ContextDep, user: UserDep, paper_id: str
) -> dict[str, Any]:
    """Withdrawing a vote that is not there changes nothing (idempotent)."""
    return _vote(request, context, user, paper_id, False).as_json()


@router.post("/papers/{paper_id:path}/vote", include_in_schema=False)
def form_vote(
    request: Request,
    context: ContextDep,
    user: UserDep,
    paper_id: str,
    action: Annotated[Literal["up", "down"], Form()] = "up",
    next_page: NextField = None,
) -> RedirectResponse:
    """The vote button without JavaScript: vote or withdraw, then back where it was."""
    state = _vote(request, context, user, paper_id, action == "up")
    return RedirectResponse(safe_next(next_page, paper_path(state.paper_id)), status_code=303)
