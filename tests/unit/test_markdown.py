"""Comment Markdown: math to MathML, safe links, raw HTML as text, limits."""

from __future__ import annotations

import time
from html.parser import HTMLParser

import pytest

from paperwire.community.markdown import (
    LINK_REL,
    MAX_BODY,
    MAX_FORMULA,
    MAX_FORMULAS,
    check_body,
    render_markdown,
)
from paperwire.errors import UserError


class _Tags(HTMLParser):
    """Every start tag with its attributes, as a browser-like parser reads them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags_of(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser.tags


def test_inline_and_display_math_become_mathml() -> None:
    html = render_markdown("Energy $E = mc^2$ and\n\n$$\\frac{a}{b}$$")
    tags = tags_of(html)
    maths = [attrs for tag, attrs in tags if tag == "math"]
    assert [m.get("display") for m in maths] == ["inline", "block"]
    assert ("mfrac", {}) in tags
    assert "<msup><mi>c</mi><mn>2</mn></msup>" in html
    assert "$" not in html


def test_double_dollar_inside_a_paragraph_is_display_math() -> None:
    html = render_markdown("so $$x+1$$ holds")
    assert '<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">' in html
    assert html.startswith("<p>so ")


def test_dollars_as_money_stay_text() -> None:
    assert render_markdown("It costs $5 and $10 a month.") == (
        "<p>It costs $5 and $10 a month.</p>\n"
    )


def test_formula_latex2mathml_cannot_read_is_shown_as_code() -> None:
    assert render_markdown("broken $\\frac{$ here") == "<p>broken <code>$\\frac{$</code> here</p>\n"


def test_overlong_formula_is_shown_as_source() -> None:
    formula = "x+" * (MAX_FORMULA // 2 + 1) + "x"
    html = render_markdown(f"${formula}$")
    assert "<math" not in html
    assert f"<code>${formula}$</code>" in html


def test_only_so_many_formulas_are_typeset_per_comment() -> None:
    html = render_markdown(" ".join(f"$x_{{{i}}}$" for i in range(MAX_FORMULAS + 1)))
    assert html.count("<math") == MAX_FORMULAS
    assert html.endswith(f"<code>$x_{{{MAX_FORMULAS}}}$</code></p>\n")


def test_latex_href_and_text_html_cannot_make_links_or_tags() -> None:
    html = render_markdown(
        "$\\href{javascript:alert(1)}{x}$ $\\text{<img src=x onerror=alert(2)>}$ "
        "$\\style{background:url(javascript:alert(3))}{y}$"
    )
    tags = tags_of(html)
    assert {tag for tag, _ in tags} <= {"p", "math", "mrow", "mi", "mtext"}
    assert all(not name.startswith("on") for _, attrs in tags for name in attrs)
    assert "href" not in html
    assert "style" not in html
    assert "&lt;img" in html  # the text of \text{...}, escaped


def test_links_get_rel_and_keep_safe_urls() -> None:
    html = render_markdown(
        "[paper](https://arxiv.org/abs/2510.01459) <https://example.org/x> "
        "[mail](mailto:a@example.org) [here](/papers/2510.01459) [up](#comment-3)"
    )
    links = [attrs for tag, attrs in tags_of(html) if tag == "a"]
    assert [link["href"] for link in links] == [
        "https://arxiv.org/abs/2510.01459",
        "https://example.org/x",
        "mailto:a@example.org",
        "/papers/2510.01459",
        "#comment-3",
    ]
    assert all(link["rel"] == LINK_REL for link in links)
    assert LINK_REL == "nofollow noopener ugc"


@pytest.mark.parametrize(
    "markdown",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](<javascript:alert(1)>)",
        "[x](&#x6a;avascript:alert(1))",
        "[x](java&#9;script:alert(1))",
        "[x](vbscript:msgbox(1))",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "<javascript:alert(1)>",
        "[x][r]\n\n[r]: javascript:alert(1)",
        "![x](javascript:alert(1))",
        "[x](//evil.example/)",
        "[x](file:///etc/passwd)",
    ],
)
def test_dangerous_and_foreign_urls_are_dropped(markdown: str) -> None:
    html = render_markdown(markdown)
    hrefs = [attrs.get("href") for tag, attrs in tags_of(html) if tag == "a"]
    assert all(href is None for href in hrefs), html


def test_a_backslash_path_stays_on_this_site() -> None:
    # Browsers read "/\\host" as "//host"; markdown-it percent-encodes the backslash.
    html = render_markdown("[x](/\\evil.example/)")
    assert [attrs["href"] for tag, attrs in tags_of(html) if tag == "a"] == ["/%5Cevil.example/"]


def test_images_become_links_not_fetches() -> None:
    html = render_markdown('![a chart](https://example.org/c.png "t")')
    tags = tags_of(html)
    assert [tag for tag, _ in tags] == ["p", "a"]
    assert tags[1][1] == {"href": "https://example.org/c.png", "rel": LINK_REL}
    assert ">a chart</a>" in html


def test_raw_html_is_escaped_text() -> None:
    html = render_markdown(
        "<script>alert(1)</script> <img src=x onerror=alert(2)> <b>bold</b>\n\n"
        "<div onclick=alert(3)>block</div>"
    )
    assert {tag for tag, _ in tags_of(html)} == {"p"}
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;div onclick=alert(3)&gt;" in html


def test_headings_move_down_two_levels() -> None:
    html = render_markdown("# One\n\n## Two\n\n### Three\n\n#### Four\n\n###### Six")
    assert [tag for tag, _ in tags_of(html)] == ["h3", "h4", "h5", "h6", "h6"]


def test_common_markdown_survives_sanitizing() -> None:
    html = render_markdown(
        "*em* **strong** ~~gone~~ `code`\n\n> quote\n\n3. three\n4. four\n\n- a\n- b\n\n"
        "```python\nprint(1)\n```\n\n---\n\n| a | b |\n|:-|-:|\n| 1 | 2 |\n\nline  \nbreak"
    )
    tags = tags_of(html)
    names = {tag for tag, _ in tags}
    assert names == {
        "p", "em", "strong", "s", "code", "blockquote", "ol", "ul", "li", "pre", "hr",
        "table", "thead", "tbody", "tr", "th", "td", "br",
    }  # fmt: skip
    assert ("ol", {"start": "3"}) in tags
    # alignment styles and language classes are dropped with every other attribute
    assert all(not attrs for tag, attrs in tags if tag in ("th", "td", "code"))


def test_check_body_normalizes_and_limits() -> None:
    assert check_body("  a\r\nb\rc\x00d\x07e\x7f  ") == "a\nb\ncde"
    assert check_body("tab\there") == "tab\there"
    assert len(check_body("x" * MAX_BODY)) == MAX_BODY
    with pytest.raises(UserError, match="needs some text"):
        check_body(" \n\t\x00 ")
    with pytest.raises(UserError, match=r"at most 10,000 characters.*10,001"):
        check_body("x" * (MAX_BODY + 1))


def test_null_bytes_and_controls_never_reach_the_html() -> None:
    html = render_markdown(check_body("a\x00<scr\x00ipt>b\x1b[31m"))
    assert "\x00" not in html
    assert "\x1b" not in html
    assert "&lt;script&gt;" in html


@pytest.mark.parametrize(
    "hostile",
    [
        "[" * MAX_BODY,
        ">" * MAX_BODY,
        "*a" * (MAX_BODY // 2),
        "$a$ " * (MAX_BODY // 4),
        "- " * (MAX_BODY // 2),
        "`" * MAX_BODY,
        "<" * MAX_BODY,
        "\\" * MAX_BODY,
        ("[a](" * 2000)[:MAX_BODY],
    ],
    ids=["brackets", "quotes", "emphasis", "formulas", "lists", "backticks", "angles",
         "backslashes", "open-links"],
)  # fmt: skip
def test_pathological_input_renders_quickly(hostile: str) -> None:
    start = time.perf_counter()
    html = render_markdown(check_body(hostile))
    assert time.perf_counter() - start < 3.0
    assert all(not name.startswith("on") for _, attrs in tags_of(html) for name in attrs)
