"""Search through the HTTP API and the page, over the real HF archive (keyword side).

Semantic search is off in these settings, so every answer also shows the fallback: the
mode that answered is keyword and a notice says why.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from paperwire.ingest.pipeline import import_paths
from paperwire.store.db import make_engine


def search(client: TestClient, q: str, **params: object) -> tuple[list[dict[str, object]], dict]:
    response = client.get("/api/papers/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    return response.json(), dict(response.headers)


def test_keyword_results_with_total_and_fallback_notice(hf_client: TestClient) -> None:
    hits, headers = search(hf_client, "video diffusion")
    assert len(hits) == 20
    assert int(headers["x-total-count"]) > 100
    assert headers["x-search-mode"] == "keyword"
    assert "semantic search unavailable" in headers["x-search-notice"]
    first = hits[0]
    assert {"paper", "title", "summary", "publishedAt", "snippet", "rank"} <= first.keys()
    assert "<mark>" in str(first["highlightedTitle"]) + str(first["snippet"])
    assert first["matchedBy"] == ["keyword"]


def test_an_arxiv_id_in_any_form_is_pinned_first(hf_client: TestClient) -> None:
    for q in ("2510.01459", "arXiv:2510.01459v1", "https://arxiv.org/abs/2510.01459"):
        hits, _ = search(hf_client, q)
        assert hits[0]["paper"]["id"] == "2510.01459"  # type: ignore[index]
        assert hits[0]["pinned"] == "arXiv id"


def test_an_exact_title_is_pinned_first(hf_client: TestClient) -> None:
    title = "Transformers without Normalization"
    hits, _ = search(hf_client, title.lower())
    assert hits[0]["title"] == title
    assert hits[0]["pinned"] == "title"


def test_every_hit_satisfies_the_filters(hf_client: TestClient, hf_settings) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(hf_settings)
    hits, _ = search(
        hf_client,
        "language model",
        organization="nvidia",
        has_code="true",
        **{"from": "2025-01-01", "to": "2025-12-31"},
        limit=100,
    )
    assert hits
    with engine.connect() as conn:
        for hit in hits:
            paper = hit["paper"]
            assert paper["organization"]["name"] == "nvidia"  # type: ignore[index]
            assert "2025-01-01" <= paper["publishedAt"][:10] <= "2025-12-31"  # type: ignore[index]
            has_code = conn.execute(
                text("SELECT 1 FROM links WHERE paper_id = :id AND kind = 'code'"),
                {"id": paper["id"]},  # type: ignore[index]
            ).first()
            assert has_code is not None
    engine.dispose()


def test_sorting_by_date_and_upvotes(hf_client: TestClient) -> None:
    by_date, _ = search(hf_client, "reasoning", sort="date", limit=50)
    dates = [hit["publishedAt"] for hit in by_date]
    assert dates == sorted(dates, reverse=True)
    by_votes, _ = search(hf_client, "reasoning", sort="upvotes", limit=50)
    votes = [hit["paper"]["upvotes"] for hit in by_votes]  # type: ignore[index]
    assert votes == sorted(votes, reverse=True)
    assert votes[0] > votes[-1]


def test_pages_do_not_overlap(hf_client: TestClient) -> None:
    first, _ = search(hf_client, "agents", limit=10, p=0)
    second, _ = search(hf_client, "agents", limit=10, p=1)
    assert len(second) == 10
    ids = [hit["paper"]["id"] for hit in first + second]  # type: ignore[index]
    assert len(set(ids)) == 20
    assert [hit["rank"] for hit in second] == list(range(11, 21))


@pytest.mark.parametrize(
    "q",
    [
        '"unbalanced',
        "AND OR NOT",
        "*",
        "\x00",
        "author:",
        "category:",
        "((((",
        '"" - -- :',
        "ünïcödé 数学 🚀",
        "x" * 10_000,
        "word " * 2_000,
    ],
)
def test_hostile_queries_answer_with_a_list(hf_client: TestClient, q: str) -> None:
    hits, _ = search(hf_client, q)
    assert isinstance(hits, list)


def test_bad_parameters_get_a_reason(hf_client: TestClient) -> None:
    for params in (
        {"q": "x", "mode": "magic"},
        {"q": "x", "from": "yesterday"},
        {"q": "x", "limit": 0},
        {"q": "x", "from": "2025-02-01", "to": "2025-01-01"},
        {"q": "x", "has_code": "maybe"},
        {"q": "x", "to": "2025-13-01"},
    ):
        response = hf_client.get("/api/papers/search", params=params)
        assert response.status_code == 422, params
        assert response.json()["detail"]


def test_an_imported_paper_is_findable_at_once(
    hf_client: TestClient, hf_settings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "new.jsonl"
    source.write_text(
        '{"id": "lab:1", "source": "lab", "title": "Zyzzyva quokka alignment", '
        '"abstract": "A study.", "authors": ["A. Author"], "published": "2026-01-02"}\n'
    )
    engine: Engine = make_engine(hf_settings)
    assert import_paths(engine, [source]).papers_inserted == 1
    engine.dispose()
    hits, headers = search(hf_client, "quokka zyzzyva")
    assert [hit["paper"]["id"] for hit in hits] == ["lab:1"]  # type: ignore[index]
    assert "waiting to be indexed" not in headers.get("x-search-notice", "")


def test_related_for_unknown_and_unembedded_papers(hf_client: TestClient) -> None:
    assert hf_client.get("/api/papers/9999.99999/related").status_code == 404
    response = hf_client.get("/api/papers/2510.01459/related")
    assert response.status_code == 200
    assert response.json() == []
    assert "embedding" in response.headers["x-search-notice"]


def test_the_search_page(hf_client: TestClient) -> None:
    response = hf_client.get(
        "/search", params={"q": "chain of thought", "sort": "relevance", "category": ""}
    )
    assert response.status_code == 200
    html = response.text
    assert 'value="chain of thought"' in html  # the query is kept
    assert "results" in html
    assert "<mark>" in html
    assert "semantic search unavailable" in html
    assert 'rel="next"' in html
    assert "q=chain+of+thought" in html
    empty = hf_client.get("/search")
    assert empty.status_code == 200
    assert "Search papers" in empty.text


def test_the_forms_blank_fields_mean_any(hf_client: TestClient) -> None:
    blank = {"q": "reasoning", "category": "", "organization": "", "from": "", "to": ""}
    page = hf_client.get("/search", params={**blank, "has_code": "", "sort": "date"})
    assert page.status_code == 200
    assert "results" in page.text
    api = hf_client.get("/api/papers/search", params={**blank, "has_code": " "})
    assert api.status_code == 200
    assert api.json()


def test_the_header_has_a_search_box(hf_client: TestClient) -> None:
    assert 'action="/search"' in hf_client.get("/").text


def test_date_filter_values_are_dates() -> None:
    assert date.fromisoformat("2025-01-01")
