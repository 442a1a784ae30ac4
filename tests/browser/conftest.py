"""Browser fixtures: a real ``paperwire serve`` on a free port, driven by Debian's chromium.

Each pytest-xdist worker gets its own copy of the Hugging Face database (plus one arXiv
listing, for abstracts with LaTeX math), its own server process and its own browser. The
database is SQLite or PostgreSQL like every other test's (tests/databases.py).
"""

from __future__ import annotations

import gzip
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_support import MathPaper, Server
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from databases import Databases, database_environment
from paperwire.config import Settings
from paperwire.ingest.pipeline import import_paths
from paperwire.store.db import make_engine
from repo_paths import REPO_ROOT

SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LISTING = "arxiv-daily-listings/2025-10-06.jsonl.gz"
MATH_SPAN = re.compile(r"\$[^$]+\$")
SERVER_START_TIMEOUT_S = 30.0
NAVIGATION_TIMEOUT_MS = 15_000


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def math_paper(data_dir: Path) -> MathPaper:
    """A paper of the arXiv listing whose abstract holds ``$...$`` math."""
    rows = [
        json.loads(line) for line in gzip.decompress((data_dir / LISTING).read_bytes()).splitlines()
    ]
    for row in rows:
        spans = MATH_SPAN.findall(row["summary"])
        if spans:
            return MathPaper(id=row["id"], summary=row["summary"], math_spans=len(spans))
    pytest.fail(f"no abstract with $...$ math in {LISTING}")


@pytest.fixture(scope="session")
def browser_template(
    tmp_path_factory: pytest.TempPathFactory,
    databases: Databases,
    hf_template: Settings,
    data_dir: Path,
) -> Iterator[Settings]:
    """The HF database (and its keyword index), with one arXiv listing imported on top:
    never served, so that servers can each get a copy."""
    template = databases.copy(hf_template, tmp_path_factory.mktemp("browser-template"))
    engine = make_engine(template)
    try:
        summary = import_paths(engine, [data_dir / LISTING])
        assert summary.errors == [], summary.errors
        assert summary.papers_inserted + summary.papers_updated > 0
    finally:
        engine.dispose()
    databases.settle(template)
    yield template
    databases.drop(template)


@pytest.fixture(scope="session")
def browser_database(
    tmp_path_factory: pytest.TempPathFactory, databases: Databases, browser_template: Settings
) -> Iterator[Settings]:
    """This worker's copy of the browser template, served by ``server``."""
    database = databases.copy(browser_template, tmp_path_factory.mktemp("browser-db"))
    yield database
    databases.drop(database)


@contextmanager
def serving(database: Settings, log_dir: Path, **settings: str) -> Iterator[Server]:
    """A real ``paperwire serve`` subprocess over ``database`` (its URL and search
    indexes); ``settings`` become ``PAPERWIRE_<NAME>`` variables. Stopped on exit."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERWIRE_")}
    env |= database_environment(database)
    env |= {
        "PAPERWIRE_ENV": "test",
        "PAPERWIRE_HOST": "127.0.0.1",
        "PAPERWIRE_BASE_URL": url,
    }
    env |= {f"PAPERWIRE_{name.upper()}": value for name, value in settings.items()}
    log = log_dir / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "paperwire",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=env,
            cwd=REPO_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_healthy(url, process, log)
        yield Server(url=url, process=process, log=log)
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def server(
    tmp_path_factory: pytest.TempPathFactory, browser_database: Settings
) -> Iterator[Server]:
    """A real ``paperwire serve`` over this worker's database; stopped when the session ends."""
    with serving(browser_database, tmp_path_factory.mktemp("server")) as running:
        yield running


def _wait_until_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"`paperwire serve` exited with status {process.returncode} before answering "
                f"{url}/api/health; its output:\n{log.read_text(errors='replace')}"
            )
        try:
            response = httpx.get(f"{url}/api/health", timeout=2)
            if response.status_code == 200 and response.json().get("status") == "ok":
                return
            last_error = f"HTTP {response.status_code}: {response.text[:200]}"
        except httpx.HTTPError as error:
            last_error = repr(error)
        time.sleep(0.1)
    _stop(process)
    pytest.fail(
        f"`paperwire serve` did not answer {url}/api/health within {SERVER_START_TIMEOUT_S:.0f} s "
        f"(last: {last_error}); its output:\n{log.read_text(errors='replace')}"
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"browser tests need Debian's chromium at {CHROMIUM} (`make chromium`)")
    browser = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture
def new_context(browser: Browser) -> Iterator[Callable[..., BrowserContext]]:
    """Make isolated browser contexts (fresh cookies and storage); all closed at the end."""
    contexts: list[BrowserContext] = []

    def make(**options: Any) -> BrowserContext:
        options.setdefault("viewport", {"width": 1280, "height": 900})
        context = browser.new_context(**options)
        context.set_default_timeout(NAVIGATION_TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context: Callable[..., BrowserContext]) -> Page:
    return new_context().new_page()


@pytest.fixture(scope="session")
def screenshot() -> Callable[[Page, str], Path]:
    """Save a full-page screenshot to ``test-artifacts/screenshots/NAME.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(page: Page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 0
        return path

    return save
