"""Comment bodies: CommonMark with ``$math$``, rendered to sanitized HTML (pure).

A comment is rendered once, when it is written, and its HTML is stored beside the
Markdown. Safety is layered, as for titles and abstracts (:mod:`paperwire.text`):

1. markdown-it runs with raw HTML disabled, so every ``<`` a member types is text, and
   its own link check drops ``javascript:``, ``vbscript:``, ``file:`` and most ``data:``
   URLs;
2. math becomes MathML through :func:`paperwire.mathml.formula_to_mathml`, which writes
   latex2mathml's tree through an allowlist (no ``href``, no ``style``, text escaped);
3. the whole result goes through ``nh3`` with an explicit allowlist of tags, attributes
   and URL schemes, so a bug in 1 or 2 still cannot let a script, an event handler or a
   ``javascript:`` URL reach a page.

Headings are moved down two levels (``#`` becomes ``<h3>``): a comment lives under the
paper's ``<h1>`` and the Discussion ``<h2>``. Images become links (a comment must not
make every reader's browser fetch a stranger's URL).
"""

from __future__ import annotations

import html
import importlib.util
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from mdit_py_plugins.dollarmath import dollarmath_plugin

from paperwire.errors import UserError
from paperwire.mathml import MATHML_ATTRIBUTES, MATHML_TAGS, formula_to_mathml

__all__ = ["MAX_BODY", "check_body", "render_markdown"]

MAX_BODY = 10_000  # characters of Markdown
# Formulas longer than this, or past this many in one comment, are shown as source:
# latex2mathml's time grows with input, and hostile input must not cost seconds.
MAX_FORMULA = 1000
MAX_FORMULAS = 200
HEADING_SHIFT = 2  # "#" -> <h3>, "##" -> <h4>, ... capped at <h6>
LINK_REL = "nofollow noopener ugc"

_HTML_TAGS = frozenset(
    {
        "p", "br", "em", "strong", "del", "s", "code", "pre", "blockquote", "ul", "ol",
        "li", "a", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th",
        "td",
    }
)  # fmt: skip
# Relative links are kept only as paths of this site ("/papers/2510.01459") or
# fragments ("#comment-3"); "//host" and "/\\host" are other sites in disguise.
_SAME_SITE_PATH = re.compile(r"(?:/(?![/\\])|#)[^\\]*\Z")
_CLEANER = nh3.Cleaner(
    tags=set(_HTML_TAGS | MATHML_TAGS),
    attributes={
        "a": {"href"},
        "ol": {"start"},
        "math": {"xmlns", *MATHML_ATTRIBUTES},
        **{tag: set(MATHML_ATTRIBUTES) for tag in MATHML_TAGS if tag != "math"},
    },
    url_schemes={"http", "https", "mailto"},
    url_relative=lambda url: url if _SAME_SITE_PATH.match(url) else None,
    link_rel=LINK_REL,
    strip_comments=True,
)
# C0 controls other than tab and newline, DEL, and lone surrogates: invisible, and NUL
# cannot even be stored in a PostgreSQL text column.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")


def check_body(text: str) -> str:
    """The Markdown to store: line ends normalized, control characters removed, and
    within 1..``MAX_BODY`` characters (else a :class:`UserError` saying which)."""
    body = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if not body:
        raise UserError("A comment needs some text.")
    if len(body) > MAX_BODY:
        raise UserError(
            f"A comment can be at most {MAX_BODY:,} characters long; this one has "
            f"{len(body):,}. Shorten it or split it into replies."
        )
    return body


def render_markdown(body: str) -> str:
    """Sanitized HTML for a comment's Markdown (call :func:`check_body` first)."""
    env: dict[str, Any] = {"formulas": 0}
    return _CLEANER.clean(_parser().render(body, env))


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    if importlib.util.find_spec("linkify_it") is not None:  # optional: bare URLs as links
        md.enable("linkify")
        md.options["linkify"] = True
    # Pandoc's rules for telling math from money: "$5 and $6" stays text.
    dollarmath_plugin(
        md, allow_labels=False, allow_space=False, allow_digits=False, double_inline=True
    )
    md.core.ruler.push("shift_headings", _shift_headings)
    for name in ("math_inline", "math_inline_double", "math_block"):
        md.add_render_rule(name, _render_math)
    md.add_render_rule("image", _render_image)
    return md


def _shift_headings(state: StateCore) -> None:
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close"):
            level = min(6, int(token.tag[1:]) + HEADING_SHIFT)
            token.tag = f"h{level}"


def _render_math(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    formula = token.content.strip()
    display = token.type != "math_inline"
    env["formulas"] = env.get("formulas", 0) + 1
    mathml = None
    if len(formula) <= MAX_FORMULA and env["formulas"] <= MAX_FORMULAS:
        mathml = formula_to_mathml(formula, display)
    if mathml is None:  # not LaTeX latex2mathml understands: show the source
        fence = "$$" if display else "$"
        mathml = f"<code>{html.escape(fence + formula + fence)}</code>"
    return f"<p>{mathml}</p>\n" if token.type == "math_block" else mathml


def _render_image(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    source = str(token.attrGet("src") or "")
    alt = self.renderInlineAsText(token.children or [], options, env) or source
    return f'<a href="{html.escape(source)}">{html.escape(alt)}</a>'
