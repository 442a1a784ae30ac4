"""Basic accessibility of every kind of page: structure, landmarks, contrast, focus."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from browser_support import MathPaper, Server
from playwright.sync_api import BrowserContext, Page, expect

pytestmark = pytest.mark.browser

PAGES = [
    "/",
    "/papers/date/2025-10-06",
    "/papers/week/2025-W41",
    "/papers/month/2025-10?sort=trending",
    "/papers/trending",
    "/organizations",
    "/organizations/SJTU",
    "/papers/2510.00515",
    "/papers/9999.99999",
]

STRUCTURE_JS = """
() => {
  const visible = (el) => el.getClientRects().length > 0;
  const name = (el) => (el.getAttribute('aria-label') || el.textContent || el.title || '').trim()
    || [...el.querySelectorAll('img[alt]')].map((img) => img.alt).join('').trim();
  const ids = [...document.querySelectorAll('[id]')].map((el) => el.id);
  const levels = [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')]
    .map((h) => Number(h.tagName[1]));
  const jumps = levels.filter((level, i) => i > 0 && level > levels[i - 1] + 1);
  return {
    lang: document.documentElement.getAttribute('lang') || '',
    title: document.title.trim(),
    h1: document.querySelectorAll('h1').length,
    firstHeading: levels[0] || 0,
    headingJumps: jumps.length,
    imagesWithoutAlt: [...document.querySelectorAll('img:not([alt])')].map((img) => img.src),
    header: document.querySelectorAll('body > header, body header').length,
    nav: document.querySelectorAll('nav').length,
    navsWithoutName: [...document.querySelectorAll('nav')]
      .filter((nav) => !nav.getAttribute('aria-label') && !nav.getAttribute('aria-labelledby'))
      .length,
    main: document.querySelectorAll('main').length,
    footer: document.querySelectorAll('footer').length,
    mainIsSkipTarget: !!document.querySelector('a[href="#main"]')
      && document.querySelector('main')?.id === 'main',
    unnamedLinks: [...document.querySelectorAll('a[href]')]
      .filter((a) => visible(a) && !name(a)).map((a) => a.outerHTML.slice(0, 120)),
    duplicateIds: ids.filter((id, i) => ids.indexOf(id) !== i),
  };
}
"""


@pytest.mark.parametrize("path", PAGES)
def test_page_structure_and_landmarks(server: Server, page: Page, path: str) -> None:
    requested: list[str] = []
    failed: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("requestfailed", lambda request: failed.append(request.url))
    response = page.goto(server.url + path)
    assert response is not None
    assert response.status == (404 if "9999" in path else 200)
    # no CDN, no external fonts or images: everything comes from the instance itself
    assert requested
    assert [url for url in requested if not url.startswith((server.url, "data:"))] == []
    assert failed == []
    assert page.locator("script").count() == 0
    report: dict[str, Any] = page.evaluate(STRUCTURE_JS)
    assert report["lang"] == "en"
    assert report["title"]
    assert report["h1"] == 1, report
    assert report["firstHeading"] == 1, "the first heading of a page is its <h1>"
    assert report["headingJumps"] == 0, "heading levels go down one at a time"
    assert report["imagesWithoutAlt"] == []
    assert report["header"] >= 1
    assert report["nav"] >= 1
    assert report["navsWithoutName"] == 0, "several <nav>s need names to be told apart"
    assert report["main"] == 1
    assert report["footer"] >= 1
    assert report["mainIsSkipTarget"]
    assert report["unnamedLinks"] == []
    assert report["duplicateIds"] == []
    expect(page.get_by_role("banner")).to_be_visible()
    expect(page.get_by_role("main")).to_be_visible()
    expect(page.get_by_role("contentinfo")).to_be_visible()


def test_math_paper_structure(server: Server, page: Page, math_paper: MathPaper) -> None:
    page.goto(f"{server.url}/papers/{math_paper.id}")
    report: dict[str, Any] = page.evaluate(STRUCTURE_JS)
    assert report["h1"] == 1
    assert report["headingJumps"] == 0
    assert report["imagesWithoutAlt"] == []


CONTRAST_JS = """
() => {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 1;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const rgba = (color) => {
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillStyle = '#000';
    ctx.fillStyle = color;
    ctx.fillRect(0, 0, 1, 1);
    const d = ctx.getImageData(0, 0, 1, 1).data;
    return [d[0], d[1], d[2], d[3] / 255];
  };
  const over = (top, bottom) => [0, 1, 2].map((i) => top[i] * top[3] + bottom[i] * (1 - top[3]));
  const background = (el) => {
    const layers = [];
    for (let node = el; node; node = node.parentElement) {
      const color = rgba(getComputedStyle(node).backgroundColor);
      if (color[3] > 0) layers.push(color);
      if (color[3] >= 1) break;
    }
    let result = [255, 255, 255];
    for (const layer of layers.reverse()) result = over(layer, result);
    return result;
  };
  const luminance = (rgb) => {
    const [r, g, b] = rgb.map((v) => {
      const c = v / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const failures = [];
  let checked = 0;
  for (const el of document.body.querySelectorAll('*')) {
    const ownText = [...el.childNodes]
      .filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent).join('').trim();
    if (!ownText) continue;
    const rect = el.getBoundingClientRect();
    if (rect.width <= 1 || rect.height <= 1 || rect.right <= 0 || rect.bottom <= 0) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden') continue;
    const bg = background(el);
    const fg = over(rgba(style.color), bg);
    const [hi, lo] = [luminance(fg), luminance(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    checked += 1;
    if (ratio < (large ? 3 : 4.5)) {
      failures.push({ text: ownText.slice(0, 40), tag: el.tagName, cls: el.className,
                      ratio: Math.round(ratio * 100) / 100 });
    }
  }
  return { checked, failures };
}
"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_contrast_meets_wcag_aa(
    server: Server,
    new_context: Callable[..., BrowserContext],
    math_paper: MathPaper,
    screenshot: Callable[[Page, str], Path],
    scheme: str,
) -> None:
    page = new_context(color_scheme=scheme).new_page()
    for path in (
        "/papers/date/2025-10-06",
        f"/papers/{math_paper.id}",
        "/papers/2510.00515",
        "/papers/trending",
        "/papers/9999.99999",
    ):
        page.goto(server.url + path)
        report: dict[str, Any] = page.evaluate(CONTRAST_JS)
        assert report["checked"] > 5, path
        assert report["failures"] == [], f"{scheme} {path}: low contrast"
        if scheme == "dark" and path == "/papers/date/2025-10-06":
            screenshot(page, "daily-dark")
    is_dark = page.evaluate("() => matchMedia('(prefers-color-scheme: dark)').matches")
    assert is_dark == (scheme == "dark")
    # the page follows the scheme: a dark background in dark mode, a light one otherwise
    channels = page.evaluate(
        "() => getComputedStyle(document.body).backgroundColor.match(/\\d+/g).slice(0, 3)"
    )
    brightness = sum(int(c) for c in channels) / 3
    assert brightness < 60 if scheme == "dark" else brightness > 200


def test_keyboard_focus_is_visible(server: Server, page: Page) -> None:
    page.goto(f"{server.url}/papers/date/2025-10-06")
    page.keyboard.press("Tab")
    skip = page.locator(":focus")
    expect(skip).to_have_attribute("href", "#main")
    expect(skip).to_be_in_viewport()
    for _ in range(6):
        focused = page.locator(":focus")
        outline = focused.evaluate(
            "el => { const s = getComputedStyle(el);"
            " return {style: s.outlineStyle, width: parseFloat(s.outlineWidth),"
            " shadow: s.boxShadow}; }"
        )
        has_ring = outline["style"] != "none" and outline["width"] >= 2
        assert has_ring or outline["shadow"] != "none", outline
        page.keyboard.press("Tab")
    # the skip link moves keyboard users past the header
    page.goto(f"{server.url}/papers/date/2025-10-06")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{server.url}/papers/date/2025-10-06#main")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_signed_in_pages_and_forms_meet_wcag_aa_contrast(
    server: Server, new_context: Callable[..., BrowserContext], scheme: str
) -> None:
    """The account pages and the signed-in paper page (vote pressed, comment form, a
    comment) in both schemes."""
    page = new_context(color_scheme=scheme).new_page()
    for path in ("/login", "/signup", "/forgot-password"):
        page.goto(server.url + path)
        report: dict[str, Any] = page.evaluate(CONTRAST_JS)
        assert report["failures"] == [], f"{scheme} {path}: low contrast"
    name = f"contrast-{scheme}"
    page.goto(f"{server.url}/signup")
    page.fill("#username", name)
    page.fill("#email", f"{name}@example.org")
    page.fill("#password", "a long enough password")
    page.click("form.form button[type=submit]")
    expect(page.locator(".account-nav .me")).to_have_text(name)
    page.goto(f"{server.url}/papers/2510.00515")
    page.locator(".paper-actions .vote-button").first.click()
    expect(page.locator(".paper-actions .vote-button").first).to_have_attribute(
        "aria-pressed", "true"
    )
    page.fill(
        "#new-comment", f"A **{scheme}** comment with $x^2$ and a [link](https://example.org)."
    )
    page.click("form.comment-new button[type=submit]")
    expect(page.locator("article[id^=comment-] strong", has_text=scheme)).to_have_count(1)
    for path in (
        "/papers/2510.00515",
        "/submit",
        "/settings",
        "/settings/tokens",
        f"/users/{name}",
        "/papers/date/2025-10-06",
    ):
        page.goto(server.url + path)
        report = page.evaluate(CONTRAST_JS)
        assert report["checked"] > 5, path
        assert report["failures"] == [], f"{scheme} {path}: low contrast"
