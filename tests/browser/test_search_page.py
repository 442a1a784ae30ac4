"""The search page in a real browser: header box, results, sorting, paging, no scripts."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from browser_support import Server
from playwright.sync_api import BrowserContext, Page, expect

from paperwire.config import Settings
from paperwire.search import indexer
from paperwire.search.resources import SearchResources
from paperwire.store.db import make_engine

pytestmark = pytest.mark.browser

PAGE_SIZE = 20
HITS = "ol.search-results > li.search-hit"
FIRST_SEARCH_TIMEOUT_S = 300.0  # the first one may build the embedding model, once


@pytest.fixture(scope="module", autouse=True)
def searchable(server: Server, browser_database: Settings) -> None:
    """The server's database fully in the keyword index, and its first search done.

    The browser database is a copy of the HF one (and its index), plus an arXiv listing
    not indexed yet: a search would index only a small backlog inline, so index it here,
    under the indexer's lock (the server takes it too when it indexes). Then one search
    loads whatever the server loads on its first (untimed: not what these tests measure).
    """
    engine = make_engine(browser_database)
    resources = SearchResources(browser_database, engine)
    try:
        with resources.writing():
            indexer.update_keyword(engine, resources)
    finally:
        engine.dispose()
    httpx.get(
        f"{server.url}/api/papers/search", params={"q": "warm up"}, timeout=FIRST_SEARCH_TIMEOUT_S
    )


def _api(server: Server, q: str, **params: Any) -> tuple[list[dict[str, Any]], int]:
    response = httpx.get(f"{server.url}/api/papers/search", params={"q": q, **params}, timeout=30)
    assert response.status_code == 200, response.text[:300]
    return response.json(), int(response.headers["x-total-count"])


def _hit_ids(page: Page) -> list[str]:
    hrefs = page.locator(f"{HITS} h2 a").evaluate_all("links => links.map(a => a.pathname)")
    return [href.removeprefix("/papers/") for href in hrefs]


def _query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query, keep_blank_values=True)


def _search_from_the_header(page: Page, server: Server, q: str) -> None:
    page.goto(f"{server.url}/")
    box = page.locator("header").get_by_role("searchbox", name="Search papers")
    box.fill(q)
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?"))
    assert _query(page)["q"] == [q]


def test_header_search_shows_highlighted_results_and_their_count(
    server: Server, page: Page, screenshot: Callable[[Page, str], Path]
) -> None:
    q = "video diffusion"
    api, total = _api(server, q)
    assert len(api) == PAGE_SIZE
    assert total > PAGE_SIZE

    _search_from_the_header(page, server, q)
    expect(page.locator("h1")).to_have_text("Search papers")
    expect(page.locator(HITS)).to_have_count(PAGE_SIZE)
    assert _hit_ids(page) == [hit["paper"]["id"] for hit in api]
    expect(page.locator(HITS).first.locator("h2")).to_have_text(api[0]["title"])
    expect(page.locator("p.result-count")).to_contain_text(f"{total:,} results")
    # both search boxes keep the query
    expect(page.locator("#search-q")).to_have_value(q)
    expect(page.locator("#header-q")).to_have_value(q)

    marks = page.locator(f"{HITS} mark")
    expect(marks.first).to_be_visible()
    words = {text.lower() for text in marks.all_inner_texts()}
    assert words, "no highlighted terms"
    assert all(word.startswith(("video", "diffus")) for word in words), words
    # the highlight stands out from the text around it
    background = marks.first.evaluate("m => getComputedStyle(m).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")
    screenshot(page, "search")


def test_changing_the_sort_keeps_the_query(server: Server, page: Page) -> None:
    q = "reasoning"
    page.goto(f"{server.url}/search?q={q}")
    expect(page.locator(HITS).first).to_be_visible()
    form = page.locator("form.search-form")
    form.get_by_label("Sort").select_option(label="Newest")
    form.get_by_role("button", name="Search").click()

    expect(page).to_have_url(re.compile(r"[?&]sort=date(&|$)"))
    query = _query(page)
    assert query["q"] == [q]
    assert query["sort"] == ["date"]
    expect(page.locator("h1")).to_have_text("Search papers")
    expect(page.locator(HITS)).to_have_count(PAGE_SIZE)
    expect(form.get_by_label("Sort")).to_have_value("date")
    days = page.locator(f"{HITS} time").evaluate_all(
        "times => times.map(t => t.getAttribute('datetime'))"
    )
    assert days == sorted(days, reverse=True)
    api, _total = _api(server, q, sort="date")
    assert _hit_ids(page) == [hit["paper"]["id"] for hit in api]


def test_next_page_continues_the_numbering(server: Server, page: Page) -> None:
    q = "agents"
    page.goto(f"{server.url}/search?q={q}")
    results = page.locator("ol.search-results")
    expect(results).to_have_attribute("start", "1")
    first_page = _hit_ids(page)
    assert len(first_page) == PAGE_SIZE

    page.get_by_role("navigation", name="Pages").get_by_role("link", name="Next page").click()
    expect(page).to_have_url(re.compile(r"[?&]p=1(&|$)"))
    assert _query(page)["q"] == [q]
    expect(results).to_have_attribute("start", str(PAGE_SIZE + 1))
    expect(page.locator(HITS)).to_have_count(PAGE_SIZE)
    second_page = _hit_ids(page)
    assert not set(first_page) & set(second_page)
    # the page shows what the API ranks 21 to 40
    api, _total = _api(server, q, p=1)
    assert [hit["rank"] for hit in api] == list(range(PAGE_SIZE + 1, 2 * PAGE_SIZE + 1))
    assert second_page == [hit["paper"]["id"] for hit in api]
    previous = page.get_by_role("navigation", name="Pages").get_by_role(
        "link", name="Previous page"
    )
    expect(previous).to_be_visible()


def test_clicking_a_result_opens_the_paper_with_related_papers(server: Server, page: Page) -> None:
    q = "language models"
    api, _total = _api(server, q)
    second = api[1]["paper"]
    page.goto(f"{server.url}/search?q={q.replace(' ', '+')}")
    page.locator(HITS).nth(1).locator("h2 a").click()
    expect(page).to_have_url(f"{server.url}/papers/{second['id']}")
    expect(page.locator("h1")).to_have_text(second["title"])
    related = page.locator("section.related")
    expect(related.get_by_role("heading", name="Related papers")).to_be_visible()
    # either the related papers or the reason there are none (no embeddings here)
    expect(related.locator("ol li a, p.notice").first).to_be_visible()


def test_search_works_with_javascript_disabled(
    server: Server, new_context: Callable[..., BrowserContext]
) -> None:
    page = new_context(java_script_enabled=False).new_page()
    q = "agents"
    # the header box is a plain form: Enter submits it without scripts
    _search_from_the_header(page, server, q)
    assert page.locator("script").count() == 0
    expect(page.locator(HITS)).to_have_count(PAGE_SIZE)
    expect(page.locator(f"{HITS} mark").first).to_be_visible()
    expect(page.locator("p.result-count")).to_contain_text("results")
    # the page's own form, sort included, is plain HTML too
    form = page.locator("form.search-form")
    form.get_by_label("Sort").select_option("upvotes")
    form.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"[?&]sort=upvotes(&|$)"))
    expect(page.locator(HITS)).to_have_count(PAGE_SIZE)
    # the pager and the results are plain links
    page.get_by_role("navigation", name="Pages").get_by_role("link", name="Next page").click()
    expect(page).to_have_url(re.compile(r"[?&]p=1(&|$)"))
    assert _query(page)["sort"] == ["upvotes"]
    expect(page.locator("ol.search-results")).to_have_attribute("start", str(PAGE_SIZE + 1))
    page.locator(HITS).first.locator("h2 a").click()
    expect(page).to_have_url(re.compile(r"/papers/\d{4}\.\d{4,5}$"))
    expect(page.locator("section.related h2")).to_have_text("Related papers")
