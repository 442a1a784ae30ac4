"""The JSON API against a real SQLite database holding the whole Hugging Face archive."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient


def day_file(data_dir: Path, day: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads(
        (data_dir / "hf-daily-papers" / f"{day}.json").read_text()
    )
    return items


def test_daily_papers_returns_exactly_that_days_file_ordered_by_upvotes(
    hf_client: TestClient, data_dir: Path
) -> None:
    expected = day_file(data_dir, "2025-10-06")
    response = hf_client.get("/api/daily_papers", params={"date": "2025-10-06", "limit": 100})
    assert response.status_code == 200
    got = response.json()
    assert sorted(item["paper"]["id"] for item in got) == sorted(i["paper"]["id"] for i in expected)
    # ordered by upvotes, ties in the order the day's list gave them
    feed_order = {item["paper"]["id"]: n for n, item in enumerate(expected)}
    keys = [(-item["paper"]["upvotes"], feed_order[item["paper"]["id"]]) for item in got]
    assert keys == sorted(keys)
    upvotes = {i["paper"]["id"]: i["paper"]["upvotes"] for i in expected}
    assert all(item["paper"]["upvotes"] == upvotes[item["paper"]["id"]] for item in got)


def test_items_are_shaped_like_hugging_faces(hf_client: TestClient, data_dir: Path) -> None:
    source = {i["paper"]["id"]: i for i in day_file(data_dir, "2025-10-06")}
    item = hf_client.get("/api/daily_papers", params={"date": "2025-10-06"}).json()[0]
    paper = item["paper"]
    original = source[paper["id"]]
    assert set(item) >= {"paper", "publishedAt", "title", "numComments", "submittedBy"}
    assert set(paper) >= {
        "id", "title", "summary", "authors", "publishedAt", "upvotes",
        "githubRepo", "projectPage", "organization",
    }  # fmt: skip
    assert [a["name"] for a in paper["authors"]] == [
        a["name"] for a in original["paper"]["authors"]
    ]
    assert item["numComments"] == original["numComments"]
    assert item["publishedAt"].startswith("2025-10-06")
    assert item["submittedBy"]["name"] == original["submittedBy"]["name"]
    if original["paper"].get("githubRepo"):
        assert paper["githubRepo"].lower() == original["paper"]["githubRepo"].rstrip("/").lower()
    if original.get("organization"):
        assert item["organization"]["name"] == original["organization"]["name"]


def test_paging_splits_the_list_without_overlap(hf_client: TestClient) -> None:
    full = hf_client.get("/api/daily_papers", params={"date": "2025-10-06", "limit": 100}).json()
    first = hf_client.get("/api/daily_papers", params={"date": "2025-10-06", "limit": 5}).json()
    second = hf_client.get(
        "/api/daily_papers", params={"date": "2025-10-06", "limit": 5, "p": 1}
    ).json()
    assert [i["paper"]["id"] for i in first + second] == [i["paper"]["id"] for i in full[:10]]


def test_week_and_month_cover_their_days(hf_client: TestClient, data_dir: Path) -> None:
    week_days = ["2025-10-06", "2025-10-07", "2025-10-08", "2025-10-09", "2025-10-10"]
    expected = {i["paper"]["id"] for d in week_days for i in day_file(data_dir, d)}
    got = hf_client.get("/api/daily_papers", params={"week": "2025-W41", "limit": 100})
    ids = [item["paper"]["id"] for item in got.json()]
    assert set(ids) <= expected
    assert len(ids) == min(100, len(expected))
    votes = [item["paper"]["upvotes"] for item in got.json()]
    assert votes == sorted(votes, reverse=True)
    month = hf_client.get("/api/daily_papers", params={"month": "2025-10", "limit": 3}).json()
    assert all(item["publishedAt"].startswith("2025-10") for item in month)


def test_default_is_the_latest_featured_day(hf_client: TestClient, data_dir: Path) -> None:
    latest = max(p.stem for p in (data_dir / "hf-daily-papers").glob("*.json"))
    items = hf_client.get("/api/daily_papers").json()
    assert items
    assert {item["publishedAt"][:10] for item in items} == {latest}


def test_sort_by_trending_exposes_scores(hf_client: TestClient) -> None:
    items = hf_client.get(
        "/api/daily_papers", params={"week": "2025-W41", "sort": "trending", "limit": 20}
    ).json()
    scores = [item["trendingScore"] for item in items]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] > 0


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"date": "2025-13-40"}, "date must be YYYY-MM-DD"),
        ({"week": "2025-W99"}, "not a week"),
        ({"month": "October"}, "month must be YYYY-MM"),
        ({"date": "2025-10-06", "week": "2025-W41"}, "only one of"),
        ({"limit": "0"}, "limit"),
        ({"limit": "abc"}, "limit"),
        ({"p": "-1"}, "p"),
        ({"sort": "random"}, "sort"),
        ({"date": "x" * 10_000}, "date"),
    ],
)
def test_bad_parameters_get_a_422_with_a_reason(
    hf_client: TestClient, params: dict[str, str], reason: str
) -> None:
    response = hf_client.get("/api/daily_papers", params=params)
    assert response.status_code == 422
    assert reason in response.json()["detail"]


def test_paper_by_any_id_form(hf_client: TestClient) -> None:
    plain = hf_client.get("/api/papers/2510.00515")
    assert plain.status_code == 200
    body = plain.json()
    assert body["id"] == "2510.00515"
    assert body["featuredOn"] == ["2025-10-06"]
    assert body["organization"]["name"] == "SJTU"
    for form in ("2510.00515v2", "arXiv:2510.00515"):
        assert hf_client.get(f"/api/papers/{form}").json()["id"] == "2510.00515"


def test_unknown_paper_is_a_404_with_a_reason(hf_client: TestClient) -> None:
    response = hf_client.get("/api/papers/9999.99999")
    assert response.status_code == 404
    assert "9999.99999" in response.json()["detail"]


def test_trending_and_organization_twins(hf_client: TestClient) -> None:
    trending = hf_client.get("/api/trending", params={"limit": 10}).json()
    assert trending["formula"].startswith("score = upvotes")
    assert len(trending["papers"]) == 10
    org = hf_client.get("/api/organizations/SJTU").json()
    assert org["fullname"] == "Shanghai Jiao Tong University"
    assert org["numPapers"] >= 1
    assert hf_client.get("/api/organizations/no-such-org").status_code == 404


def test_openapi_lists_every_api_route(hf_client: TestClient) -> None:
    spec = hf_client.get("/openapi.json").json()
    for route in ("/api/daily_papers", "/api/papers/{paper_id}", "/api/trending"):
        assert route in spec["paths"]
    assert hf_client.get("/api/health").json() == {"status": "ok"}
