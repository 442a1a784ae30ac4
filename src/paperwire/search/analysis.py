"""How text becomes index terms: one definition shared by indexing, queries and snippets."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

STEMMED = "pw_stem"  # English words: lowercase, ASCII-folded, Porter-stemmed
NAMES = "pw_name"  # author names: lowercase, ASCII-folded, not stemmed

_NON_WORD = re.compile(r"[^\w]+")


@cache
def analyzers() -> dict[str, Any]:
    """The named text analyzers, built once per process (on first use, not at import)."""
    import tantivy

    def build(*filters: Any) -> Any:
        builder = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        for item in (tantivy.Filter.remove_long(40), tantivy.Filter.lowercase(), *filters):
            builder = builder.filter(item)
        return builder.build()

    folding = tantivy.Filter.ascii_fold()
    return {
        STEMMED: build(folding, tantivy.Filter.stemmer("english")),
        NAMES: build(folding),
        "stop": build(folding, tantivy.Filter.stopword("english")),
    }


def stems(text: str) -> list[str]:
    return list(analyzers()[STEMMED].analyze(text))


def name_terms(text: str) -> list[str]:
    return list(analyzers()[NAMES].analyze(text))


def content_stems(text: str) -> list[str]:
    """Stems of the words that are not English stop words ("the", "of"...)."""
    kept = " ".join(analyzers()["stop"].analyze(text))
    return stems(kept)


def title_key(title: str) -> str:
    """A title reduced to lowercase words, so exact-title matches ignore case and punctuation."""
    return " ".join(_NON_WORD.sub(" ", title.casefold()).split())
