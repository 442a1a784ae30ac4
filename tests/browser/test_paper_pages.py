"""Paper pages in a real browser: abstract, links, BibTeX, MathML, and the 404 page."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from browser_support import MathPaper, Server
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

PAPER = "2510.00515"  # on the 2025-10-06 list, with a GitHub repo and a project page


def _squash(text: str) -> str:
    return " ".join(text.split())


def test_paper_page_shows_abstract_links_and_bibtex(server: Server, page: Page) -> None:
    paper = server.api(f"/api/papers/{PAPER}")
    assert paper["githubRepo"]
    assert paper["projectPage"]

    response = page.goto(f"{server.url}/papers/{PAPER}")
    assert response is not None
    assert response.status == 200
    expect(page.locator("h1")).to_have_text(paper["title"])
    expect(page).to_have_title(re.compile(re.escape(paper["title"])))
    authors = page.locator("article.paper .authors")
    for author in paper["authors"]:
        expect(authors).to_contain_text(author["name"])

    # the whole abstract, not an excerpt
    abstract = page.locator("section.abstract")
    expect(abstract.get_by_role("heading", name="Abstract")).to_be_visible()
    shown = _squash(" ".join(abstract.locator("p").all_inner_texts()))
    assert shown == _squash(paper["summary"])
    assert "…" not in shown

    code = page.get_by_role("link", name="Code")
    expect(code).to_have_attribute("href", paper["githubRepo"])
    expect(code).to_be_visible()
    project = page.get_by_role("link", name="Project page")
    expect(project).to_have_attribute("href", paper["projectPage"])
    expect(project).to_be_visible()
    expect(page.get_by_role("link", name="arXiv page")).to_have_attribute(
        "href", f"https://arxiv.org/abs/{PAPER}"
    )
    expect(page.get_by_role("link", name="PDF")).to_have_attribute(
        "href", re.compile(rf"^https://arxiv\.org/pdf/{re.escape(PAPER)}")
    )
    expect(page.get_by_role("link", name="Shanghai Jiao Tong University")).to_be_visible()

    bibtex = page.locator("pre.bibtex")
    expect(bibtex).to_be_visible()
    text = bibtex.inner_text()
    assert re.match(r"^@(misc|article)\{\w+,", text)
    assert f"eprint = {{{PAPER}}}" in text
    assert "Efficient Multi-modal Large Language Models" in text
    assert text.rstrip().endswith("}")
    # long BibTeX lines stay inside the page: they wrap or scroll inside their box
    box = bibtex.bounding_box()
    main = page.locator("main").bounding_box()
    assert box is not None
    assert main is not None
    assert box["x"] + box["width"] <= main["x"] + main["width"] + 1


def test_math_in_an_abstract_is_rendered_as_mathml(
    server: Server, page: Page, math_paper: MathPaper, screenshot: Callable[[Page, str], Path]
) -> None:
    response = page.goto(f"{server.url}/papers/{math_paper.id}")
    assert response is not None
    assert response.status == 200
    formulas = page.locator("section.abstract math")
    assert formulas.count() >= math_paper.math_spans
    for index in range(formulas.count()):
        formula = formulas.nth(index)
        expect(formula).to_be_visible()
        box = formula.bounding_box()
        assert box is not None
        assert box["width"] > 0
        assert box["height"] > 0
    # MathML is laid out as math by the browser, not shown as LaTeX source
    abstract_text = page.locator("section.abstract").inner_text()
    assert "$" not in abstract_text
    display = formulas.first.evaluate("m => getComputedStyle(m).display")
    assert "math" in display
    screenshot(page, "paper-math")


def test_unknown_paper_shows_the_404_page(
    server: Server, page: Page, screenshot: Callable[[Page, str], Path]
) -> None:
    response = page.goto(f"{server.url}/papers/9999.99999")
    assert response is not None
    assert response.status == 404
    expect(page.locator("h1")).to_contain_text("Not found")
    expect(page.locator("main")).to_contain_text("9999.99999")
    page.locator("main").get_by_role("link", name=re.compile("today", re.IGNORECASE)).click()
    expect(page).to_have_url(f"{server.url}/")
    expect(page.locator("ol.cards article.card").first).to_be_visible()
    page.goto(f"{server.url}/papers/9999.99999")
    screenshot(page, "not-found")
