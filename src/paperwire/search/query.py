"""Parse what a user typed into a search box. Pure: no index, no database.

The syntax is small and forgiving: bare words (any of them may match, BM25 ranks papers
matching more of them higher), ``"quoted phrases"`` (must match), ``-word`` (must not
match), ``author:name`` / ``author:"full name"`` and ``category:cs.CL`` filters. Any
input parses: an unbalanced quote runs to the end, an unknown ``field:`` is plain text,
stray operators and control characters are ignored, and overlong input is cut.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from paperwire.ingest.arxiv_ids import InvalidArxivId, parse_arxiv_id

MAX_QUERY_CHARS = 1000
MAX_WORDS = 32
MAX_PHRASE_WORDS = 12

_FIELD_ALIASES = {
    "author": "author",
    "authors": "author",
    "au": "author",
    "category": "category",
    "cat": "category",
}
_TOKEN = re.compile(
    r"""(?P<neg>-)?(?:(?P<field>[A-Za-z]+):)?(?:"(?P<quoted>[^"]*)"?|(?P<word>[^\s"]+))"""
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_CATEGORY = re.compile(r"[A-Za-z][A-Za-z0-9.\-]{0,39}")


@dataclass(slots=True)
class ParsedQuery:
    words: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    arxiv_ids: list[str] = field(default_factory=list)
    text: str = ""  # the words and phrases in order: what semantic search embeds

    @property
    def is_empty(self) -> bool:
        return not (self.words or self.phrases or self.authors or self.categories)

    @property
    def has_filters(self) -> bool:
        return bool(self.authors or self.categories)


@dataclass(frozen=True, slots=True)
class Filters:
    """Restrictions that do not rank: every hit satisfies all of them."""

    categories: tuple[str, ...] = ()  # any of them
    organization: str | None = None  # slug
    has_code: bool | None = None
    date_from: date | None = None
    date_to: date | None = None

    @property
    def any(self) -> bool:
        return bool(
            self.categories
            or self.organization
            or self.has_code is not None
            or self.date_from
            or self.date_to
        )


def _arxiv_id(text: str) -> str | None:
    try:
        return parse_arxiv_id(text)[0]
    except InvalidArxivId:
        return None


def parse_query(raw: str) -> ParsedQuery:
    text = _CONTROL.sub(" ", raw[:MAX_QUERY_CHARS]).strip()
    parsed = ParsedQuery()
    whole_id = _arxiv_id(text) if text and " " not in text else None
    if whole_id is not None:
        parsed.arxiv_ids.append(whole_id)
    in_order: list[str] = []
    for match in _TOKEN.finditer(text):
        quoted, word = match["quoted"], match["word"]
        value = (quoted if quoted is not None else word or "").strip()
        name = _FIELD_ALIASES.get((match["field"] or "").lower())
        if match["field"] and name is None:
            value = f"{match['field']}:{value}"  # not a field we know: plain text
        if not value:
            continue
        if name == "author":
            parsed.authors.append(" ".join(value.split()[:MAX_PHRASE_WORDS]))
        elif name == "category":
            if _CATEGORY.fullmatch(value):
                parsed.categories.append(value)
        elif match["neg"]:
            parsed.excluded.append(value)
        elif quoted is not None:
            phrase = " ".join(value.split()[:MAX_PHRASE_WORDS])
            parsed.phrases.append(phrase)
            in_order.append(phrase)
        else:
            if whole_id is None and (found := _arxiv_id(value)) is not None:
                parsed.arxiv_ids.append(found)
            if len(parsed.words) < MAX_WORDS:
                parsed.words.append(value)
                in_order.append(value)
    parsed.text = " ".join(in_order)
    return parsed
