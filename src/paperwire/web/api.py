"""The JSON API under ``/api``: the same service calls as the pages."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from paperwire.feed import service as feed_service
from paperwire.web.cache import cached
from paperwire.web.deps import ConnDep, ContextDep
from paperwire.web.params import period_from_query, trending_today
from paperwire.web.serialize import entry_json, paper_json

router = APIRouter(prefix="/api", tags=["api"])

Limit = Annotated[int, Query(ge=1, le=100, description="Items per page.")]
PageIndex = Annotated[int, Query(ge=0, le=10_000, description="Page number, from 0.")]


@router.get(
    "/daily_papers",
    summary="Featured papers of a day, ISO week or month",
    response_model=list[dict[str, Any]],
)
def daily_papers(
    request: Request,
    conn: ConnDep,
    context: ContextDep,
    date: Annotated[str | None, Query(description="A day, YYYY-MM-DD.", max_length=40)] = None,
    week: Annotated[str | None, Query(description="An ISO week, YYYY-Www.", max_length=40)] = None,
    month: Annotated[str | None, Query(description="A month, YYYY-MM.", max_length=40)] = None,
    sort: Literal["upvotes", "date", "trending"] = "upvotes",
    limit: Limit = 50,
    p: PageIndex = 0,
) -> Response:
    """Shaped like Hugging Face's `/api/daily_papers`; the latest featured day by default."""

    def build() -> Response:
        period = period_from_query(conn, date, week, month)
        page = feed_service.feed_page(
            conn,
            period,
            sort=sort,
            limit=limit,
            offset=p * limit,
            gravity=context.settings.trending_gravity,
        )
        return JSONResponse([entry_json(entry) for entry in page.entries])

    return cached(request, conn, build)


@router.get("/trending", summary="Trending papers, with their scores")
def trending(conn: ConnDep, context: ContextDep, limit: Limit = 50) -> dict[str, Any]:
    settings = context.settings
    page = trending_today(conn, settings, limit)
    return {
        "asOf": page.as_of.isoformat(),
        "windowDays": page.window_days,
        "gravity": settings.trending_gravity,
        "formula": "score = upvotes / (age_days + 2) ** gravity",
        "papers": [entry_json(entry) for entry in page.entries],
    }


@router.get("/papers/{paper_id:path}", summary="One paper", response_model=dict[str, Any])
def paper(request: Request, conn: ConnDep, paper_id: str) -> Response:
    def build() -> Response:
        detail = feed_service.paper_detail(conn, feed_service.canonical_paper_id(paper_id))
        if detail is None:
            raise HTTPException(404, f"no paper with id {paper_id[:100]!r}")
        body = paper_json(detail.paper)
        body["featuredOn"] = [day.isoformat() for day in detail.featured_on]
        return JSONResponse(body)

    return cached(request, conn, build)


@router.get("/organizations/{slug}", summary="An organization and its featured papers")
def organization(conn: ConnDep, slug: str, limit: Limit = 50, p: PageIndex = 0) -> dict[str, Any]:
    page = feed_service.organization_page(conn, slug, limit=limit, offset=p * limit)
    if page is None:
        raise HTTPException(404, f"no organization {slug[:100]!r}")
    org = page.organization
    return {
        "name": org.slug,
        "fullname": org.name,
        "avatar": org.avatar_url,
        "numPapers": page.total,
        "papers": [entry_json(entry) for entry in page.entries],
    }


@router.get("/authors/{name}", summary="An author's papers, newest first")
def author(conn: ConnDep, name: str, limit: Limit = 50, p: PageIndex = 0) -> dict[str, Any]:
    page = feed_service.author_page(conn, name, limit=limit, offset=p * limit)
    if page is None:
        raise HTTPException(404, f"no paper by {name[:100]!r}")
    return {
        "name": page.name,
        "numPapers": page.total,
        "papers": [paper_json(paper) for paper in page.papers],
    }


@router.get("/health", summary="Liveness and database check")
def health(conn: ConnDep) -> dict[str, str]:
    conn.execute(text("SELECT 1"))
    return {"status": "ok"}
