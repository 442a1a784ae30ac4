"""MathML for formulas: latex2mathml's element tree, serialized through an allowlist.

latex2mathml is not a sanitizer (it copies ``\\text{<b>}`` verbatim and emits
``href="javascript:..."`` for ``\\href``), so its tree is written out here with only
allowlisted elements and attributes, and every text and attribute value escaped.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import Any

from latex2mathml.converter import convert_to_element

# --- the allowlist: what latex2mathml emits, minus anything that can carry a URL,
# --- CSS or script (href, style, class, id, actiontype...) -----------------------

MATHML_TAGS = frozenset(
    {
        "math", "mi", "mn", "mo", "ms", "mtext", "mspace", "mrow", "mfrac", "msqrt",
        "mroot", "mstyle", "merror", "mpadded", "mphantom", "menclose", "msub", "msup",
        "msubsup", "munder", "mover", "munderover", "mmultiscripts", "mprescripts",
        "none", "mtable", "mtr", "mtd", "mlabeledtr", "mfenced", "semantics",
    }
)  # fmt: skip
MATHML_ATTRIBUTES = frozenset(
    {
        "display", "mathvariant", "stretchy", "fence", "separator", "form", "lspace",
        "rspace", "minsize", "maxsize", "largeop", "movablelimits", "symmetric",
        "accent", "accentunder", "width", "height", "depth", "voffset", "linethickness",
        "columnalign", "columnlines", "columnspacing", "rowspacing", "rowlines",
        "rowalign", "frame", "framespacing", "displaystyle", "scriptlevel", "mathsize",
        "mathcolor", "mathbackground", "notation", "open", "close", "separators",
        "linebreak", "bevelled", "numalign", "denomalign", "columnspan", "rowspan",
        "equalrows", "equalcolumns",
    }
)  # fmt: skip
_MATHML_NS = "http://www.w3.org/1998/Math/MathML"
# Every value latex2mathml emits is a token like "true", "0.833em", "-.2em", "red",
# "#ff0000" or "left center"; anything else (say \color{javascript:...}) is dropped.
_ATTRIBUTE_VALUE = re.compile(r"[#A-Za-z0-9.%+\- ]{1,64}")


@lru_cache(maxsize=8192)
def formula_to_mathml(formula: str, display: bool) -> str | None:
    """The MathML for one formula, or None if latex2mathml cannot convert it.

    Cached: the same short formulas (``$\\times$``, ``$\\sim$``, ``$k$``) recur across
    abstracts, and a paper page renders its abstract on every view. Measured on 2,000
    real abstracts with ``$``: render_abstract takes ~0.35 ms each with a cold cache
    (latex2mathml is ~0.17 ms per formula) and ~0.1 ms once formulas are cached.
    """
    try:
        root = convert_to_element(formula, display="block" if display else "inline")
    except Exception:  # latex2mathml raises many types on malformed input
        return None
    parts: list[str] = []
    _serialize(root, parts)
    return "".join(parts)


def _serialize(element: Any, out: list[str]) -> None:
    """Write a latex2mathml element tree as HTML: allowlisted tags and attributes
    (with plain token values) only, every text and attribute value escaped.

    latex2mathml stores character references ("&#x0003C;") as literal element text
    and un-escapes its own output; here they are decoded and re-escaped instead, so
    ``\\text{<script>}`` becomes the text "<script>", never a tag.
    """
    stack: list[tuple[Any, bool]] = [(element, False)]
    while stack:
        node, closing = stack.pop()
        if isinstance(node, str):
            out.append(node)
            continue
        tag = node.tag if isinstance(node.tag, str) else ""
        allowed = tag in MATHML_TAGS
        if closing:
            if allowed:
                out.append(f"</{tag}>")
            if node.tail:
                out.append(escape_text(node.tail))
            continue
        if allowed:
            attributes = "".join(
                f' {name}="{html.escape(value, quote=True)}"'
                for name, value in ((n, html.unescape(str(v))) for n, v in node.attrib.items())
                if name in MATHML_ATTRIBUTES and _ATTRIBUTE_VALUE.fullmatch(value)
            )
            xmlns = f' xmlns="{_MATHML_NS}"' if tag == "math" else ""
            out.append(f"<{tag}{xmlns}{attributes}>")
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(list(node)))
        if node.text:
            stack.append((escape_text(node.text), False))


def escape_text(text: str) -> str:
    return html.escape(html.unescape(text), quote=False)
