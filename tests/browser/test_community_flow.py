"""A member's first visit in a real browser: sign up, upvote, comment, submit a paper.

A real ``paperwire serve`` runs over a copy of the browser database, with the arXiv API
pointed at a local server replaying real arXiv answers (``tests/arxiv_replay.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from browser_support import Server
from playwright.sync_api import BrowserContext, Page, expect

from arxiv_replay import ArxivReplay
from conftest import serving
from databases import Databases
from paperwire.config import Settings

OLD_ENOUGH = "100000"  # days: the replayed arXiv entries are from 2002 to 2018


@pytest.fixture(scope="module")
def community_server(
    tmp_path_factory: pytest.TempPathFactory, databases: Databases, browser_template: Settings
) -> Iterator[tuple[Server, ArxivReplay]]:
    folder = tmp_path_factory.mktemp("community")
    database = databases.copy(browser_template, folder)
    with (
        ArxivReplay() as arxiv,
        serving(
            database,
            folder,
            arxiv_api_url=arxiv.url,
            arxiv_request_interval_s="0",
            submission_max_age_days=OLD_ENOUGH,
        ) as server,
    ):
        yield server, arxiv
    databases.drop(database)


def _first_featured_paper(server: Server) -> dict[str, object]:
    entries = server.api("/api/daily_papers", limit=1)
    paper: dict[str, object] = entries[0]["paper"]
    return paper


def test_sign_up_upvote_comment_and_submit(
    community_server: tuple[Server, ArxivReplay],
    new_context: Callable[..., BrowserContext],
    screenshot: Callable[[Page, str], Path],
) -> None:
    server, arxiv = community_server
    page = new_context().new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # Sign up: the form signs the new member in and the header shows their name.
    page.goto(f"{server.url}/signup")
    page.fill("#username", "marie")
    page.fill("#email", "marie@example.org")
    page.fill("#password", "radium and polonium")
    page.click("form.form button[type=submit]")
    expect(page.locator(".account-nav .me")).to_have_text("marie")

    # Upvote a featured paper: the count goes up in place (no reload) and stays after one.
    paper = _first_featured_paper(server)
    page.goto(f"{server.url}/papers/{paper['id']}")
    vote = page.locator(".paper-actions form.vote-form").first
    count = vote.locator(".count")
    before = int(count.inner_text())
    url_before = page.url
    vote.locator(".vote-button").click()
    expect(count).to_have_text(str(before + 1))
    expect(vote.locator(".vote-button")).to_have_attribute("aria-pressed", "true")
    assert page.url == url_before
    page.reload()
    expect(page.locator(".paper-actions form.vote-form .count").first).to_have_text(str(before + 1))

    # Comment with Markdown and math; hostile HTML in it is shown as text, never run.
    page.fill(
        "#new-comment",
        "**Nice** result: $E = mc^2$ <img src=x onerror=\"document.title='pwned'\">",
    )
    page.click("form.comment-new button[type=submit]")
    comment = page.locator("article[id^=comment-]").last
    expect(comment.locator("strong")).to_have_text("Nice")
    expect(comment.locator("math")).to_have_count(1)
    expect(comment.locator("img")).to_have_count(0)
    assert page.title() != "pwned"

    # Submit a real arXiv paper by URL: it is fetched (replayed) and featured today.
    submitted = arxiv.ids[0]
    page.goto(f"{server.url}/submit")
    page.fill("#submit-id", f"https://arxiv.org/abs/{submitted}")
    page.click("form.form button[type=submit]")
    expect(page.locator("h1")).not_to_have_text("")
    assert f"/papers/{submitted}" in page.url
    today = datetime.now(UTC).date().isoformat()
    listed = httpx.get(f"{server.url}/api/daily_papers", params={"date": today}, timeout=10)
    assert submitted in [entry["paper"]["id"] for entry in listed.json()]
    assert listed.json()[0]["submittedBy"] is not None
    screenshot(page, "community-submitted-paper")

    # The profile lists what the member did.
    page.goto(f"{server.url}/users/marie")
    expect(page.locator("main")).to_contain_text(str(paper["title"])[:30])
    submitted_title = server.api(f"/api/papers/{submitted}")["title"]
    expect(page.locator("main")).to_contain_text(" ".join(submitted_title.split())[:30])
    assert errors == []
