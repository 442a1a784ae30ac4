"""Routes: member profiles, ``/users/{username}`` and its JSON twin.

Included by :mod:`paperwire.web.accounts`' router. Anonymous profile pages are cached
per content version like every list; the member themself (signed in) sees more.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from paperwire.community import profiles
from paperwire.models import User
from paperwire.web.auth import ViewerDep, current_viewer
from paperwire.web.cache import cached
from paperwire.web.deps import ConnDep
from paperwire.web.pages import render
from paperwire.web.serialize import iso, organization_json, paper_json

router = APIRouter()

PageIndex = Annotated[int, Query(ge=0, le=10_000, description="Page number, from 0.")]


def user_json(user: User, *, private: bool = False) -> dict[str, Any]:
    """A user as the API shows them; ``private`` adds the id and email (the viewer's own)."""
    body: dict[str, Any] = {
        "username": user.username,
        "displayName": user.display_name,
        "role": user.role.value,
        "createdAt": iso(user.created_at),
    }
    if private:
        body = {"id": user.id, **body, "email": user.email}
    return body


@router.get("/users/{username}", response_class=HTMLResponse, include_in_schema=False)
def profile_page(
    request: Request,
    conn: ConnDep,
    username: str,
    submissions_p: PageIndex = 0,
    upvotes_p: PageIndex = 0,
    claims_p: PageIndex = 0,
) -> Response:
    page_numbers = profiles.ProfilePages(submissions_p, upvotes_p, claims_p)

    def page_url(key: str, page: int) -> str:
        """This page with list ``key`` at ``page``, the other lists where they are."""
        numbers = {"submissions": submissions_p, "upvotes": upvotes_p, "claims": claims_p}
        numbers[key] = page
        query = urlencode({f"{name}_p": number for name, number in numbers.items() if number})
        return f"?{query}#{key}"

    def build() -> Response:
        found = profiles.profile(
            conn, username, current_viewer(request), limit=profiles.MAX_LIMIT, pages=page_numbers
        )
        return render(request, "profile.html", profile=found, page_url=page_url)

    return cached(request, conn, build)


def _list_json(
    items: profiles.ProfileList[Any], item_json: Callable[[Any], dict[str, Any]]
) -> dict[str, Any]:
    return {
        "total": items.total,
        "page": items.page,
        "hasMore": items.has_more,
        "items": [item_json(item) for item in items.items],
    }


def profile_json(found: profiles.Profile) -> dict[str, Any]:
    return {
        **user_json(found.user),
        "organizations": [organization_json(org) for org in found.organizations],
        "submissions": _list_json(
            found.submissions,
            lambda s: {"featuredOn": s.feed_date.isoformat(), "paper": paper_json(s.paper)},
        ),
        "upvotes": _list_json(
            found.upvotes, lambda u: {"votedAt": iso(u.voted_at), "paper": paper_json(u.paper)}
        ),
        "claims": _list_json(
            found.claims,
            lambda c: {
                "authorName": c.author_name,
                "status": c.status,
                "createdAt": iso(c.created_at),
                "decidedAt": iso(c.decided_at),
                "paper": paper_json(c.paper),
            },
        ),
    }


@router.get(
    "/api/users/{username}",
    summary="A member's profile: submissions, upvotes, claimed papers, organizations",
    tags=["accounts"],
)
def profile_api(
    conn: ConnDep,
    viewer: ViewerDep,
    username: str,
    limit: Annotated[
        int, Query(ge=1, le=profiles.MAX_LIMIT, description="Items per list.")
    ] = profiles.MAX_LIMIT,
    submissions_p: PageIndex = 0,
    upvotes_p: PageIndex = 0,
    claims_p: PageIndex = 0,
) -> dict[str, Any]:
    """Public: never the email. The member themself also sees pending and rejected claims.
    Each list pages on its own (``submissions_p``, ``upvotes_p``, ``claims_p``)."""
    page_numbers = profiles.ProfilePages(submissions_p, upvotes_p, claims_p)
    found = profiles.profile(conn, username, viewer, limit=limit, pages=page_numbers)
    return profile_json(found)
