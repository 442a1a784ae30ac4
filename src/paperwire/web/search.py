"""Search and related papers: the page at ``/search`` and its JSON twins under ``/api``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from paperwire.feed import service as feed_service
from paperwire.search import service as search_service
from paperwire.search.query import Filters
from paperwire.search.service import Mode, SearchHit, SearchRequest, SearchResults, Sort
from paperwire.store import papers as paper_store
from paperwire.web.deps import ContextDep
from paperwire.web.serialize import iso, paper_json

router = APIRouter()

PAGE_SIZE = 20
QueryText = Annotated[
    str, Query(max_length=65_536, description="What to look for (see the search syntax).")
]
Category = Annotated[
    list[str], Query(max_length=10, description="Only papers in any of these categories.")
]
Organization = Annotated[
    str | None, Query(max_length=100, description="Only papers of this organization (slug).")
]
# Plain strings, because an HTML form sends its unset fields as blanks ("from=&has_code="):
# a blank means "any", anything else must parse (422 with the reason otherwise).
HasCode = Annotated[
    str | None,
    Query(max_length=10, description="`true`: only papers with code; `false`: without."),
]
DateFrom = Annotated[
    str | None, Query(alias="from", max_length=40, description="Published on or after, YYYY-MM-DD.")
]
DateTo = Annotated[
    str | None, Query(alias="to", max_length=40, description="Published on or before, YYYY-MM-DD.")
]
_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}


def _flag(name: str, value: str | None) -> bool | None:
    text = (value or "").strip().lower()
    if not text:
        return None
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise HTTPException(422, f"{name} must be true or false, not {text[:20]!r}")


def _day(name: str, value: str | None) -> date | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise HTTPException(422, f"{name} must be a date, YYYY-MM-DD, not {text[:20]!r}") from None


@dataclass(frozen=True, slots=True)
class _FilterParams:
    category: list[str]
    organization: str | None
    has_code: bool | None
    date_from: date | None
    date_to: date | None

    @classmethod
    def parse(
        cls,
        category: list[str],
        organization: str | None,
        has_code: str | None,
        date_from: str | None,
        date_to: str | None,
    ) -> _FilterParams:
        params = cls(
            [c.strip()[:40] for c in category if c.strip()],
            (organization or "").strip().lower() or None,
            _flag("has_code", has_code),
            _day("from", date_from),
            _day("to", date_to),
        )
        if params.date_from and params.date_to and params.date_from > params.date_to:
            raise HTTPException(422, "'from' must not be after 'to'")
        return params

    def filters(self) -> Filters:
        return Filters(
            categories=tuple(self.category),
            organization=self.organization,
            has_code=self.has_code,
            date_from=self.date_from,
            date_to=self.date_to,
        )

    def query_items(self) -> list[tuple[str, str]]:
        items = [("category", c) for c in self.category]
        if self.organization:
            items.append(("organization", self.organization))
        if self.has_code is not None:
            items.append(("has_code", "true" if self.has_code else "false"))
        if self.date_from:
            items.append(("from", self.date_from.isoformat()))
        if self.date_to:
            items.append(("to", self.date_to.isoformat()))
        return items


def _headers(results: SearchResults) -> dict[str, str]:
    headers = {"X-Total-Count": str(results.total), "X-Search-Mode": results.mode}
    if results.notices:
        # Header values are Latin-1; notices are plain ASCII sentences.
        headers["X-Search-Notice"] = " | ".join(results.notices).encode("ascii", "replace").decode()
    return headers


def hit_json(hit: SearchHit, rank: int) -> dict[str, Any]:
    matched = [
        name
        for name, found in (("keyword", hit.keyword_rank), ("semantic", hit.semantic_rank))
        if found is not None
    ]
    return {
        "paper": paper_json(hit.paper),
        "title": hit.paper.title,
        "summary": hit.paper.abstract,
        "publishedAt": iso(hit.paper.submitted_at),
        "highlightedTitle": str(hit.title_html),
        "snippet": str(hit.snippet_html),
        "rank": rank,
        "matchedBy": matched,
        "pinned": hit.pinned,
    }


@router.get(
    "/api/papers/search",
    tags=["api"],
    summary="Search papers (keyword, semantic or hybrid)",
    response_model=list[dict[str, Any]],
)
def search_api(
    context: ContextDep,
    q: QueryText,
    mode: Mode = "hybrid",
    sort: Sort = "relevance",
    category: Category = [],  # noqa: B006 - FastAPI copies query defaults
    organization: Organization = None,
    has_code: HasCode = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    limit: Annotated[int, Query(ge=1, le=100)] = PAGE_SIZE,
    p: Annotated[int, Query(ge=0, le=1000)] = 0,
) -> Response:
    """A list of hits, best first, shaped like Hugging Face's paper search results.

    Response headers: `X-Total-Count` (papers matched), `X-Search-Mode` (the mode that
    answered: `keyword` when semantic search is unavailable) and `X-Search-Notice`.
    Syntax: words, `"phrases"`, `-excluded`, `author:name`, `category:cs.CL`.
    """
    params = _FilterParams.parse(category, organization, has_code, date_from, date_to)
    request = SearchRequest(
        query=q, mode=mode, filters=params.filters(), sort=sort, limit=limit, offset=p * limit
    )
    results = search_service.search(context.engine, context.search, request)
    body = [hit_json(hit, request.offset + i) for i, hit in enumerate(results.hits, start=1)]
    return JSONResponse(body, headers=_headers(results))


@router.get(
    "/api/papers/{paper_id:path}/related",
    tags=["api"],
    summary="Papers nearest to one paper by meaning",
    response_model=list[dict[str, Any]],
)
def related_api(
    context: ContextDep,
    paper_id: str,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> Response:
    canonical = feed_service.canonical_paper_id(paper_id)
    with context.engine.connect() as conn:
        if paper_store.get_paper(conn, canonical) is None:
            raise HTTPException(404, f"no paper with id {paper_id[:100]!r}")
    found = search_service.related(context.engine, context.search, canonical, limit)
    body = [
        {"paper": paper_json(paper), "similarity": round(similarity, 4)}
        for paper, similarity in found.papers
    ]
    headers = {"X-Search-Notice": found.notice} if found.notice else {}
    return JSONResponse(body, headers=headers)


@router.get("/search", response_class=HTMLResponse, include_in_schema=False)
def search_page(
    request: Request,
    context: ContextDep,
    q: QueryText = "",
    mode: Mode = "hybrid",
    sort: Sort = "relevance",
    category: Category = [],  # noqa: B006 - FastAPI copies query defaults
    organization: Organization = None,
    has_code: HasCode = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    p: Annotated[int, Query(ge=0, le=1000)] = 0,
) -> Response:
    from paperwire.web.pages import render

    params = _FilterParams.parse(category, organization, has_code, date_from, date_to)
    results = None
    if q.strip():
        search_request = SearchRequest(
            query=q,
            mode=mode,
            filters=params.filters(),
            sort=sort,
            limit=PAGE_SIZE,
            offset=p * PAGE_SIZE,
        )
        results = search_service.search(context.engine, context.search, search_request)
    keep = [("q", q), ("mode", mode), ("sort", sort), *params.query_items()]
    return render(
        request,
        "search.html",
        section="search",
        q=q,
        mode=mode,
        sort=sort,
        params=params,
        results=results,
        p=p,
        page_size=PAGE_SIZE,
        has_more=results is not None
        and (p + 1) * PAGE_SIZE < min(results.total, search_service.MAX_RESULTS),
        pager_query=urlencode(keep) + "&",
        modes=search_service.MODES,
        sorts=search_service.SORTS,
    )
