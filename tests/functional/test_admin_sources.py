"""The admin page of sync sources, its JSON twin, "Sync now" and the footer's line."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, select, update

from factories import api_token, make_user, sign_in
from hf_replay import HfReplay, hf_replay_settings
from paperwire.clock import as_utc
from paperwire.config import Settings
from paperwire.context import build_context
from paperwire.jobs import queue
from paperwire.jobs.schedule import unique_key
from paperwire.models import Role
from paperwire.store.schema import jobs
from paperwire.sync.hf import sync_hf
from paperwire.sync.report import SyncError
from paperwire.sync.runner import run_sync
from paperwire.web.app import create_app

DAY = "2026-08-21"


@pytest.fixture
def hf() -> Iterator[HfReplay]:
    with HfReplay() as server:
        yield server


@pytest.fixture
def synced_settings(settings: Settings, hf: HfReplay) -> Settings:
    return hf_replay_settings(
        settings,
        hf,
        sync_arxiv_categories="cs.CL,cs.LG",
        sync_oai_set="physics:hep-th",
        sync_every_minutes=30,
    )


@pytest.fixture
def client(synced_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(synced_settings)) as client:
        yield client


def _sync_hf(settings: Settings, day: str = DAY) -> None:
    context = build_context(settings)
    try:
        run_sync(context, "hf", lambda: sync_hf(context, day=datetime.fromisoformat(day).date()))
    finally:
        context.close()


def _jobs(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(select(jobs).order_by(jobs.c.id)).mappings()]


def _footer(html: str) -> str:
    found = re.search(r'<p class="sync-status">(.*?)</p>', html, re.DOTALL)
    assert found, "no sync line in the footer"
    return re.sub(r"<[^>]+>", "", found.group(1))


# --- who may see it ----------------------------------------------------------------------


def test_the_page_and_its_twin_are_for_admins_only(client: TestClient, engine: Engine) -> None:
    page = client.get("/admin/sources", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=%2Fadmin%2Fsources"
    assert client.get("/api/admin/sources").status_code == 401
    assert client.post("/api/admin/sources/hf/sync").status_code in (401, 403)

    member = make_user(engine, "member", Role.MEMBER)
    token = sign_in(client, engine, member)
    assert client.get("/admin/sources").status_code == 403
    assert client.get("/api/admin/sources").json()["detail"] == "Only admins can do this."
    forbidden = client.post(
        "/admin/sources/hf/sync", data={"csrf_token": token}, follow_redirects=False
    )
    assert forbidden.status_code == 403
    assert _jobs(engine) == []

    curator = make_user(engine, "curator", Role.CURATOR)
    bearer = {"Authorization": f"Bearer {api_token(engine, curator)}"}
    assert client.get("/api/admin/sources", headers=bearer).status_code == 403
    assert client.post("/api/admin/sources/hf/sync", headers=bearer).status_code == 403
    assert _jobs(engine) == []


# --- what it shows -----------------------------------------------------------------------


def test_the_page_shows_each_source_its_runs_errors_and_cursor(
    client: TestClient, engine: Engine, synced_settings: Settings, hf: HfReplay
) -> None:
    _sync_hf(synced_settings)  # a good run...
    hf.fail_next(10, 503)
    with pytest.raises(SyncError):  # ...then one that fails
        _sync_hf(synced_settings)
    sign_in(client, engine, make_user(engine, "operator", Role.ADMIN))

    page = client.get("/admin/sources")

    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    html = page.text
    for label in ("arXiv", "arXiv OAI-PMH", "Hugging Face"):
        assert f">Sync {label} now</button>" in html
    hf_section = html[html.index('id="source-hf"') :]
    hf_section = hf_section[: hf_section.index("</section>")]
    assert "followed" in hf_section
    assert "last run failed" in hf_section
    assert f"{hf.url}/api/daily_papers?date={DAY}" in hf_section  # the error, with its URL
    assert "HTTP 503" in hf_section
    assert hf.url in hf_section  # the configured base URL
    assert "last day read: 21 Aug 2026" in hf_section
    assert "every 30 minutes" in hf_section
    arxiv_section = html[html.index('id="source-arxiv"') :]
    arxiv_section = arxiv_section[: arxiv_section.index("</section>")]
    assert "cs.CL, cs.LG" in arxiv_section
    assert synced_settings.arxiv_api_url in arxiv_section
    assert "never run" in arxiv_section
    oai_section = html[html.index('id="source-oai"') :]
    oai_section = oai_section[: oai_section.index("</section>")]
    assert "not followed" in oai_section
    assert "physics:hep-th" in oai_section
    assert html.count('action="/admin/sources/') == 3
    assert 'name="csrf_token"' in html
    assert "17 papers waiting for the keyword index" in html


def test_the_json_twin(client: TestClient, engine: Engine, synced_settings: Settings) -> None:
    _sync_hf(synced_settings)
    admin = make_user(engine, "operator", Role.ADMIN)
    bearer = {"Authorization": f"Bearer {api_token(engine, admin)}"}

    found = client.get("/api/admin/sources", headers=bearer).json()

    sources = {source["name"]: source for source in found["sources"]}
    assert list(sources) == ["arxiv", "oai", "hf"]
    hf = sources["hf"]
    assert hf["followed"] is True
    assert hf["config"]["url"] == synced_settings.hf_api_url
    assert hf["lastStatus"] == "ok"
    assert hf["lastError"] is None
    assert hf["lastCounts"]["inserted"] == 17
    assert hf["lastCounts"]["featured"] == 17
    assert hf["cursor"] == {"day": DAY}
    assert hf["lastSuccessAt"].endswith("Z")
    assert hf["scheduleMinutes"] == 30
    assert sources["arxiv"]["config"]["categories"] == ["cs.CL", "cs.LG"]
    assert sources["arxiv"]["lastStatus"] is None
    assert sources["oai"]["followed"] is False
    assert sources["oai"]["scheduleMinutes"] is None
    assert sources["oai"]["config"]["set"] == "physics:hep-th"
    assert found["queue"] == {
        "counts": {"queued": 0, "running": 0, "done": 0, "failed": 0},
        "recent": [],
    }
    assert found["indexBacklog"]["keyword"] == 17
    sign_in(client, engine, admin)
    html = client.get("/admin/sources").text
    assert "pages 1 · fetched 17 · inserted 17 · updated 0 · unchanged 0 · featured 17" in html


def test_the_queue_at_a_glance(client: TestClient, engine: Engine) -> None:
    now = datetime.now(UTC)
    rows = [
        {
            "kind": "index",
            "status": status,
            "args": {},
            "run_after": now,
            "created_at": now,
            "last_error": None,
        }
        for status in ["done"] * 22 + ["failed", "running", "queued", "queued"]
    ]
    rows[-4]["last_error"] = "embedding model missing"
    with engine.begin() as conn:
        conn.execute(insert(jobs), rows)
    admin = make_user(engine, "operator", Role.ADMIN)
    bearer = {"Authorization": f"Bearer {api_token(engine, admin)}"}

    queue = client.get("/api/admin/sources", headers=bearer).json()["queue"]

    assert queue["counts"] == {"queued": 2, "running": 1, "done": 22, "failed": 1}
    assert len(queue["recent"]) == 20
    assert [job["id"] for job in queue["recent"]] == list(range(26, 6, -1))
    assert queue["recent"][3]["lastError"] == "embedding model missing"
    sign_in(client, engine, admin)
    html = client.get("/admin/sources").text
    assert "2 queued" in html
    assert "22 done" in html
    assert "embedding model missing" in html


# --- sync now ----------------------------------------------------------------------------


def test_sync_now_form_queues_one_job(
    client: TestClient, engine: Engine, synced_settings: Settings
) -> None:
    token = sign_in(client, engine, make_user(engine, "operator", Role.ADMIN))
    form = {"csrf_token": token, "next": "/admin/sources?queued=hf"}

    first = client.post("/admin/sources/hf/sync", data=form, follow_redirects=False)
    second = client.post("/admin/sources/hf/sync", data=form, follow_redirects=False)

    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == "/admin/sources?queued=hf"
    (job,) = _jobs(engine)
    assert job["kind"] == "sync_hf"
    assert job["unique_key"] == unique_key("sync_hf")  # the schedule's: one sync_hf job
    assert job["status"] == "queued"
    assert job["args"] == {}
    assert as_utc(job["run_after"]) <= datetime.now(UTC)  # naive on SQLite, aware on PostgreSQL
    page = client.get(first.headers["location"]).text
    assert "A sync of Hugging Face is queued" in page
    assert "sync_hf" in page
    unsafe = client.post(
        "/admin/sources/arxiv/sync",
        data={"csrf_token": token, "next": "https://evil.example/"},
        follow_redirects=False,
    )
    assert unsafe.headers["location"] == "/admin/sources?queued=arxiv"
    assert [j["kind"] for j in _jobs(engine)] == ["sync_hf", "sync_arxiv"]


def test_sync_now_api_and_a_job_already_there(client: TestClient, engine: Engine) -> None:
    admin = make_user(engine, "operator", Role.ADMIN)
    bearer = {"Authorization": f"Bearer {api_token(engine, admin)}"}

    first = client.post("/api/admin/sources/oai/sync", headers=bearer)
    again = client.post("/api/admin/sources/oai/sync", headers=bearer)

    assert first.status_code == again.status_code == 202
    assert first.json()["created"] is True
    assert again.json()["created"] is False
    assert again.json()["job"]["id"] == first.json()["job"]["id"]
    assert first.json()["job"]["kind"] == "sync_oai"
    assert client.post("/api/admin/sources/nope/sync", headers=bearer).status_code == 404

    # the schedule's job, due later, is brought forward; still one job
    later = datetime.now(UTC) + timedelta(hours=3)
    with engine.begin() as conn:
        conn.execute(update(jobs).values(run_after=later))
    brought = client.post("/api/admin/sources/oai/sync", headers=bearer).json()
    assert brought["created"] is False
    assert datetime.fromisoformat(brought["job"]["runAfter"]) < later - timedelta(hours=2)
    # a running one is left alone: it is syncing already
    with engine.begin() as conn:
        conn.execute(update(jobs).values(status="running", locked_by="worker-1"))
    running = client.post("/api/admin/sources/oai/sync", headers=bearer).json()
    assert running["created"] is False
    assert running["job"]["status"] == "running"
    assert len(_jobs(engine)) == 1
    # once it ended (the queue releases the key), asking again queues a new one
    with engine.begin() as conn:
        conn.execute(update(jobs).values(status="done", unique_key=None))
    anew = client.post("/api/admin/sources/oai/sync", headers=bearer).json()
    assert anew["created"] is True
    assert [job["status"] for job in _jobs(engine)] == ["done", "queued"]


def test_sync_now_shares_the_scheduled_job_and_the_worker_takes_it(
    client: TestClient, engine: Engine
) -> None:
    admin = make_user(engine, "operator", Role.ADMIN)
    bearer = {"Authorization": f"Bearer {api_token(engine, admin)}"}
    later = datetime.now(UTC) + timedelta(minutes=50)
    with engine.begin() as conn:  # the schedule queued the next periodic sync
        scheduled = queue.enqueue(
            conn, "sync_hf", {}, unique_key=unique_key("sync_hf"), run_after=later
        )

    answer = client.post("/api/admin/sources/hf/sync", headers=bearer).json()

    assert answer["created"] is False
    assert answer["job"]["id"] == scheduled.id
    taken = queue.claim(engine, "worker-test", 60, ["sync_hf"])
    assert taken is not None
    assert taken.id == scheduled.id  # due now, not in 50 minutes
    assert len(_jobs(engine)) == 1


def test_the_routes_are_in_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert paths["/api/admin/sources"]["get"]["summary"]
    assert paths["/api/admin/sources/{name}/sync"]["post"]["summary"]
    assert "/admin/sources" not in paths


# --- the footer ----------------------------------------------------------------------------


def test_every_page_says_when_each_followed_source_last_synced(
    client: TestClient, engine: Engine, synced_settings: Settings, hf: HfReplay
) -> None:
    assert _footer(client.get("/").text) == "arXiv never synced · Hugging Face never synced"

    _sync_hf(synced_settings)

    html = client.get("/").text  # anonymous and cached: the sync changed the content
    with engine.connect() as conn:
        synced_at = conn.exec_driver_sql(
            "SELECT last_success_at FROM sync_sources WHERE name = 'hf'"
        ).scalar_one()
    when = datetime.fromisoformat(str(synced_at)).strftime("%-d %b %Y %H:%M UTC")
    assert _footer(html) == f"arXiv never synced · Hugging Face synced {when}"
    assert re.search(r'Hugging Face synced <time datetime="[0-9-]+T[0-9:.]+\+00:00">', html)
    assert _footer(client.get(f"/papers/date/{DAY}").text) == _footer(html)
    assert _footer(client.get("/no-such-page").text) == _footer(html)  # error pages too
    assert "/admin/sources" not in html

    hf.fail_next(10, 503)
    with pytest.raises(SyncError):
        _sync_hf(synced_settings)
    sign_in(client, engine, make_user(engine, "operator", Role.ADMIN))
    signed_in = client.get("/").text
    assert re.fullmatch(
        rf"arXiv never synced · Hugging Face sync failed \d+ \w+ \d{{4}} [0-9:]+ UTC "
        rf"\(last synced {when}\) · Sync sources",
        _footer(signed_in),
    )
    assert '<a href="/admin/sources">Sync sources</a>' in signed_in


def test_a_source_not_followed_is_not_in_the_footer(settings: Settings) -> None:
    with TestClient(create_app(settings.model_copy(update={"sync_sources": "hf"}))) as client:
        assert _footer(client.get("/").text) == "Hugging Face never synced"
    with TestClient(create_app(settings.model_copy(update={"sync_sources": ""}))) as client:
        assert 'class="sync-status"' not in client.get("/").text
