"""The XSS harness: hostile papers and comments written through the real paths, a real
server, and chromium watching for any payload that runs.

Papers go through the importer (Hugging Face daily-list files), comments through the
comment service (some hidden by a curator, some deleted), then a real
``paperwire serve`` renders them and :func:`visit_all` visits pages in chromium with
``__xss`` recorded in every frame and every dialog counted, checking every HTML body
with :func:`xss_corpus.static_violations` too.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from xss_corpus import Payload, link_payloads, payloads, static_violations

if TYPE_CHECKING:
    from paperwire.config import Settings

# --- the hostile database ---------------------------------------------------------------

FIRST_DAY = date(2030, 1, 1)
DAY_SIZE = 250  # hostile papers featured per day
COMMENTS_PER_PAPER = 10  # comment payloads per paper page (each with a hostile-link reply)
SEARCH_WORD = "xssprobe"  # an author name every hostile paper has, to find them all


@dataclass(slots=True)
class Corpus:
    titles: list[Payload]
    abstracts: list[Payload]
    comments: list[Payload]
    links: list[Payload]

    @classmethod
    def make(cls, papers: int, comments: int) -> Corpus:
        return cls(
            titles=payloads(papers, "title"),
            abstracts=payloads(papers, "abstract"),
            comments=payloads(comments, "comment"),
            links=link_payloads(comments),
        )


@dataclass(slots=True)
class Seeded:
    database: Settings  # its URL and search indexes
    paper_ids: list[str]
    commented: list[str]  # papers holding comments
    days: list[date]
    author_session: str  # a session token of the comments' author
    rejected: dict[str, int] = field(default_factory=dict)  # per place: refused as input


def _hf_item(paper_id: str, title: Payload, abstract: Payload, day: date) -> dict[str, object]:
    return {
        "paper": {
            "id": paper_id,
            "title": title.text,
            "summary": abstract.text,
            "authors": [{"name": "Xssprobe Tester"}, {"name": "Mallory"}],
            "publishedAt": f"{day.isoformat()}T00:00:00.000Z",
            "upvotes": 1,
            "projectPage": f"javascript:__xss({title.n})",
            "githubRepo": f"javascript:__xss({abstract.n})",
        },
        "publishedAt": f"{day.isoformat()}T00:00:00.000Z",
        "title": title.text,
        "numComments": 0,
        "submittedBy": {"name": "xss", "fullname": title.text[:200]},
        "thumbnail": f"javascript:__xss({title.n})",
    }


def _settings_of(database: Settings | Path) -> Settings:
    """``database`` as Settings; a Path is a SQLite file."""
    from paperwire.config import Settings

    if isinstance(database, Settings):
        return database
    return Settings(env="test", database_url=f"sqlite:///{database}")


def seed(database: Settings | Path, work: Path, corpus: Corpus) -> Seeded:
    """A migrated database holding the corpus: hostile papers imported from HF-format
    files (featured ``DAY_SIZE`` a day), indexed for search, and hostile comments.
    ``database``: an empty database (Settings), or the path of a new SQLite file."""
    from paperwire.accounts import service as accounts
    from paperwire.community import comments as comment_service
    from paperwire.errors import UserError
    from paperwire.ingest.pipeline import import_paths
    from paperwire.models import Role
    from paperwire.search import indexer
    from paperwire.search.resources import SearchResources
    from paperwire.store.db import make_engine
    from paperwire.store.migrate import upgrade

    settings = _settings_of(database).model_copy(update={"semantic": False, "rate_limits": False})
    engine = make_engine(settings)
    upgrade(engine)
    files = work / "hostile-hf"
    files.mkdir(parents=True, exist_ok=True)
    ids = [f"3001.{i + 1:05d}" for i in range(len(corpus.titles))]
    days = []
    for start in range(0, len(ids), DAY_SIZE):
        day = FIRST_DAY + timedelta(days=len(days))
        days.append(day)
        items = [
            _hf_item(ids[i], corpus.titles[i], corpus.abstracts[i], day)
            for i in range(start, min(start + DAY_SIZE, len(ids)))
        ]
        (files / f"{day.isoformat()}.json").write_text(json.dumps(items, indent=1))
    summary = import_paths(engine, [files])
    rejected = {"title": len(summary.errors)}
    resources = SearchResources(settings, engine)
    with resources.writing():
        indexer.update_keyword(engine, resources)

    with engine.begin() as conn:
        author = accounts.sign_up(
            conn, username="xss-author", email="author@example.org", password="hostile pass 1"
        )
        curator = accounts.sign_up(
            conn, username="xss-curator", email="c@example.org", password="hostile pass 1",
            role=Role.CURATOR,
        )  # fmt: skip
        session = accounts.start_session(conn, author, days=1)
    commented: list[str] = []
    rejected["comment"] = rejected["link"] = 0
    for i, (text, link) in enumerate(zip(corpus.comments, corpus.links, strict=True)):
        paper = ids[(i // COMMENTS_PER_PAPER) % len(ids)]
        if not commented or commented[-1] != paper:
            commented.append(paper)
        try:
            made = comment_service.create(engine, settings, author, paper, text.text)
        except UserError:
            rejected["comment"] += 1
            continue
        try:
            comment_service.create(engine, settings, author, paper, link.text, parent_id=made.id)
        except UserError:
            rejected["link"] += 1
        if i % 25 == 7:  # some hidden (a placeholder for readers, the text for its author)
            comment_service.set_hidden(engine, curator, made.id, hidden=True)
        elif i % 40 == 11:  # some deleted (a placeholder, since a reply hangs from them)
            comment_service.delete(engine, author, made.id)
    engine.dispose()
    return Seeded(settings, ids, commented, days, session, rejected)


# --- a real server ----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(database: Settings | Path, log: Path, timeout: float = 60.0) -> Iterator[str]:
    """``paperwire serve`` over ``database`` (a SQLite file's path, or Settings: their URL
    and search indexes) on a free port; yields its base URL."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERWIRE_")}
    settings = _settings_of(database)
    env["PAPERWIRE_DATABASE_URL"] = settings.database_url
    if settings.index_dir is not None:
        env["PAPERWIRE_INDEX_DIR"] = str(settings.index_dir)
    env |= {
        "PAPERWIRE_ENV": "test",
        "PAPERWIRE_BASE_URL": url,
        "PAPERWIRE_SEMANTIC": "false",
    }
    command = [sys.executable, "-m", "paperwire", "serve", "--host", "127.0.0.1"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"paperwire serve exited:\n{log.read_text(errors='replace')}")
            try:
                if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"paperwire serve did not start:\n{log.read_text()}")
            time.sleep(0.1)
        yield url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


