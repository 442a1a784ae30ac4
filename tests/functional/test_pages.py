"""HTML pages and feeds, in-process, against the real Hugging Face archive."""

from __future__ import annotations

import gzip
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from fastapi.testclient import TestClient

from paperwire.config import Settings
from paperwire.ingest.pipeline import import_paths
from paperwire.store.db import make_engine
from paperwire.web.app import create_app


def test_daily_page_lists_the_days_papers_with_navigation(hf_client: TestClient) -> None:
    api = hf_client.get("/api/daily_papers", params={"date": "2025-10-06", "limit": 100}).json()
    page = hf_client.get("/papers/date/2025-10-06")
    assert page.status_code == 200
    html = page.text
    assert f"{len(api)} papers" in html
    for item in api[:5]:
        assert f'href="/papers/{item["paper"]["id"]}"' in html
    assert 'rel="prev" href="/papers/date/2025-10-03"' in html  # Friday before
    assert 'rel="next" href="/papers/date/2025-10-07"' in html
    assert 'href="/papers/week/2025-W41"' in html
    assert 'href="/papers/month/2025-10"' in html
    assert 'type="application/rss+xml"' in html
    # the most upvoted paper comes first
    first = api[0]["paper"]["id"]
    assert html.index(f'/papers/{first}"') < html.index(f'/papers/{api[-1]["paper"]["id"]}"')


def test_week_and_month_pages(hf_client: TestClient) -> None:
    week = hf_client.get("/papers/week/2025-W41")
    assert week.status_code == 200
    assert "Week 41, 2025" in week.text
    month = hf_client.get("/papers/month/2025-10?sort=trending")
    assert month.status_code == 200
    assert "October 2025" in month.text
    assert "score " in month.text


def test_home_shows_the_latest_day(hf_client: TestClient) -> None:
    home = hf_client.get("/")
    assert home.status_code == 200
    assert "Friday, 21 August 2026" in home.text


def test_paper_page_renders_math_links_and_bibtex(hf_client: TestClient) -> None:
    page = hf_client.get("/papers/2510.00515")
    assert page.status_code == 200
    html = page.text
    assert "Efficient Multi-modal Large Language Models" in html
    assert 'href="https://github.com/zichenwen1/epic"' in html.lower()
    assert "@misc{" in html or "@article{" in html
    assert "Shanghai Jiao Tong University" in html


def test_paper_page_renders_latex_as_mathml(settings: Settings, data_dir: Path) -> None:
    listing = data_dir / "arxiv-daily-listings" / "2025-10-06.jsonl.gz"
    rows = [json.loads(line) for line in gzip.decompress(listing.read_bytes()).splitlines()]
    with_math = next(r for r in rows if re.search(r"\$[^$]+\$", r["summary"]))
    engine = make_engine(settings)
    assert import_paths(engine, [listing]).errors == []
    engine.dispose()
    with TestClient(create_app(settings)) as client:
        html = client.get(f"/papers/{with_math['id']}").text
    assert html.count("<math") >= len(re.findall(r"\$[^$]+\$", with_math["summary"]))
    assert "<script" not in html


def test_versioned_id_redirects_to_the_paper(hf_client: TestClient) -> None:
    response = hf_client.get("/papers/2510.00515v1", follow_redirects=False)
    assert response.status_code == 301
    assert response.headers["location"].endswith("/papers/2510.00515")


def test_unknown_paper_and_empty_day_are_404_pages(hf_client: TestClient) -> None:
    for url in ("/papers/9999.99999", "/papers/date/2001-01-01", "/papers/date/not-a-date"):
        response = hf_client.get(url)
        assert response.status_code == 404, url
        assert "Not found" in response.text
        assert "<html" in response.text


def test_organization_pages(hf_client: TestClient) -> None:
    listing = hf_client.get("/organizations")
    assert listing.status_code == 200
    assert 'href="/organizations/SJTU"' in listing.text
    page = hf_client.get("/organizations/SJTU")
    assert page.status_code == 200
    assert "/papers/2510.00515" in page.text
    assert hf_client.get("/organizations/nope").status_code == 404


def test_rss_and_atom_feeds_for_lists(hf_client: TestClient) -> None:
    rss = hf_client.get("/feeds/daily.rss", params={"date": "2025-10-06"})
    assert rss.status_code == 200
    assert rss.headers["content-type"].startswith("application/rss+xml")
    items = ET.fromstring(rss.content).findall("./channel/item")
    api = hf_client.get("/api/daily_papers", params={"date": "2025-10-06", "limit": 50}).json()
    assert [i.findtext("guid") for i in items] == [
        f"http://testserver/papers/{a['paper']['id']}" for a in api
    ]
    atom = hf_client.get("/feeds/trending.atom")
    assert atom.status_code == 200
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert ET.fromstring(atom.content).findall("a:entry", ns)
    org = hf_client.get("/feeds/organizations/SJTU.rss")
    assert org.status_code == 200
    assert hf_client.get("/feeds/daily.rss", params={"week": "bad"}).status_code == 422


def test_pages_work_without_javascript(hf_client: TestClient) -> None:
    html = hf_client.get("/papers/date/2025-10-06").text
    assert "<script" not in html


def test_author_pages_list_their_papers(hf_client: TestClient) -> None:
    paper = hf_client.get("/api/papers/2510.00515").json()
    author = paper["authors"][0]["name"]  # Zichen Wen
    html = hf_client.get("/papers/2510.00515").text
    assert 'href="/authors/Zichen%20Wen"' in html
    page = hf_client.get("/authors/zichen wen")  # matched case-insensitively
    assert page.status_code == 200
    assert "<h1>Zichen Wen</h1>" in page.text
    assert 'href="/papers/2510.00515"' in page.text
    api = hf_client.get(f"/api/authors/{author}").json()
    assert api["name"] == author
    assert "2510.00515" in [p["id"] for p in api["papers"]]
    assert api["numPapers"] == len(api["papers"])
    assert hf_client.get("/authors/Nobody%20At%20All").status_code == 404


def test_long_lists_are_paged(hf_client: TestClient) -> None:
    api = hf_client.get("/api/daily_papers", params={"month": "2025-10", "limit": 100}).json()
    assert len(api) > 50  # more than one page of the web UI
    first = hf_client.get("/papers/month/2025-10").text
    assert 'rel="next" href="?sort=upvotes&amp;p=1"' in first
    assert "Page 1 of" in first
    second = hf_client.get("/papers/month/2025-10?sort=upvotes&p=1").text
    assert 'rel="prev" href="?sort=upvotes&amp;p=0"' in second
    assert f'href="/papers/{api[50]["paper"]["id"]}"' in second
    assert f'href="/papers/{api[0]["paper"]["id"]}"' not in second
