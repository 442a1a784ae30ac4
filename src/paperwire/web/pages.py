"""Server-rendered HTML pages; each has a JSON twin in :mod:`paperwire.web.api`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection

from paperwire.bibtex import bibtex
from paperwire.community import organizations as org_service
from paperwire.community import votes as community_votes
from paperwire.community.view import paper_page_values
from paperwire.context import Context
from paperwire.errors import UserError
from paperwire.feed import service as feed_service
from paperwire.feed.periods import Period, PeriodError, PeriodKind, parse_period, period_of
from paperwire.search import service as search_service
from paperwire.web.auth import current_viewer
from paperwire.web.cache import cached
from paperwire.web.deps import ConnDep, ContextDep
from paperwire.web.params import trending_today
from paperwire.web.urls import PERIOD_SEGMENTS, paper_path

router = APIRouter(include_in_schema=False)

Sort = Literal["upvotes", "date", "trending"]
TABS: tuple[tuple[str, PeriodKind], ...] = (("Day", "day"), ("Week", "week"), ("Month", "month"))
PageIndex = Annotated[int, Query(ge=0, le=10_000)]
RELATED_LIMIT = 8


def render(request: Request, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    """A page; it knows the viewer (for the header) and the form token (for forms)."""
    templates = request.app.state.templates
    try:
        values.setdefault("viewer", current_viewer(request))
    except UserError:  # a bad API token on a page: show the page signed out
        values.setdefault("viewer", None)
    values.setdefault("csrf_token", getattr(request.state, "csrf_token", ""))
    response: HTMLResponse = templates.TemplateResponse(
        request, template, values, status_code=status_code
    )
    return response


def voted_ids(request: Request, conn: Connection, paper_ids: list[str]) -> set[str]:
    """Which listed papers the viewer upvoted (pressed vote buttons); none when anonymous."""
    try:
        viewer = current_viewer(request)
    except UserError:  # a bad API token on a page: shown signed out
        return set()
    return community_votes.voted_ids(conn, viewer, paper_ids)


def error_page(request: Request, status_code: int, message: str) -> HTMLResponse:
    titles = {
        400: "Bad request",
        401: "Sign in first",
        403: "Not allowed",
        404: "Not found",
        405: "Method not allowed",
        409: "Conflict",
        422: "Bad request",
        429: "Too many requests",
        502: "Upstream error",
    }
    return render(
        request,
        "error.html",
        status_code=status_code,
        title=titles.get(status_code, "Error"),
        status_code_value=status_code,
        message=message,
    )


def _feed_response(
    request: Request, conn: Connection, context: Context, period: Period, sort: Sort, p: int
) -> HTMLResponse:
    page_size = context.settings.page_size
    page = feed_service.feed_page(
        conn,
        period,
        sort=sort,
        limit=page_size,
        offset=p * page_size,
        gravity=context.settings.trending_gravity,
    )
    if page.total == 0 and not _is_recent(period):
        raise HTTPException(404, f"nothing was featured in {period.label}")
    return render(
        request,
        "feed.html",
        page=page,
        period=period,
        sort=sort,
        p=p,
        page_size=page_size,
        has_more=(p + 1) * page_size < page.total,
        tabs=[(label, period_of(kind, page.anchor)) for label, kind in TABS],
        voted_ids=voted_ids(request, conn, [entry.paper.id for entry in page.entries]),
    )


def _is_recent(period: Period) -> bool:
    """Today's (or this week's, this month's) list may still be empty: not a 404."""
    return period.contains(datetime.now(UTC).date()) or period.end > datetime.now(UTC).date()


@router.get("/", response_class=HTMLResponse)
@router.get("/papers", response_class=HTMLResponse)
def home(request: Request, conn: ConnDep, context: ContextDep, sort: Sort = "upvotes") -> Response:
    def build() -> Response:
        period = feed_service.latest_period(conn, "day", datetime.now(UTC).date())
        return _feed_response(request, conn, context, period, sort, 0)

    return cached(request, conn, build)


@router.get("/papers/trending", response_class=HTMLResponse)
def trending_page(request: Request, conn: ConnDep, context: ContextDep) -> Response:
    settings = context.settings

    def build() -> Response:
        page = trending_today(conn, settings, settings.page_size)
        return render(
            request,
            "trending.html",
            page=page,
            gravity=settings.trending_gravity,
            voted_ids=voted_ids(request, conn, [entry.paper.id for entry in page.entries]),
        )

    return cached(request, conn, build)


