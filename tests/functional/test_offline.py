"""No network: every sync fails with a clear error per source; the rest of paperwire works.

Every source URL points at a port nobody listens on. The syncs run as a user runs them
(``paperwire sync ...`` in a real process) over a copy of the database of the real
Hugging Face archive; then the app serves pages, search and votes from it as usual, and
says on the admin page and in every footer that the sources failed.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from databases import database_environment
from factories import make_user, sign_in
from paperwire.config import Settings
from paperwire.models import Role
from paperwire.store import sync_state
from paperwire.store.db import make_engine
from paperwire.web.app import create_app

SOURCES = {  # source: (the error names it, its URL's path)
    "arxiv": ("arXiv API", "/api/query"),
    "oai": ("arXiv OAI-PMH", "/oai"),
    "hf": ("Hugging Face", "/api/daily_papers"),
}
PAPER = "2510.00515"  # featured on 2025-10-06 in the archive


def closed_port() -> int:
    """A local port that refuses connections: bound once to find it, then let go."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def offline(hf_settings: Settings) -> Settings:
    base = f"http://127.0.0.1:{closed_port()}"
    return hf_settings.model_copy(
        update={
            "arxiv_api_url": base + "/api/query",
            "arxiv_oai_url": base + "/oai",
            "hf_api_url": base,
            "sync_sources": "arxiv,oai,hf",
            "arxiv_request_interval_s": 0.05,
            "hf_request_interval_s": 0.05,
            "arxiv_retries": 1,
        }
    )


@pytest.fixture
def engine(offline: Settings) -> Iterator[Engine]:
    engine = make_engine(offline)
    yield engine
    engine.dispose()


def run_sync_cli(settings: Settings, source: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        **database_environment(settings),
        "PAPERWIRE_ARXIV_API_URL": settings.arxiv_api_url,
        "PAPERWIRE_ARXIV_OAI_URL": settings.arxiv_oai_url,
        "PAPERWIRE_HF_API_URL": settings.hf_api_url,
        "PAPERWIRE_ARXIV_REQUEST_INTERVAL_S": str(settings.arxiv_request_interval_s),
        "PAPERWIRE_HF_REQUEST_INTERVAL_S": str(settings.hf_request_interval_s),
        "PAPERWIRE_ARXIV_RETRIES": str(settings.arxiv_retries),
        "PAPERWIRE_SEMANTIC": "false",
    }
    return subprocess.run(
        [sys.executable, "-m", "paperwire", "sync", source],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def stored_errors(engine: Engine) -> dict[str, str | None]:
    with engine.connect() as conn:
        return {state.name: state.last_error for state in sync_state.all_sources(conn)}


@pytest.mark.parametrize("source", list(SOURCES))
def test_a_sync_without_network_fails_with_one_clear_line(
    offline: Settings, engine: Engine, source: str
) -> None:
    name, path = SOURCES[source]
    port = offline.hf_api_url.rsplit(":", 1)[1]

    result = run_sync_cli(offline, source)

    assert result.returncode == 1, (result.stdout, result.stderr)
    line = result.stderr.strip()
    assert "\n" not in line, line  # one line, no traceback
    assert line.startswith(f"Error: {source}: "), line
    assert name in line, line
    assert "could not be reached" in line, line
    assert f"127.0.0.1:{port}{path}" in line, line  # the URL it tried
    with engine.connect() as conn:
        state = sync_state.get_source(conn, source)
    assert state.last_status == "error"
    assert state.last_error == line.removeprefix(f"Error: {source}: ")
    assert state.last_success_at is None


def test_the_rest_of_paperwire_works_and_says_the_sources_failed(
    offline: Settings, engine: Engine
) -> None:
    for source in SOURCES:
        assert run_sync_cli(offline, source).returncode == 1
    errors = stored_errors(engine)
    assert set(errors) == set(SOURCES)
    assert all(errors.values())

    with TestClient(create_app(offline)) as client:
        home = client.get("/")
        assert home.status_code == 200
        assert 'class="card' in home.text
        footer = re.search(r'<p class="sync-status">(.*?)</p>', home.text, re.DOTALL)
        assert footer is not None
        text = re.sub(r"<[^>]+>", "", footer.group(1))
        assert re.fullmatch(
            r"arXiv sync failed [^·]+ · arXiv OAI-PMH sync failed [^·]+ · "
            r"Hugging Face sync failed [^·]+",
            text,
        ), text

        assert client.get(f"/papers/{PAPER}").status_code == 200
        found = client.get("/api/papers/search", params={"q": "language model"})
        assert found.status_code == 200
        assert int(found.headers["X-Total-Count"]) > 0
        assert found.json()[0]["paper"]["id"]
        assert client.get("/search", params={"q": "diffusion"}).status_code == 200

        token = sign_in(client, engine, make_user(engine, "reader", Role.MEMBER))
        before = client.get(f"/api/papers/{PAPER}").json()["upvotes"]
        vote = client.post(f"/api/papers/{PAPER}/vote", headers={"X-CSRF-Token": token})
        assert vote.status_code == 200
        assert vote.json()["upvotes"] == before + 1

        sign_in(client, engine, make_user(engine, "operator", Role.ADMIN))
        admin = client.get("/admin/sources")
        assert admin.status_code == 200
        assert admin.text.count("last run failed") == 3
        for message in errors.values():
            assert message is not None
            assert _escaped(message) in admin.text
        listed = client.get("/api/admin/sources").json()["sources"]
        assert {s["name"]: s["lastError"] for s in listed} == errors


def _escaped(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
    )
