"""RSS 2.0 and Atom feeds for every list: days, weeks, months, trending, organizations,
authors, and saved searches (``/feeds/search.atom?q=...``, the newest matching papers).

Entry ids are the papers' page URLs and a feed's id is its page's URL (a search's with
its parameters in a fixed order), so both stay the same from one request to the next.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from feedgen.feed import FeedGenerator

from paperwire.feed import service as feed_service
from paperwire.models import FeedEntry, Paper
from paperwire.search import service as search_service
from paperwire.search.query import Filters
from paperwire.search.service import SearchRequest
from paperwire.text import plain_excerpt
from paperwire.web.deps import ConnDep, ContextDep
from paperwire.web.params import period_from_query, trending_today
from paperwire.web.urls import author_path, organization_path, paper_path, period_path

router = APIRouter(prefix="/feeds", tags=["feeds"])

Format = Literal["rss", "atom"]
MEDIA_TYPES = {"rss": "application/rss+xml", "atom": "application/atom+xml"}
FEED_SIZE = 50


def _absolute(request: Request, path: str) -> str:
    return str(request.base_url).rstrip("/") + path


def _feed_response(
    request: Request, title: str, page_url: str, entries: list[FeedEntry], fmt: Format
) -> Response:
    generator = FeedGenerator()
    generator.id(page_url)  # stable: a list's page URL names it
    generator.title(title)
    generator.link(href=page_url, rel="alternate")
    generator.link(href=str(request.url), rel="self")
    generator.description(title)
    generator.language("en")
    newest = max((e.feed_date for e in entries), default=None)
    generator.updated(
        datetime.combine(newest, datetime.min.time(), tzinfo=UTC) if newest else datetime.now(UTC)
    )
    # feedgen prepends entries, so add them in reverse to keep the list's order.
    for entry in reversed(entries):
        paper = entry.paper
        url = _absolute(request, paper_path(paper.id))
        item = generator.add_entry()
        item.id(url)
        item.guid(url, permalink=True)
        item.title(paper.title)
        item.link(href=url)
        item.author([{"name": name} for name in paper.authors[:20]] or [{"name": "unknown"}])
        item.summary(plain_excerpt(paper.abstract, 1000))
        item.published(datetime.combine(entry.feed_date, datetime.min.time(), tzinfo=UTC))
        item.updated(paper.updated_at or paper.submitted_at or item.published())
        for category in paper.categories:
            item.category(term=category)
    body = generator.rss_str(pretty=True) if fmt == "rss" else generator.atom_str(pretty=True)
    return Response(body, media_type=MEDIA_TYPES[fmt])


@router.get("/daily.{fmt}", summary="A day's, week's or month's list as RSS or Atom")
def list_feed(
    request: Request,
    conn: ConnDep,
    context: ContextDep,
    fmt: Format,
    date: Annotated[str | None, Query(max_length=40)] = None,
    week: Annotated[str | None, Query(max_length=40)] = None,
    month: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    period = period_from_query(conn, date, week, month)
    page = feed_service.feed_page(
        conn, period, limit=FEED_SIZE, gravity=context.settings.trending_gravity
    )
    page_url = _absolute(request, period_path(period))
    title = f"{context.settings.site_name}: papers of {period.label}"
    return _feed_response(request, title, page_url, page.entries, fmt)


@router.get("/trending.{fmt}", summary="Trending papers as RSS or Atom")
def trending_feed(request: Request, conn: ConnDep, context: ContextDep, fmt: Format) -> Response:
    settings = context.settings
    page = trending_today(conn, settings, FEED_SIZE)
    page_url = _absolute(request, "/papers/trending")
    return _feed_response(request, f"{settings.site_name}: trending", page_url, page.entries, fmt)


@router.get("/organizations/{slug}.{fmt}", summary="An organization's papers as RSS or Atom")
def organization_feed(
    request: Request, conn: ConnDep, context: ContextDep, slug: str, fmt: Format
) -> Response:
    page = feed_service.organization_page(conn, slug, limit=FEED_SIZE)
    if page is None:
        raise HTTPException(404, f"no organization {slug[:100]!r}")
    page_url = _absolute(request, organization_path(slug))
    title = f"{context.settings.site_name}: {page.organization.name}"
    return _feed_response(request, title, page_url, page.entries, fmt)


@router.get("/authors/{name}.{fmt}", summary="An author's papers as RSS or Atom")
def author_feed(
    request: Request, conn: ConnDep, context: ContextDep, name: str, fmt: Format
) -> Response:
    page = feed_service.author_page(conn, name, limit=FEED_SIZE)
    if page is None:
        raise HTTPException(404, f"no paper by {name[:100]!r}")
    page_url = _absolute(request, author_path(page.name))
    title = f"{context.settings.site_name}: papers by {page.name}"
    return _feed_response(request, title, page_url, [_dated(p) for p in page.papers], fmt)


def _dated(paper: Paper) -> FeedEntry:
    """A paper outside any list, dated by its submission (papers of authors, searches)."""
    moment = paper.submitted_at or paper.updated_at
    day = moment.date() if moment is not None else date(1970, 1, 1)
    return FeedEntry(paper=paper, feed_date=day, position=0, upvotes=paper.upvotes)


@router.get("/search.{fmt}", summary="A saved search's newest papers as RSS or Atom")
def search_feed(
    request: Request,
    context: ContextDep,
    fmt: Format,
    q: Annotated[str, Query(max_length=2000, description="What to look for.")] = "",
    category: Annotated[
        list[str], Query(max_length=10, description="Only papers in any of these categories.")
    ] = [],  # noqa: B006 - FastAPI copies query defaults
    organization: Annotated[
        str | None, Query(max_length=100, description="Only papers of this organization (slug).")
    ] = None,
) -> Response:
    """The newest papers the keyword search finds for ``q`` (the same parameters as
    ``/search``). Keyword mode: a feed lists what matches, newest first, and semantic
    neighbours sorted by date would bring in papers that are merely near."""
    query = " ".join(q.split())
    if not query:
        raise HTTPException(422, "give q, the search to follow")
    categories = sorted({c.strip()[:40] for c in category if c.strip()})
    org = (organization or "").strip().lower() or None
    results = search_service.search(
        context.engine,
        context.search,
        SearchRequest(
            query=query,
            mode="keyword",
            filters=Filters(categories=tuple(categories), organization=org),
            sort="date",
            limit=FEED_SIZE,
        ),
    )
    # The feed's id: the search page's URL with the parameters in one fixed order.
    items = [("q", query), *(("category", c) for c in categories)]
    if org:
        items.append(("organization", org))
    page_url = _absolute(request, "/search?" + urlencode(items))
    title = f"{context.settings.site_name}: search for {query[:100]}"
    entries = [_dated(hit.paper) for hit in results.hits]
    return _feed_response(request, title, page_url, entries, fmt)
