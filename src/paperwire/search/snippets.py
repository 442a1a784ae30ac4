"""Snippets: the part of an abstract that best matches a query, with its terms marked.

Matching uses the same stemmer as the keyword index, so "models" in a query marks
"model" and "modeling" in the text. Output is escaped HTML with ``<mark>`` around
matches; nothing from the paper reaches the page unescaped.

Speed matters (a results page makes 20 snippets): a regular expression of the query
stems' prefixes finds candidate words in C, and only those are stemmed in Python.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from markupsafe import Markup, escape

from paperwire.search.analysis import content_stems, stems
from paperwire.text import cut_at_word, plain_excerpt

WINDOW_CHARS = 300


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    found = stems(word)
    return found[0] if len(found) == 1 else ""


@dataclass(frozen=True, slots=True)
class QueryTerms:
    stems: frozenset[str]
    candidates: re.Pattern[str] | None  # words that may stem to one of ``stems``


def query_terms(text: str) -> QueryTerms:
    found = frozenset(content_stems(text) or stems(text))
    if not found:
        return QueryTerms(found, None)
    # A Porter stem is a prefix of its word, give or take its last letter ("happi").
    prefixes = sorted({re.escape(s if len(s) <= 3 else s[:-1]) for s in found}, key=len)
    pattern = re.compile(r"\b(?:" + "|".join(reversed(prefixes)) + r")\w*", re.IGNORECASE)
    return QueryTerms(found, pattern)


def _matches(text: str, terms: QueryTerms) -> list[tuple[int, int, str]]:
    if terms.candidates is None:
        return []
    found = []
    for match in terms.candidates.finditer(text):
        stem = _stem(match[0].lower())
        if stem in terms.stems:
            found.append((match.start(), match.end(), stem))
    return found


def _mark(text: str, matches: list[tuple[int, int, str]], offset: int = 0) -> Markup:
    parts: list[str] = []
    last = 0
    for start, end, _ in matches:
        start, end = start - offset, end - offset
        if start < last or start < 0 or end > len(text):
            continue
        parts.append(str(escape(text[last:start])))
        parts.append(f"<mark>{escape(text[start:end])}</mark>")
        last = end
    parts.append(str(escape(text[last:])))
    return Markup("".join(parts))  # noqa: S704 - every piece was escaped above


def highlight_title(title: str, terms: QueryTerms) -> Markup:
    return _mark(title, _matches(title, terms))


def snippet(abstract: str, terms: QueryTerms, width: int = WINDOW_CHARS) -> Markup:
    """About ``width`` characters of the abstract: the stretch with the most query terms."""
    plain = plain_excerpt(abstract, limit=len(abstract) + 1)
    matches = _matches(plain, terms)
    start = 0
    if len(plain) > width and matches:
        best = -1
        for first, _, _ in matches:
            begin = max(0, first - width // 6)
            distinct = len({stem for s, e, stem in matches if begin <= s and e <= begin + width})
            if distinct > best:
                best, start = distinct, begin
        if start > 0:  # start at a word
            space = plain.rfind(" ", 0, start)
            start = space + 1 if space >= 0 else 0
    window = cut_at_word(plain[start:], width)
    prefix = "… " if start > 0 else ""
    inside = [m for m in matches if m[0] >= start and m[1] <= start + len(window)]
    return escape(prefix) + _mark(window, inside, offset=start)
