"""Routes: submissions, curators' feed controls and metadata refresh (pages, forms, /api).

Included into :mod:`paperwire.web.votes`'s router, so they come before the catch-all
``/papers/{paper_id:path}`` routes.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from paperwire import ratelimit
from paperwire.clock import utcnow
from paperwire.community import curation, submissions
from paperwire.context import Context
from paperwire.errors import RateLimited, UserError
from paperwire.feed.service import canonical_paper_id
from paperwire.models import User
from paperwire.web.auth import CuratorDep, UserDep, safe_next
from paperwire.web.deps import ContextDep
from paperwire.web.pages import render
from paperwire.web.serialize import paper_json
from paperwire.web.urls import paper_path

router = APIRouter()

PaperText = Annotated[str, Form(max_length=300)]
NextField = Annotated[str | None, Form(alias="next", max_length=2000)]


class SubmitBody(BaseModel):
    id: str = Field(
        max_length=300,
        description="An arXiv id or link: 2510.01459, arXiv:2510.01459v2, "
        "https://arxiv.org/abs/2510.01459, /pdf/2510.01459v1, hep-th/9901001.",
        examples=["2510.01459"],
    )


class FeatureBody(BaseModel):
    id: str = Field(max_length=300, description="An arXiv id or link, or a stored paper's id.")
    position: int | None = Field(
        default=None,
        ge=0,
        le=100_000,
        description="Where in the day's as-featured order (0 = first); after the last if absent.",
    )


class OrderBody(BaseModel):
    ids: list[str] = Field(
        max_length=10_000, description="Every paper of the day, once each, in the new order."
    )


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def check_limits(
    request: Request, context: Context, action: str, user: User, per_user: str, per_ip: str
) -> None:
    """Count this request against the per-account and per-IP limits (429 once spent)."""
    ratelimit.check(
        context.engine,
        action,
        [(per_user, f"user:{user.id}"), (per_ip, f"ip:{client_ip(request)}")],
        enabled=context.settings.rate_limits,
    )


def _limit_submissions(request: Request, context: Context, action: str, user: User) -> None:
    settings = context.settings
    per_user, per_ip = settings.rate_limit_submit, settings.rate_limit_submit_ip
    check_limits(request, context, action, user, per_user, per_ip)


def _anchor(paper_id: str) -> str:
    return "p-" + "".join(c if c.isalnum() else "-" for c in paper_id)


# --- submissions ---------------------------------------------------------------------------


def _submit(request: Request, context: Context, user: User, text: str) -> submissions.Submission:
    _limit_submissions(request, context, "submit", user)
    return submissions.submit(context.engine, context.arxiv, context.settings, user, text)


def _submit_page(
    request: Request, context: Context, status_code: int = 200, **values: Any
) -> HTMLResponse:
    settings = context.settings
    return render(
        request,
        "submit.html",
        status_code=status_code,
        max_age_days=settings.submission_max_age_days,
        daily_quota=settings.submission_daily_quota,
        today=utcnow().date(),
        **values,
    )


@router.get("/submit", response_class=HTMLResponse, include_in_schema=False)
def submit_page(request: Request, context: ContextDep, user: UserDep) -> Response:
    return _submit_page(request, context, value="", message=None)


@router.post("/submit", include_in_schema=False)
def submit_form(
    request: Request, context: ContextDep, user: UserDep, id: PaperText = ""
) -> Response:
    try:
        done = _submit(request, context, user, id)
    except UserError as error:
        response = _submit_page(
            request, context, error.status_code, value=id, message=error.message
        )
        if isinstance(error, RateLimited):
            response.headers["Retry-After"] = str(error.retry_after)
        return response
    return RedirectResponse(paper_path(done.paper.id), status_code=303)


@router.post(
    "/api/papers/submit",
    summary="Submit an arXiv paper to today's list",
    tags=["community"],
    status_code=201,
)
def api_submit(
    request: Request, context: ContextDep, user: UserDep, body: SubmitBody
) -> dict[str, Any]:
    """Fetches the paper from arXiv if needed and features it on today's list (UTC).

    Members: the first version at most `submission_max_age_days` old, never featured
    before, at most `submission_daily_quota` a day. Curators bypass these rules.
    """
    done = _submit(request, context, user, body.id)
    return {
        "paper": paper_json(done.paper),
        "day": done.day.isoformat(),
        "position": done.position,
        "fetched": done.fetched,
    }


# --- curators: a day's list ----------------------------------------------------------------


def _curate_page(
    request: Request, context: Context, day: date, status_code: int = 200, **values: Any
) -> HTMLResponse:
    with context.engine.connect() as conn:
        entries = curation.day_entries(conn, day)
    values.setdefault("message", None)
    values.setdefault("value", "")
    return render(
        request,
        "curate_day.html",
        status_code=status_code,
        day=day,
        entries=entries,
        previous_day=day - timedelta(days=1),
        next_day=day + timedelta(days=1),
        **values,
    )


@router.get("/curate/{day}", response_class=HTMLResponse, include_in_schema=False)
def curate_page(request: Request, context: ContextDep, user: CuratorDep, day: str) -> Response:
    return _curate_page(request, context, curation.parse_day(day))


@router.post("/curate/{day}/feature", include_in_schema=False)
def curate_feature_form(
    request: Request,
    context: ContextDep,
    user: CuratorDep,
    day: str,
    id: PaperText = "",
    position: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    when = curation.parse_day(day)
    try:
        # the page counts from 1; the API and the store from 0
        at = int(position) - 1 if position.strip() else None
        if at is not None and at < 0:
            raise UserError("Positions count from 1 (the top of the list).")
        curation.feature(context.engine, context.arxiv, user, when, id, at)
    except ValueError:
        return _curate_page(
            request, context, when, 400, message="A position is a whole number.", value=id
        )
    except UserError as error:
        return _curate_page(
            request, context, when, error.status_code, message=error.message, value=id
        )
    return RedirectResponse(f"/curate/{when.isoformat()}", status_code=303)


@router.post("/curate/{day}/remove", include_in_schema=False)
def curate_remove_form(
    context: ContextDep, user: CuratorDep, day: str, paper_id: PaperText = ""
) -> RedirectResponse:
    when = curation.parse_day(day)
    curation.unfeature(context.engine, user, when, paper_id)
    return RedirectResponse(f"/curate/{when.isoformat()}", status_code=303)


@router.post("/curate/{day}/move", include_in_schema=False)
def curate_move_form(
    context: ContextDep,
    user: CuratorDep,
    day: str,
    paper_id: PaperText = "",
    direction: Annotated[Literal["up", "down"], Form()] = "up",
) -> RedirectResponse:
    when = curation.parse_day(day)
    curation.move(context.engine, user, when, paper_id, direction)
    return RedirectResponse(
        f"/curate/{when.isoformat()}#{_anchor(canonical_paper_id(paper_id))}", status_code=303
    )


@router.post(
    "/api/feed/{day}/papers",
    summary="Feature a paper on a day (curators)",
    tags=["curation"],
    status_code=201,
)
def api_feature(
    context: ContextDep, user: CuratorDep, day: str, body: FeatureBody
) -> dict[str, Any]:
    """Fetches the paper from arXiv if it is not stored; no submission rules apply."""
    done = curation.feature(
        context.engine, context.arxiv, user, curation.parse_day(day), body.id, body.position
    )
    return {
        "paper": paper_json(done.paper),
        "day": done.day.isoformat(),
        "position": done.position,
        "fetched": done.fetched,
    }


@router.delete(
    "/api/feed/{day}/papers/{paper_id:path}",
    summary="Remove a paper from a day's list (curators)",
    tags=["curation"],
)
def api_unfeature(context: ContextDep, user: CuratorDep, day: str, paper_id: str) -> dict[str, Any]:
    when = curation.parse_day(day)
    curation.unfeature(context.engine, user, when, paper_id)
    return {"day": when.isoformat(), "paperId": canonical_paper_id(paper_id), "featured": False}


@router.put(
    "/api/feed/{day}/order",
    summary="Order a day's list (curators)",
    tags=["curation"],
)
def api_reorder(context: ContextDep, user: CuratorDep, day: str, body: OrderBody) -> dict[str, Any]:
    """The order is the list's "date" (as featured) order and breaks ties between equal
    upvote counts in the default order. `ids` must name exactly the day's papers."""
    when = curation.parse_day(day)
    order = curation.reorder(context.engine, user, when, body.ids)
    return {"day": when.isoformat(), "ids": order}


# --- metadata refresh ----------------------------------------------------------------------


def _refresh(request: Request, context: Context, user: User, paper_id: str) -> curation.Refreshed:
    _limit_submissions(request, context, "refresh", user)
    return curation.refresh(context.engine, context.arxiv, user, paper_id)


@router.post(
    "/api/papers/{paper_id:path}/refresh",
    summary="Refresh a paper's metadata from arXiv",
    tags=["community"],
)
def api_refresh(
    request: Request, context: ContextDep, user: UserDep, paper_id: str
) -> dict[str, Any]:
    """For the paper's submitter, its verified authors and curators. A newer arXiv version
    replaces the metadata; votes, comments, feed entries and member-set links stay."""
    done = _refresh(request, context, user, paper_id)
    return {
        "paper": paper_json(done.paper),
        "previousVersion": done.previous_version,
        "changed": done.changed,
    }


@router.post("/papers/{paper_id:path}/refresh", include_in_schema=False)
def refresh_form(
    request: Request, context: ContextDep, user: UserDep, paper_id: str, next_page: NextField = None
) -> RedirectResponse:
    done = _refresh(request, context, user, paper_id)
    return RedirectResponse(safe_next(next_page, paper_path(done.paper.id)), status_code=303)
