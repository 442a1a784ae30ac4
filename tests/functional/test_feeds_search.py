"""RSS and Atom for saved searches and authors, over the real Hugging Face archive."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from paperwire.config import Settings
from paperwire.store import papers as paper_store

ATOM = "{http://www.w3.org/2005/Atom}"
BASE = "http://testserver"


def atom(client: TestClient, path: str, **params: object) -> ET.Element:
    response = client.get(path, params=params)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/atom+xml")
    return ET.fromstring(response.content)


def entry_ids(feed: ET.Element) -> list[str]:
    return [entry.findtext(f"{ATOM}id") or "" for entry in feed.iter(f"{ATOM}entry")]


def test_search_feed_lists_the_newest_matches_with_stable_ids(
    hf_client: TestClient, hf_settings: Settings
) -> None:
    first = atom(hf_client, "/feeds/search.atom", q="diffusion")
    again = atom(hf_client, "/feeds/search.atom", q="  diffusion ")
    assert first.findtext(f"{ATOM}id") == f"{BASE}/search?q=diffusion"
    assert again.findtext(f"{ATOM}id") == first.findtext(f"{ATOM}id")
    ids = entry_ids(first)
    assert len(ids) == 50
    assert ids == entry_ids(again)
    assert all(i.startswith(f"{BASE}/papers/") for i in ids)
    published = [e.findtext(f"{ATOM}published") or "" for e in first.iter(f"{ATOM}entry")]
    assert published == sorted(published, reverse=True)  # newest first
    engine = create_engine(hf_settings.database_url)
    with engine.connect() as conn:
        found = paper_store.papers_by_ids(conn, [i.removeprefix(f"{BASE}/papers/") for i in ids])
    engine.dispose()
    assert len(found) == len(ids)
    assert all(
        "diffus" in f"{p.title} {p.abstract}".lower() for p in found.values()
    )  # keyword mode: stems match


def test_search_feed_filters_like_the_search_page(
    hf_client: TestClient, hf_settings: Settings
) -> None:
    feed = atom(hf_client, "/feeds/search.atom", q="agent", organization="Google")
    assert feed.findtext(f"{ATOM}id") == f"{BASE}/search?q=agent&organization=google"
    ids = [i.removeprefix(f"{BASE}/papers/") for i in entry_ids(feed)]
    assert ids
    engine = create_engine(hf_settings.database_url)
    with engine.connect() as conn:
        found = paper_store.papers_by_ids(conn, ids)
    engine.dispose()
    assert all(
        p.organization is not None and p.organization.slug == "google" for p in found.values()
    )
    # no paper of the archive has arXiv categories: a category filter leaves nothing
    assert entry_ids(atom(hf_client, "/feeds/search.atom", q="agent", category="cs.CL")) == []


def test_search_feed_as_rss(hf_client: TestClient) -> None:
    response = hf_client.get("/feeds/search.rss", params={"q": "retrieval augmented"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/rss+xml")
    channel = ET.fromstring(response.content).find("channel")
    assert channel is not None
    guids = [item.findtext("guid") for item in channel.iter("item")]
    assert guids
    assert all(g and g.startswith(f"{BASE}/papers/") for g in guids)
    again = ET.fromstring(hf_client.get("/feeds/search.rss?q=retrieval+augmented").content)
    assert [item.findtext("guid") for item in again.iter("item")] == guids


def test_search_feed_needs_a_query(hf_client: TestClient) -> None:
    response = hf_client.get("/feeds/search.atom", params={"q": "   "})
    assert response.status_code == 422
    assert hf_client.get("/feeds/search.json", params={"q": "x"}).status_code == 422


def test_author_feed(hf_client: TestClient) -> None:
    feed = atom(hf_client, "/feeds/authors/Chengsong Huang.atom")
    assert feed.findtext(f"{ATOM}id") == f"{BASE}/authors/Chengsong%20Huang"
    entries = list(feed.iter(f"{ATOM}entry"))
    assert entries
    for entry in entries:
        names = [a.findtext(f"{ATOM}name") for a in entry.iter(f"{ATOM}author")]
        assert "Chengsong Huang" in names
    assert hf_client.get("/feeds/authors/Nobody Atall.atom").status_code == 404


def test_every_list_already_has_a_feed(hf_client: TestClient) -> None:
    for path in (
        "/feeds/daily.atom?date=2026-08-20",
        "/feeds/daily.rss?week=2026-W34",
        "/feeds/daily.atom?month=2026-08",
        "/feeds/trending.atom",
        "/feeds/organizations/google.rss",
    ):
        response = hf_client.get(path)
        assert response.status_code == 200, path
        ET.fromstring(response.content)