# --- the browser ------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
INIT_SCRIPT = """
window.__xss = function (n) {
  (window.__xssCalls = window.__xssCalls || []).push(String(n));
  try { window.__xssReport(String(n)); } catch (e) {}
};
"""
SETTLE_MS = 30  # after "load": timers (setTimeout payloads), focus and toggle events
# A page that must register: proves the probe sees executions and the check sees handlers.
CONTROL_URL = "data:text/html,<img src=x onerror=__xss(7)><script>alert(8)</script>"


@dataclass(frozen=True, slots=True)
class Job:
    kind: str  # what the page is, for the report ("paper", "day list", ...)
    url: str
    session: str | None = None  # a session cookie: visit signed in


@dataclass(slots=True)
class PageResult:
    kind: str
    url: str
    status: int
    executions: list[str]  # numbers reported by __xss (any frame), or "alert:N" dialogs
    violations: list[str]


def visit_all(base_url: str, jobs: list[Job], concurrency: int = 4) -> list[PageResult]:
    """Visit every page in chromium, ``concurrency`` tabs at a time, recording every
    ``__xss`` call and dialog per page. Runs in a thread of its own, so that callers
    inside another event loop (Playwright's sync API) are not disturbed."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, _visit_all(base_url, jobs, concurrency)).result()


async def _visit_all(base_url: str, jobs: list[Job], concurrency: int) -> list[PageResult]:
    from playwright.async_api import async_playwright

    results: list[PageResult] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        for session in dict.fromkeys(job.session for job in jobs):
            queue = [job for job in jobs if job.session == session]
            context = await browser.new_context()
            if session is not None:
                cookie = {"name": "pw_session", "value": session, "url": base_url}
                await context.add_cookies([cookie])  # type: ignore[list-item]
            results += await _visit_in(context, queue, concurrency)
            await context.close()
        await browser.close()
    return results


async def _visit_in(context: Any, queue: list[Job], concurrency: int) -> list[PageResult]:
    """Visit ``queue`` in one browser context (one set of cookies), several tabs at once."""
    import asyncio

    from playwright.async_api import Dialog, Page
    from playwright.async_api import Error as PlaywrightError

    calls: dict[Page, list[str]] = {}
    results: list[PageResult] = []

    def report(source: dict[str, Page], n: object) -> None:
        calls[source["page"]].append(str(n))

    await context.expose_binding("__xssReport", report)
    await context.add_init_script(INIT_SCRIPT)

    async def tab() -> None:
        page = await context.new_page()
        mine = calls[page] = []

        async def on_dialog(dialog: Dialog) -> None:
            mine.append(f"{dialog.type}:{dialog.message}")
            await dialog.dismiss()

        page.on("dialog", on_dialog)
        while queue:
            job = queue.pop(0)
            mine.clear()
            try:
                response = await page.goto(job.url, wait_until="load")
                await page.wait_for_timeout(SETTLE_MS)
                # a data: URL (the control) has no response: check its DOM instead
                body = await (response.text() if response else page.content())
                status = response.status if response is not None else 0
                violations = static_violations(body)
            except PlaywrightError as error:  # e.g. navigated away by a payload
                status, violations = 0, [f"the page failed to load: {error}"[:300]]
            results.append(PageResult(job.kind, job.url, status, list(mine), violations))
        await page.close()

    await asyncio.gather(*(tab() for _ in range(concurrency)))
    return results
