"""The daily, weekly and monthly lists in a real browser against ``paperwire serve``."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from browser_support import Server
from playwright.sync_api import BrowserContext, Page, expect

pytestmark = pytest.mark.browser

DAY = "2025-10-06"
DAY_URL = f"/papers/date/{DAY}"
CARDS = "ol.cards > li article.card"


def _card_ids(page: Page) -> list[str]:
    hrefs = page.locator(f"{CARDS} h2 a").evaluate_all("links => links.map(a => a.pathname)")
    return [href.removeprefix("/papers/") for href in hrefs]


def _card_votes(page: Page) -> list[int]:
    return [int(text) for text in page.locator(f"{CARDS} .votes .count").all_inner_texts()]


def test_daily_page_shows_the_days_papers_in_upvote_order(
    server: Server, page: Page, screenshot: Callable[[Page, str], Path]
) -> None:
    api = server.api("/api/daily_papers", date=DAY, limit=100)
    assert len(api) > 5

    response = page.goto(server.url + DAY_URL)
    assert response is not None
    assert response.status == 200
    expect(page.locator("h1")).to_contain_text("Monday, 6 October 2025")
    expect(page.locator(CARDS)).to_have_count(len(api))
    expect(page.locator("main")).to_contain_text(f"{len(api)} papers")

    assert _card_ids(page) == [item["paper"]["id"] for item in api]
    votes = _card_votes(page)
    assert votes == [item["paper"]["upvotes"] for item in api]
    assert votes == sorted(votes, reverse=True)
    assert votes[0] > votes[-1]

    first = page.locator(CARDS).first
    expect(first.locator("h2")).to_have_text(api[0]["paper"]["title"])
    expect(first.locator(".authors")).to_contain_text(api[0]["paper"]["authors"][0]["name"])
    expect(first).to_be_visible()
    box = first.bounding_box()
    assert box is not None
    assert box["width"] > 600
    assert box["height"] > 60
    screenshot(page, "daily")


def _featured_days(server: Server, start: date, stop: date) -> list[date]:
    days = []
    day = start
    while day <= stop:
        if server.api("/api/daily_papers", date=day.isoformat(), limit=1):
            days.append(day)
        day += timedelta(days=1)
    return days


def test_previous_and_next_go_to_the_neighbouring_featured_days(server: Server, page: Page) -> None:
    anchor = date.fromisoformat(DAY)
    featured = _featured_days(server, anchor - timedelta(days=4), anchor + timedelta(days=4))
    index = featured.index(anchor)
    previous, following = featured[index - 1], featured[index + 1]
    assert previous < anchor - timedelta(days=1)  # the weekend had nothing featured

    page.goto(server.url + DAY_URL)
    page.locator('a[rel="prev"]').first.click()
    expect(page).to_have_url(f"{server.url}/papers/date/{previous.isoformat()}")
    expect(page.locator("h1")).to_contain_text(f"{previous.day} October 2025")
    assert _card_ids(page) == [
        item["paper"]["id"]
        for item in server.api("/api/daily_papers", date=previous.isoformat(), limit=100)
    ]

    page.locator('a[rel="next"]').first.click()
    expect(page).to_have_url(server.url + DAY_URL)
    page.locator('a[rel="next"]').first.click()
    expect(page).to_have_url(f"{server.url}/papers/date/{following.isoformat()}")
    expect(page.locator("h1")).to_contain_text(f"{following.day} October 2025")
    expect(page.locator(CARDS).first).to_be_visible()


def test_day_week_month_tabs(
    server: Server, page: Page, screenshot: Callable[[Page, str], Path]
) -> None:
    page.goto(server.url + DAY_URL)
    tabs = page.get_by_role("navigation", name="List period")
    expect(tabs.get_by_role("link", name="Day")).to_have_attribute("aria-current", "page")

    tabs.get_by_role("link", name="Week").click()
    expect(page).to_have_url(f"{server.url}/papers/week/2025-W41")
    expect(page.locator("h1")).to_contain_text("Week 41, 2025")
    expect(tabs.get_by_role("link", name="Week")).to_have_attribute("aria-current", "page")
    expect(tabs.get_by_role("link", name="Day")).not_to_have_attribute("aria-current", "page")
    week = server.api("/api/daily_papers", week="2025-W41", limit=100)
    page_size = page.locator(CARDS).count()
    assert 0 < page_size <= len(week)
    assert _card_ids(page) == [item["paper"]["id"] for item in week[:page_size]]
    # a week's cards carry the day each paper was featured
    expect(page.locator(CARDS).first.locator("time")).to_have_attribute(
        "datetime", re.compile(r"^2025-10-(0[6-9]|1[0-2])$")
    )
    screenshot(page, "week")

    tabs.get_by_role("link", name="Month").click()
    expect(page).to_have_url(f"{server.url}/papers/month/2025-10")
    expect(page.locator("h1")).to_contain_text("October 2025")
    expect(tabs.get_by_role("link", name="Month")).to_have_attribute("aria-current", "page")
    month = server.api("/api/daily_papers", month="2025-10", limit=5)
    assert _card_ids(page)[:5] == [item["paper"]["id"] for item in month]

    tabs.get_by_role("link", name="Day").click()
    expect(page).to_have_url(re.compile(r"/papers/date/2025-10-\d\d$"))
    expect(tabs.get_by_role("link", name="Day")).to_have_attribute("aria-current", "page")
    expect(page.locator(CARDS).first).to_be_visible()


def test_trending_sort_shows_scores(server: Server, page: Page) -> None:
    page.goto(f"{server.url}/papers/month/2025-10")
    page.get_by_role("link", name="trending", exact=True).first.click()
    expect(page).to_have_url(f"{server.url}/papers/month/2025-10?sort=trending")
    expect(page.locator(CARDS).first.locator(".score")).to_have_text(re.compile(r"score \d+\.\d\d"))


def test_clicking_a_card_title_opens_the_paper_page(server: Server, page: Page) -> None:
    api = server.api("/api/daily_papers", date=DAY, limit=3)
    second = api[1]["paper"]
    page.goto(server.url + DAY_URL)
    page.locator(CARDS).nth(1).locator("h2 a").click()
    expect(page).to_have_url(f"{server.url}/papers/{second['id']}")
    expect(page.locator("h1")).to_have_text(second["title"])
    expect(page.locator("article.paper .authors")).to_contain_text(second["authors"][0]["name"])


def test_pages_work_with_javascript_disabled(
    server: Server, new_context: Callable[..., BrowserContext]
) -> None:
    page = new_context(java_script_enabled=False).new_page()
    api = server.api("/api/daily_papers", date=DAY, limit=100)
    page.goto(server.url + DAY_URL)
    assert page.locator("script").count() == 0
    expect(page.locator(CARDS)).to_have_count(len(api))
    expect(page.locator(CARDS).first.locator("h2")).to_have_text(api[0]["paper"]["title"])
    # links, tabs and the pager are plain links: they work without scripts
    page.get_by_role("navigation", name="List period").get_by_role("link", name="Week").click()
    expect(page).to_have_url(f"{server.url}/papers/week/2025-W41")
    expect(page.locator(CARDS).first).to_be_visible()
    page.locator(CARDS).first.locator("h2 a").click()
    expect(page).to_have_url(re.compile(r"/papers/\d{4}\.\d{4,5}$"))
    expect(page.locator(".abstract p").first).to_be_visible()
    # the trending formula is a <details>: it opens without scripts too
    page.goto(f"{server.url}/papers/trending")
    formula = page.locator("details.formula")
    expect(formula.locator("code").first).to_be_hidden()
    formula.locator("summary").click()
    expect(formula.locator("code").first).to_be_visible()


def test_mobile_layout_has_no_horizontal_scrolling(
    server: Server,
    new_context: Callable[..., BrowserContext],
    screenshot: Callable[[Page, str], Path],
) -> None:
    context = new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    for url in (DAY_URL, "/papers/2510.00515", "/papers/week/2025-W41"):
        page.goto(server.url + url)
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{url} scrolls sideways by {overflow}px at 390px"
        card_or_article = page.locator(f"{CARDS}, article.paper").first
        box = card_or_article.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= 390
        if url == DAY_URL:
            screenshot(page, "daily-mobile")
