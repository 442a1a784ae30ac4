"""Routes: organizations, author claims and paper edits (pages, form posts, JSON twins).

Form posts answer ``303`` to the form's ``next`` (a same-site path) and work without
JavaScript; each has a JSON route under ``/api`` that does the same through the same
service call. Writes run in one transaction each (``engine.begin()``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from paperwire.community import claims as claim_service
from paperwire.community import edits as edit_service
from paperwire.community import organizations as org_service
from paperwire.context import Context
from paperwire.errors import UserError
from paperwire.feed import service as feed_service
from paperwire.models import Paper, User
from paperwire.store.claims import Claim, ClaimStatus
from paperwire.store.organizations import Member
from paperwire.web.auth import AdminDep, CuratorDep, UserDep, ViewerDep, safe_next
from paperwire.web.deps import ConnDep, ContextDep
from paperwire.web.pages import render
from paperwire.web.serialize import iso, organization_json, paper_json
from paperwire.web.urls import organization_path, paper_path

router = APIRouter()
api = APIRouter(prefix="/api", tags=["community"])

Limit = Annotated[int, Query(ge=1, le=100, description="Items per page.")]
PageIndex = Annotated[int, Query(ge=0, le=10_000, description="Page number, from 0.")]
Next = Annotated[str | None, Form(alias="next", max_length=2000)]
ShortField = Annotated[str, Form(max_length=4000)]


def _redirect(target: str | None, default: str) -> RedirectResponse:
    return RedirectResponse(safe_next(target, default), status_code=303)


# --- JSON shapes ---------------------------------------------------------------------------


def member_json(member: Member) -> dict[str, Any]:
    return {
        "username": member.username,
        "displayName": member.display_name,
        "joinedAt": iso(member.joined_at),
    }


def claim_json(claim: Claim) -> dict[str, Any]:
    return {
        "id": claim.id,
        "paperId": claim.paper_id,
        "paperTitle": claim.paper_title,
        "user": {"username": claim.username},
        "author": claim.author_name,
        "status": claim.status.value,
        "createdAt": iso(claim.created_at),
        "decidedAt": iso(claim.decided_at),
    }


class NewOrganization(BaseModel):
    model_config = ConfigDict(extra="forbid")
    slug: str = Field(max_length=200, description="Lowercase letters, digits and '-'.")
    name: str = Field(max_length=1000, description="The full name shown on pages.")
    avatar: str | None = Field(default=None, max_length=4000, description="An http(s) URL.")


class PaperChanges(BaseModel):
    """Fields left out stay as they are; null or "" removes the link or organization."""

    model_config = ConfigDict(extra="forbid")
    github_repo: str | None = Field(default=None, alias="githubRepo", max_length=4000)
    project_page: str | None = Field(default=None, alias="projectPage", max_length=4000)
    organization: str | None = Field(default=None, max_length=200, description="A slug.")


class NewClaim(BaseModel):
    model_config = ConfigDict(extra="forbid")
    author: str = Field(max_length=1000, description="Which of the paper's authors you are.")


# --- organizations -------------------------------------------------------------------------


@api.post("/organizations", status_code=201, summary="Create an organization (admins)")
def create_organization_api(
    context: ContextDep, admin: AdminDep, body: NewOrganization
) -> dict[str, Any]:
    with context.engine.begin() as conn:
        created = org_service.create_organization(
            conn, admin, slug=body.slug, name=body.name, avatar_url=body.avatar
        )
    shown = organization_json(created)
    assert shown is not None  # given an organization, never None
    return shown


@api.get("/organizations/{slug}/members", summary="An organization's members, earliest first")
def members_api(conn: ConnDep, slug: str, limit: Limit = 100, p: PageIndex = 0) -> dict[str, Any]:
    found = org_service.members(conn, slug, limit=limit, offset=p * limit)
    return {
        "organization": found.organization.slug,
        "numMembers": found.total,
        "members": [member_json(member) for member in found.members],
    }


def _membership(context: Context, user: User, slug: str, *, join: bool) -> dict[str, Any]:
    with context.engine.begin() as conn:
        if join:
            changed = org_service.join(conn, user, slug)
        else:
            changed = org_service.leave(conn, user, slug)
        found = org_service.members(conn, slug, limit=1)
    return {
        "organization": found.organization.slug,
        "member": join,
        "changed": changed,
        "numMembers": found.total,
    }


@api.post("/organizations/{slug}/members", summary="Join an organization")
def join_api(context: ContextDep, user: UserDep, slug: str) -> dict[str, Any]:
    """Idempotent: joining again changes nothing (`changed` is false)."""
    return _membership(context, user, slug, join=True)


@api.delete("/organizations/{slug}/members", summary="Leave an organization")
def leave_api(context: ContextDep, user: UserDep, slug: str) -> dict[str, Any]:
    """Idempotent: leaving when not a member changes nothing (`changed` is false)."""
    return _membership(context, user, slug, join=False)


@router.get("/organizations/new", response_class=HTMLResponse, include_in_schema=False)
def new_organization_page(request: Request, admin: AdminDep) -> Response:
    return render(request, "organization_new.html", error=None, values={})


@router.post("/organizations/new", include_in_schema=False)
def new_organization_post(
    request: Request,
    context: ContextDep,
    admin: AdminDep,
    slug: ShortField = "",
    name: ShortField = "",
    avatar: ShortField = "",
) -> Response:
    values = {"slug": slug, "name": name, "avatar": avatar}
    try:
        with context.engine.begin() as conn:
            created = org_service.create_organization(
                conn, admin, slug=slug, name=name, avatar_url=avatar
            )
    except UserError as error:
        return render(
            request,
            "organization_new.html",
            status_code=error.status_code,
            error=error.message,
            values=values,
        )
    return RedirectResponse(organization_path(created.slug), status_code=303)


@router.post("/organizations/{slug}/join", include_in_schema=False)
def join_post(context: ContextDep, user: UserDep, slug: str, next_: Next = None) -> Response:
    _membership(context, user, slug, join=True)
    return _redirect(next_, organization_path(slug))


@router.post("/organizations/{slug}/leave", include_in_schema=False)
def leave_post(context: ContextDep, user: UserDep, slug: str, next_: Next = None) -> Response:
    _membership(context, user, slug, join=False)
    return _redirect(next_, organization_path(slug))


# --- editing a paper -----------------------------------------------------------------------


@api.patch(
    "/papers/{paper_id:path}",
    summary="Edit a paper's code link, project page or organization",
    response_model=dict[str, Any],
)
def edit_paper_api(
    context: ContextDep, user: UserDep, paper_id: str, body: PaperChanges
) -> dict[str, Any]:
    """For the paper's submitter, a verified author or a curator. Submitters and authors
    may link only organizations they are members of. Answers the paper as
    `GET /api/papers/{paper_id}` does."""
    given = body.model_fields_set
    with context.engine.begin() as conn:
        paper = edit_service.edit_paper(
            conn,
            user,
            feed_service.canonical_paper_id(paper_id),
            code=body.github_repo if "github_repo" in given else edit_service.KEEP,
            project=body.project_page if "project_page" in given else edit_service.KEEP,
            organization=body.organization if "organization" in given else edit_service.KEEP,
        )
        detail = feed_service.paper_detail(conn, paper.id)
    assert detail is not None  # read in the transaction that edited it
    body_json = paper_json(detail.paper)  # shaped like GET /api/papers/{paper_id}
    body_json["featuredOn"] = [day.isoformat() for day in detail.featured_on]
    return body_json


def _edit_form(
    request: Request,
    context: Context,
    user: User,
    paper_id: str,
    *,
    values: dict[str, str] | None = None,
    error: UserError | None = None,
) -> Response:
    with context.engine.connect() as conn:
        form = edit_service.edit_form(conn, user, paper_id)
    if values is None:
        values = {
            "github_repo": form.code,
            "project_page": form.project,
            "organization": form.organization,
        }
    return render(
        request,
        "paper_edit.html",
        status_code=error.status_code if error else 200,
        paper=form.paper,
        values=values,
        choices=form.choices,
        error=error.message if error else None,
    )


@router.get("/papers/{paper_id:path}/edit", response_class=HTMLResponse, include_in_schema=False)
def edit_paper_page(
    request: Request, context: ContextDep, user: UserDep, paper_id: str
) -> Response:
    return _edit_form(request, context, user, feed_service.canonical_paper_id(paper_id))


@router.post("/papers/{paper_id:path}/edit", include_in_schema=False)
def edit_paper_post(
    request: Request,
    context: ContextDep,
    user: UserDep,
    paper_id: str,
    github_repo: ShortField = "",
    project_page: ShortField = "",
    organization: ShortField = "",
) -> Response:
    canonical = feed_service.canonical_paper_id(paper_id)
    values = {
        "github_repo": github_repo,
        "project_page": project_page,
        "organization": organization,
    }
    paper: Paper
    try:
        with context.engine.begin() as conn:
            paper = edit_service.edit_paper(
                conn,
                user,
                canonical,
                code=github_repo,
                project=project_page,
                organization=organization,
            )
    except UserError as error:
        if error.status_code == 404:
            raise
        return _edit_form(request, context, user, canonical, values=values, error=error)
    return RedirectResponse(paper_path(paper.id), status_code=303)


# --- author claims -------------------------------------------------------------------------


@api.post("/papers/{paper_id:path}/claims", status_code=201, summary="Claim authorship of a paper")
def claim_api(context: ContextDep, user: UserDep, paper_id: str, body: NewClaim) -> dict[str, Any]:
    """The claim is pending until a curator verifies or rejects it."""
    with context.engine.begin() as conn:
        claim = claim_service.claim(
            conn, user, feed_service.canonical_paper_id(paper_id), body.author
        )
    return claim_json(claim)


@api.get(
    "/papers/{paper_id:path}/claims",
    summary="A paper's author claims",
    response_model=list[dict[str, Any]],
)
def paper_claims_api(conn: ConnDep, viewer: ViewerDep, paper_id: str) -> list[dict[str, Any]]:
    """Verified claims for everyone; a member also sees their own; curators see all."""
    found = claim_service.paper_claims(conn, viewer, feed_service.canonical_paper_id(paper_id))
    return [claim_json(claim) for claim in found]


@api.get("/claims", summary="Author claims by status (curators)")
def claims_queue_api(
    conn: ConnDep,
    curator: CuratorDep,
    status: Literal["pending", "verified", "rejected"] = "pending",
    limit: Limit = 100,
    p: PageIndex = 0,
) -> dict[str, Any]:
    found, total = claim_service.queue(
        conn, curator, ClaimStatus(status), limit=limit, offset=p * limit
    )
    return {"status": status, "total": total, "claims": [claim_json(c) for c in found]}


Action = Literal["verify", "reject", "reopen", "withdraw"]


def _act(context: Context, user: User, claim_id: int, action: Action) -> Claim:
    with context.engine.begin() as conn:
        if action == "verify":
            return claim_service.verify(conn, user, claim_id)
        if action == "reject":
            return claim_service.reject(conn, user, claim_id)
        if action == "reopen":
            return claim_service.reopen(conn, user, claim_id)
        return claim_service.withdraw(conn, user, claim_id)


@api.post("/claims/{claim_id}/verify", summary="Verify a pending author claim (curators)")
def verify_api(context: ContextDep, user: CuratorDep, claim_id: int) -> dict[str, Any]:
    return claim_json(_act(context, user, claim_id, "verify"))


@api.post("/claims/{claim_id}/reject", summary="Reject an author claim (curators)")
def reject_api(context: ContextDep, user: CuratorDep, claim_id: int) -> dict[str, Any]:
    return claim_json(_act(context, user, claim_id, "reject"))


@api.post("/claims/{claim_id}/reopen", summary="Reopen your rejected author claim")
def reopen_api(context: ContextDep, user: UserDep, claim_id: int) -> dict[str, Any]:
    return claim_json(_act(context, user, claim_id, "reopen"))


@api.delete("/claims/{claim_id}", summary="Withdraw your pending author claim")
def withdraw_api(context: ContextDep, user: UserDep, claim_id: int) -> dict[str, Any]:
    claim = _act(context, user, claim_id, "withdraw")
    return {**claim_json(claim), "status": "withdrawn"}


@router.post("/papers/{paper_id:path}/claim", include_in_schema=False)
def claim_post(
    context: ContextDep,
    user: UserDep,
    paper_id: str,
    author: ShortField = "",
    next_: Next = None,
) -> Response:
    canonical = feed_service.canonical_paper_id(paper_id)
    with context.engine.begin() as conn:
        claim_service.claim(conn, user, canonical, author)
    return _redirect(next_, paper_path(canonical))


# The queue page sits beside its twin /api/claims (under /curate/ the curation router's
# /curate/{day} comes first and would take "claims" for a day).
@router.get("/claims", response_class=HTMLResponse, include_in_schema=False)
def claims_queue_page(
    request: Request, conn: ConnDep, curator: CuratorDep, p: PageIndex = 0
) -> Response:
    size = claim_service.MAX_QUEUE
    found, total = claim_service.queue(conn, curator, limit=size, offset=p * size)
    return render(
        request,
        "claims_queue.html",
        claims=found,
        total=total,
        p=p,
        has_more=(p + 1) * size < total,
    )


def _claim_form_route(action: Action) -> None:
    def post(context: ContextDep, user: UserDep, claim_id: int, next_: Next = None) -> Response:
        claim = _act(context, user, claim_id, action)
        return _redirect(next_, paper_path(claim.paper_id))

    router.add_api_route(
        f"/claims/{{claim_id}}/{action}",
        post,
        methods=["POST"],
        name=f"claim_{action}",
        include_in_schema=False,
    )


ACTIONS: tuple[Action, ...] = ("verify", "reject", "reopen", "withdraw")
for _action in ACTIONS:
    _claim_form_route(_action)

# One router for the app to include: the JSON routes first.
router.include_router(api)
