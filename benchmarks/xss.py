"""XSS: thousands of hostile payloads in titles, abstracts, comments and comment links,
rendered by a real server and run in a real browser; 0 executions is the only pass.

The corpus and the harness are ``tests/xss_corpus.py`` and ``tests/xss_harness.py``
(``tests/browser/test_xss.py`` runs a few hundred of the same payloads). By default
5,000 distinct payloads go into each place: paper titles and abstracts (written as
Hugging Face daily-list files and imported by the real importer, 250 papers featured a
day), comments (through the comment service, 10 per paper, some hidden by a curator,
some deleted) and hostile links (a reply to each comment). A ``paperwire serve``
renders them and Debian's chromium visits every hostile paper page anonymously, every
commented paper page as the comments' author (who also gets the raw Markdown back in
edit forms), every page of the hostile day lists, the search results for the hostile
papers and searches whose query is a payload, with ``__xss`` recorded in every frame
and every dialog counted. Every HTML body is also checked statically (no script the
site does not serve, no ``on*=`` attribute, no ``javascript:``/``vbscript:``/``data:``
URL in a URL attribute, no frame, object, embed, base or meta refresh). A control page
with two live payloads must register both, so that "0 executions" means something.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

from benchmarks._common import PROJECT_ROOT, BenchmarkFailed, Stopwatch, Table, say

NAME = "xss"
HELP = "hostile payloads in titles, abstracts and comments: 0 executions in chromium"

PAGE_SIZE = 50  # the day list's default page size
SEARCH_PAGE_SIZE = 20
SEARCH_MAX_RESULTS = 1000  # how deep search results go


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--papers", type=int, default=5000, help="hostile papers (titles and abstracts)"
    )
    parser.add_argument(
        "--comments", type=int, default=5000, help="hostile comments (and as many links)"
    )
    parser.add_argument("--queries", type=int, default=200, help="hostile search queries")
    parser.add_argument("--concurrency", type=int, default=4, help="browser tabs at once")


def _modules() -> tuple[Any, Any]:
    """``tests/xss_corpus.py`` and ``tests/xss_harness.py``, shared with the browser test."""
    tests = str(PROJECT_ROOT / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    import xss_corpus
    import xss_harness

    return xss_corpus, xss_harness


def run(args: argparse.Namespace) -> list[Table]:
    corpus_module, xss = _modules()
    with Stopwatch() as making:
        corpus = xss.Corpus.make(args.papers, args.comments)
    places = {
        "title": corpus.titles,
        "abstract": corpus.abstracts,
        "comment": corpus.comments,
        "comment link": corpus.links,
    }
    say(f"corpus: {sum(map(len, places.values())):,} payloads in {making.wall:.1f} s")
    with tempfile.TemporaryDirectory(prefix="pw-xss-") as tmp:
        work = Path(tmp)
        with Stopwatch() as seeding:
            seeded = xss.seed(work / "hostile.db", work, corpus)
        say(f"seeded (import, index, comments) in {seeding.wall:.0f} s: rejected {seeded.rejected}")
        with xss.serving(seeded.database, work / "serve.log") as url:
            jobs = _jobs(xss, url, seeded, corpus, args.queries)
            say(f"visiting {len(jobs):,} pages with {args.concurrency} tabs")
            with Stopwatch() as visiting:
                results = xss.visit_all(url, jobs, concurrency=args.concurrency)
    tables = _tables(corpus_module, places, seeded, results, visiting.wall, seeding.wall)
    _verdict(tables, results)
    return tables


def _jobs(xss: Any, url: str, seeded: Any, corpus: Any, queries: int) -> list[Any]:
    job = xss.Job
    jobs = [job("control", xss.CONTROL_URL)]
    jobs += [job("paper", f"{url}/papers/{paper}") for paper in seeded.paper_ids]
    jobs += [
        job("paper as author", f"{url}/papers/{paper}", seeded.author_session)
        for paper in seeded.commented
    ]
    for number, day in enumerate(seeded.days):
        on_day = min(xss.DAY_SIZE, len(seeded.paper_ids) - number * xss.DAY_SIZE)
        jobs += [
            job("day list", f"{url}/papers/date/{day.isoformat()}?p={p}")
            for p in range(-(-on_day // PAGE_SIZE))
        ]
    reachable = min(len(seeded.paper_ids), SEARCH_MAX_RESULTS)
    jobs += [
        job("search", f"{url}/search?q={xss.SEARCH_WORD}&p={p}")
        for p in range(-(-reachable // SEARCH_PAGE_SIZE))
    ]
    pool = corpus.titles + corpus.comments + corpus.links
    hostile = pool[:: max(1, len(pool) // max(1, queries))][:queries]
    jobs += [job("search", f"{url}/search?q={quote(p.text[:500])}") for p in hostile]
    return jobs


def _tables(
    corpus_module: Any,
    places: dict[str, list[Any]],
    seeded: Any,
    results: list[Any],
    visiting_s: float,
    seeding_s: float,
) -> list[Table]:
    pages = [r for r in results if r.kind != "control"]
    executed = Counter(corpus_module.place_of(n) for r in pages for n in r.executions)
    shown_on = {
        "title": ("paper", "paper as author", "day list", "search"),
        "abstract": ("paper", "paper as author", "search"),
        "comment": ("paper", "paper as author"),
        "comment link": ("paper", "paper as author"),
    }
    by_place = Table(
        "XSS corpus: payloads per place (executions in chromium)",
        ["place", "payloads", "distinct", "families", "refused as input", "shown on", "executions"],
    )
    for place, found in places.items():
        key = "link" if place == "comment link" else place
        by_place.add(
            place,
            len(found),
            len({corpus_module.structure(p) for p in found}),
            len({p.family.split("/")[0] for p in found}),
            seeded.rejected.get(key, 0),
            ", ".join(shown_on[place]),
            executed.get(key, 0),
        )
    by_place.notes.append(
        f"{sum(map(len, places.values())):,} payloads; refused as input: turned away by "
        "the importer or the comment rules (they never reach a page)"
    )
    by_page = Table(
        "XSS: pages rendered by a real server and run in chromium",
        ["pages", "count", "non-200", "executions", "static violations", "time (s)", "ms/page"],
    )
    for kind in ("control", "paper", "paper as author", "day list", "search"):
        mine = [r for r in results if r.kind == kind]
        by_page.add(
            kind,
            len(mine),
            sum(1 for r in mine if r.status != 200 and kind != "control"),
            sum(len(r.executions) for r in mine),
            sum(len(r.violations) for r in mine),
            "",
            "",
        )
    total = len(pages)
    by_page.add(
        "all (without control)",
        total,
        sum(1 for r in pages if r.status != 200),
        sum(len(r.executions) for r in pages),
        sum(len(r.violations) for r in pages),
        visiting_s,
        visiting_s * 1000 / max(1, len(results)),
    )
    by_page.notes += [
        "control: a data: page with 2 live payloads; it must show 2 executions and violations",
        f"seeding (import + keyword index + comments through the service): {seeding_s:.0f} s",
    ]
    return [by_place, by_page]


def _verdict(tables: list[Table], results: list[Any]) -> None:
    control = [r for r in results if r.kind == "control"]
    pages = [r for r in results if r.kind != "control"]
    problems = []
    if not control or sorted(control[0].executions) != ["7", "alert:8"]:
        problems.append(f"the control page did not register its 2 payloads: {control}")
    problems += [f"{r.url}: HTTP {r.status}" for r in pages if r.status != 200]
    problems += [f"{r.url}: executed {n}" for r in pages for n in r.executions]
    problems += [f"{r.url}: {v}" for r in pages for v in r.violations]
    if problems:
        for table in tables:
            print(table.render(), "", sep="\n", flush=True)
        raise BenchmarkFailed(f"{len(problems)} problems:\n" + "\n".join(problems[:30]))
