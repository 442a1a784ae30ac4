"""Hostile titles, abstracts, comments and links never run in a real browser.

A few hundred payloads of the corpus (``tests/xss_corpus.py``; ``python -m benchmarks
xss`` runs thousands) are written through the real paths by ``tests/xss_harness.py``:
papers from Hugging Face daily-list files through the importer, comments through the
comment service. A real ``paperwire serve`` renders them; chromium visits paper pages
(anonymous, and as the comments' author, who also gets the raw Markdown back in edit
forms), the day list and search pages with ``__xss`` recorded in every frame and every
dialog counted. Every HTML body is also checked statically.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

import httpx
import pytest

from databases import Databases
from paperwire.ingest.text import clean_abstract, clean_line
from xss_corpus import (
    PLACE_BASE,
    link_payloads,
    payloads,
    place_of,
    static_violations,
    structure,
)
from xss_harness import (
    CONTROL_URL,
    DAY_SIZE,
    SEARCH_WORD,
    Corpus,
    Job,
    PageResult,
    Seeded,
    seed,
    serving,
    visit_all,
)

pytestmark = pytest.mark.browser

PAPERS = 150  # hostile titles, and as many hostile abstracts
COMMENTS = 150  # hostile comments, and as many hostile links (in replies)
QUERIES = 20  # hostile search queries
PAGE_SIZE = 50  # the day list's default page size
SEARCH_PAGE_SIZE = 20


@dataclass(frozen=True)
class Hostile:
    url: str
    seeded: Seeded
    corpus: Corpus


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory, databases: Databases) -> Iterator[Hostile]:
    work = tmp_path_factory.mktemp("xss")
    corpus = Corpus.make(PAPERS, COMMENTS)
    database = databases.create(work)
    seeded = seed(database, work, corpus)
    with serving(seeded.database, work / "serve.log") as url:
        yield Hostile(url, seeded, corpus)
    databases.drop(database)


@pytest.fixture(scope="module")
def visits(hostile: Hostile) -> list[PageResult]:
    seeded = hostile.seeded
    url = hostile.url
    jobs = [Job("control", CONTROL_URL)]
    jobs += [Job("paper", f"{url}/papers/{paper}") for paper in seeded.paper_ids]
    jobs += [
        Job("paper as author", f"{url}/papers/{paper}", seeded.author_session)
        for paper in seeded.commented
    ]
    jobs += [
        Job("day list", f"{url}/papers/date/{day.isoformat()}?p={p}")
        for day in seeded.days
        for p in range(-(-min(DAY_SIZE, PAPERS) // PAGE_SIZE))
    ]
    jobs += [
        Job("search", f"{url}/search?q={SEARCH_WORD}&p={p}")
        for p in range(-(-PAPERS // SEARCH_PAGE_SIZE))
    ]
    jobs += [
        Job("search", f"{url}/search?q={quote(p.text[:500])}")
        for p in hostile.corpus.titles[:QUERIES]
    ]
    return visit_all(url, jobs)


def test_the_corpus_has_thousands_of_distinct_payloads() -> None:
    places = {
        "title": payloads(5000, "title"),
        "abstract": payloads(5000, "abstract"),
        "comment": payloads(5000, "comment"),
        "link": link_payloads(5000),
    }
    for place, found in places.items():
        assert len(found) == 5000
        assert len({structure(p) for p in found}) == 5000, place
        assert [p.n for p in found] == list(range(PLACE_BASE[place], PLACE_BASE[place] + 5000))
        assert all(place_of(str(p.n)) == place for p in found)
        # every payload reports its own number (in a data: URL, inside the base64)
        assert all(str(p.n) in p.text or "base64" in p.text.lower() for p in found)
    families = {p.family.split("/")[0] for p in places["comment"]}
    assert families == {"script", "event", "url", "mxss", "markdown", "latex"}
    mutations = {p.family.split("/")[1] for p in places["comment"]}
    assert {"upper", "nul", "entities", "long", "quote-breakout", "fullwidth"} <= mutations
    assert max(len(p.text) for p in places["comment"]) > 6000
    # the same numbers every run
    assert payloads(50, "comment") == places["comment"][:50]


def test_the_static_check_finds_what_could_run() -> None:
    assert (
        static_violations(
            '<script src="/static/vote.js" defer></script><a href="/x">x</a>'
            '<link rel="icon" href="data:image/svg+xml,x"><input value="javascript:x">'
        )
        == []
    )
    found = static_violations(
        "<script>__xss(1)</script><b onclick=x>b</b><a href=' JaVa\tScRiPt:x'>a</a>"
        "<iframe srcdoc=x></iframe><form action=vbscript:x></form>"
        '<meta http-equiv="refresh" content="0"><div style="width:expression(x)">'
    )
    assert [problem.partition(":")[0] for problem in found] == [
        "script not served by the site", "inline script", "event handler onclick",
        "javascript", "element the site never emits", "srcdoc", "vbscript", "meta http-equiv",
        "active style",
    ]  # fmt: skip


def test_hostile_input_reached_the_pages(hostile: Hostile) -> None:
    seeded, corpus = hostile.seeded, hostile.corpus
    assert seeded.rejected == {"title": 0, "comment": 0, "link": 0}
    assert len(seeded.paper_ids) == PAPERS
    assert len(seeded.commented) == -(-COMMENTS // 10)
    with httpx.Client(base_url=hostile.url, timeout=10) as client:
        for index in (0, 1, 57, PAPERS - 1):
            paper = client.get(f"/api/papers/{seeded.paper_ids[index]}").json()
            assert paper["title"] == clean_line(corpus.titles[index].text)
            assert paper["summary"] == clean_abstract(corpus.abstracts[index].text)
        total = 0
        for paper_id in seeded.commented:
            thread = client.get(f"/api/papers/{paper_id}/comments").json()
            total += sum(1 + len(node["replies"]) for node in thread["comments"])
        assert total == 2 * COMMENTS  # every comment and hostile reply (placeholders too)
        found = client.get("/search", params={"q": SEARCH_WORD}).text
        assert re.search(rf"\b{PAPERS} results\b", found), found[-3000:]


def test_no_payload_runs_and_no_page_could_run_one(visits: list[PageResult]) -> None:
    control = [v for v in visits if v.kind == "control"]
    # the probe and the check would have seen an execution
    assert sorted(control[0].executions) == ["7", "alert:8"]
    assert len(control[0].violations) >= 3
    pages = [v for v in visits if v.kind != "control"]
    kinds = {v.kind for v in pages}
    assert kinds == {"paper", "paper as author", "day list", "search"}
    assert [(v.url, v.status) for v in pages if v.status != 200] == []
    executions = [(v.url, n, place_of(n)) for v in pages for n in v.executions]
    assert executions == []
    violations = [(v.url, problem) for v in pages for problem in v.violations]
    assert violations == []
    assert len(pages) >= PAPERS + 20


def test_a_detected_execution_names_its_place() -> None:
    assert place_of("1000004") == "title"
    assert place_of("alert:3000017") == "comment"
    assert place_of("4000000") == "link"
    assert place_of("[object Object]") == "?"
