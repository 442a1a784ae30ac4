"""The search-box syntax: forgiving, never an error."""

from __future__ import annotations

import pytest

from paperwire.search.query import MAX_WORDS, parse_query


def test_words_phrases_exclusions_and_filters() -> None:
    parsed = parse_query('author:"Yann LeCun" cat:cs.LG -survey "energy based" models')
    assert parsed.words == ["models"]
    assert parsed.phrases == ["energy based"]
    assert parsed.excluded == ["survey"]
    assert parsed.authors == ["Yann LeCun"]
    assert parsed.categories == ["cs.LG"]
    assert parsed.text == "energy based models"  # what semantic search embeds


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("2510.01459", "2510.01459"),
        ("arXiv:2510.01459v2", "2510.01459"),
        ("https://arxiv.org/abs/2510.01459v3", "2510.01459"),
        ("https://arxiv.org/pdf/2510.01459", "2510.01459"),
        ("hep-th/9901001", "hep-th/9901001"),
        ("see 2510.01459 please", "2510.01459"),
    ],
)
def test_arxiv_ids_in_any_spelling_are_found(query: str, expected: str) -> None:
    assert parse_query(query).arxiv_ids == [expected]


def test_unbalanced_quote_runs_to_the_end() -> None:
    assert parse_query('"state of the art').phrases == ["state of the art"]


def test_unknown_fields_are_plain_text_and_bad_categories_are_dropped() -> None:
    parsed = parse_query("title:attention category:<script> x")
    assert parsed.words == ["title:attention", "x"]
    assert parsed.categories == []


@pytest.mark.parametrize(
    "query", ["", " ", '"', '""', "-", "\x00\x01", "*", "()", "AND OR NOT", "a" * 10_000]
)
def test_hostile_input_parses(query: str) -> None:
    parsed = parse_query(query)
    assert len(parsed.words) <= MAX_WORDS
    assert "\x00" not in parsed.text


def test_long_input_is_cut() -> None:
    parsed = parse_query("word " * 5000)
    assert len(parsed.words) == MAX_WORDS
