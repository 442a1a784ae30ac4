"""Snippets: the part of an abstract that best matches a query, with its terms marked.

Matching uses the same stemmer as the keyword index, so "models" in a query marks
"model" and "modeling" in the text. Output is escaped HTML with ``<mark>`` around
matches; nothing from the paper reaches the page unescaped.
"""

from __future__ import annotations

import re
from functools import lru_cache

from markupsafe import Markup, escape

from paperwire.search.analysis import content_stems, stems
from paperwire.text import plain_excerpt

WINDOW_WORDS = 40
_WORD = re.compile(r"\w+")


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    found = stems(word)
    return found[0] if len(found) == 1 else ""


def query_stems(text: str) -> frozenset[str]:
    return frozenset(content_stems(text) or stems(text))


def _mark(text: str, terms: frozenset[str]) -> Markup:
    parts: list[str] = []
    last = 0
    for match in _WORD.finditer(text):
        if _stem(match[0].lower()) in terms:
            parts.append(str(escape(text[last : match.start()])))
            parts.append(f"<mark>{escape(match[0])}</mark>")
            last = match.end()
    parts.append(str(escape(text[last:])))
    return Markup("".join(parts))  # noqa: S704 - every piece was escaped above


def highlight_title(title: str, terms: frozenset[str]) -> Markup:
    return _mark(title, terms)


def snippet(abstract: str, terms: frozenset[str], words: int = WINDOW_WORDS) -> Markup:
    """The ``words``-word window of the abstract with the most distinct query terms."""
    plain = plain_excerpt(abstract, limit=len(abstract) + 1)
    spans = [(m.start(), m.end(), m[0]) for m in _WORD.finditer(plain)]
    if not spans:
        return escape(plain)
    start = 0
    if len(spans) > words and terms:
        matched = [_stem(word.lower()) if word else "" for _, _, word in spans]
        best = -1
        for begin in range(0, len(spans) - words + 1, max(words // 4, 1)):
            found = len(terms.intersection(matched[begin : begin + words]))
            if found > best:
                best, start = found, begin
    end = min(start + words, len(spans))
    text_from = spans[start][0] if start > 0 else 0
    text_to = spans[end - 1][1] if end < len(spans) else len(plain)
    prefix = "… " if text_from > 0 else ""
    suffix = " …" if text_to < len(plain) else ""
    return escape(prefix) + _mark(plain[text_from:text_to], terms) + escape(suffix)
