"""The keyword index on its own: BM25 field weights, syntax, filters, hostile queries."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from paperwire.search.keyword import KeywordDoc, KeywordIndex
from paperwire.search.query import Filters, parse_query


def _doc(paper_id: str, title: str, abstract: str = "", **kw: object) -> KeywordDoc:
    values: dict[str, object] = {
        "authors": ["Ada Lovelace"],
        "categories": ["cs.CL"],
        "organization": None,
        "has_code": False,
        "published": date(2025, 1, 1),
    }
    values.update(kw)
    return KeywordDoc(paper_id, title, abstract, **values)  # type: ignore[arg-type]


@pytest.fixture
def index(tmp_path: Path) -> KeywordIndex:
    index = KeywordIndex.create(tmp_path / "kw", instance_id=1)
    docs = [
        _doc("t", "Sparse attention for long documents", "We study efficiency."),
        _doc("a", "Efficient inference", "We propose sparse attention for long inputs."),
        _doc("g", "Graph networks", "Message passing.", authors=["Grace Hopper"]),
        _doc(
            "v",
            "Video diffusion models",
            "Diffusion models generate videos. State of the art results.",
            categories=["cs.CV"],
            organization="acme",
            has_code=True,
            published=date(2025, 6, 1),
        ),
        _doc("s", "Survey of diffusion", "A survey of diffusion models.", categories=["cs.LG"]),
    ]
    with index.writer() as writer:
        index.replace(writer, docs)
    return index


def ids(index: KeywordIndex, query: str, filters: Filters | None = None) -> list[str]:
    found = index.search(parse_query(query), filters or Filters(), limit=10)
    return [paper_id for paper_id, _ in found.hits]


def test_a_title_match_ranks_above_an_abstract_match(index: KeywordIndex) -> None:
    assert ids(index, "sparse attention")[:2] == ["t", "a"]


def test_stemming_matches_other_word_forms(index: KeywordIndex) -> None:
    assert "v" in ids(index, "generating video")


def test_authors_are_searchable_and_filterable(index: KeywordIndex) -> None:
    assert ids(index, "hopper") == ["g"]
    assert ids(index, 'author:"grace hopper"') == ["g"]
    assert ids(index, 'author:"hopper grace"') == []


def test_phrases_must_match_in_order(index: KeywordIndex) -> None:
    assert ids(index, '"state of the art"') == ["v"]
    assert ids(index, '"art the of state"') == []


def test_excluded_words_and_category_filters(index: KeywordIndex) -> None:
    assert set(ids(index, "diffusion")) == {"v", "s"}
    assert ids(index, "diffusion -survey") == ["v"]
    assert ids(index, "diffusion category:cs.lg") == ["s"]


def test_filters(index: KeywordIndex) -> None:
    assert ids(index, "diffusion", Filters(has_code=True)) == ["v"]
    assert ids(index, "diffusion", Filters(organization="acme")) == ["v"]
    assert ids(index, "diffusion", Filters(categories=("cs.CV", "cs.LG"))) != []
    assert ids(index, "diffusion", Filters(date_from=date(2025, 3, 1))) == ["v"]
    assert ids(index, "diffusion", Filters(date_to=date(2025, 3, 1))) == ["s"]


def test_replacing_a_document_does_not_duplicate_it(index: KeywordIndex) -> None:
    with index.writer() as writer:
        index.replace(writer, [_doc("g", "Graph transformers", "Attention on graphs.")])
    assert ids(index, "graph") == ["g"]
    assert index.num_docs() == 5


def test_exact_title_ignores_case_and_punctuation(index: KeywordIndex) -> None:
    assert index.exact_title("video diffusion MODELS!") == ["v"]
    assert index.exact_title("video diffusion") == []


@pytest.mark.parametrize(
    "query",
    ['"', '"unbalanced', "*", "a AND OR", "\x00\x00", "((", "-", "author:", ":::", "x" * 10_000],
)
def test_hostile_queries_return_a_list(index: KeywordIndex, query: str) -> None:
    assert isinstance(ids(index, query), list)


def test_the_total_counts_every_match(index: KeywordIndex) -> None:
    found = index.search(parse_query("diffusion"), Filters(), limit=1)
    assert len(found.hits) == 1
    assert found.total == 2