def _period_response(
    request: Request,
    conn: Connection,
    context: Context,
    kind: PeriodKind,
    key: str,
    sort: Sort,
    p: int,
) -> Response:
    try:
        period = parse_period(kind, key)
    except PeriodError as error:
        raise HTTPException(404, str(error)) from error
    return cached(request, conn, lambda: _feed_response(request, conn, context, period, sort, p))


def _period_page(kind: PeriodKind) -> Callable[..., Response]:
    def page(
        request: Request,
        conn: ConnDep,
        context: ContextDep,
        key: str,
        sort: Sort = "upvotes",
        p: PageIndex = 0,
    ) -> Response:
        return _period_response(request, conn, context, kind, key, sort, p)

    return page


# /papers/date/2025-10-06, /papers/week/2025-W41, /papers/month/2025-10 (as on hf.co/papers)
for _kind in ("day", "week", "month"):
    router.add_api_route(
        f"/papers/{PERIOD_SEGMENTS[_kind]}/{{key}}",
        _period_page(_kind),
        name=f"{_kind}_page",
        response_class=HTMLResponse,
    )


@router.get("/papers/{paper_id:path}", response_class=HTMLResponse)
def paper_page(request: Request, conn: ConnDep, context: ContextDep, paper_id: str) -> Response:
    canonical = feed_service.canonical_paper_id(paper_id)
    if canonical != paper_id:
        return RedirectResponse(paper_path(canonical), status_code=301)
    return cached(request, conn, lambda: _paper_response(request, conn, context, paper_id))


def _paper_response(
    request: Request, conn: Connection, context: Context, paper_id: str
) -> Response:
    detail = feed_service.paper_detail(conn, paper_id)
    if detail is None:
        raise HTTPException(404, f"no paper with id {paper_id[:100]}")
    paper = detail.paper
    entry = bibtex(
        id=paper.id,
        title=paper.title,
        authors=paper.authors,
        year=paper.submitted_at.year if paper.submitted_at else None,
        source=paper.source,
        version=paper.version,
        categories=paper.categories,
        doi=paper.doi,
        journal_ref=paper.journal_ref,
        url=paper.abs_url,
    )
    related = search_service.related(context.engine, context.search, paper.id, RELATED_LIMIT)
    viewer = current_viewer(request)
    return render(
        request,
        "paper.html",
        detail=detail,
        paper=paper,
        bibtex=entry,
        related=related,
        viewer=viewer,
        **paper_page_values(conn, paper, viewer),
    )


@router.get("/organizations", response_class=HTMLResponse)
def organizations_page(request: Request, conn: ConnDep) -> Response:
    return cached(
        request,
        conn,
        lambda: render(
            request, "organizations.html", organizations=feed_service.organizations(conn)
        ),
    )


@router.get("/organizations/{slug}", response_class=HTMLResponse)
def organization_page(
    request: Request, conn: ConnDep, context: ContextDep, slug: str, p: PageIndex = 0
) -> Response:
    page_size = context.settings.page_size

    def build() -> Response:
        page = feed_service.organization_page(conn, slug, limit=page_size, offset=p * page_size)
        if page is None:
            raise HTTPException(404, f"no organization {slug[:100]}")
        return render(
            request,
            "organization.html",
            page=page,
            p=p,
            has_more=(p + 1) * page_size < page.total,
            voted_ids=voted_ids(request, conn, [entry.paper.id for entry in page.entries]),
            is_member=org_service.is_member(conn, current_viewer(request), page.organization),
        )

    return cached(request, conn, build)


@router.get("/authors/{name}", response_class=HTMLResponse)
def author_page(
    request: Request, conn: ConnDep, context: ContextDep, name: str, p: PageIndex = 0
) -> Response:
    page_size = context.settings.page_size

    def build() -> Response:
        page = feed_service.author_page(conn, name, limit=page_size, offset=p * page_size)
        if page is None:
            raise HTTPException(404, f"no paper by {name[:100]}")
        return render(
            request,
            "author.html",
            page=page,
            p=p,
            has_more=(p + 1) * page_size < page.total,
            voted_ids=voted_ids(request, conn, [paper.id for paper in page.papers]),
        )

    return cached(request, conn, build)
