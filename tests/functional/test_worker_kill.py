"""Kill -9 a real ``paperwire worker`` over and over during an OAI-PMH harvest.

The replay serves the real 387-record ``ListRecords`` page split into pages of 6 (65
pages, with resumption tokens), each answer a little delayed so that kills land while a
page is being fetched, parsed or stored. Each worker is killed at a random moment after
it claimed the job; the next one takes the job over when the lease (1 s) lapses and
resumes from the cursor committed with the last stored page. In the end the database
must hold exactly what one uninterrupted harvest stores: every paper once, no row
duplicated or lost, the cursor finished, and the job done once.
"""

from __future__ import annotations

import math
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Table, func, select

from databases import NewDatabase, database_environment
from oai_replay import OaiReplay, oai_settings
from paperwire.config import Settings
from paperwire.context import build_context
from paperwire.jobs import queue
from paperwire.jobs.worker import Worker
from paperwire.store import jobs as job_store
from paperwire.store import sync_state
from paperwire.store.schema import (
    embedding_queue,
    feed_entries,
    links,
    organizations,
    paper_authors,
    papers,
)
from repo_paths import REPO_ROOT

PAGE_SIZE = 6
PAGE_DELAY_S = 0.08
KILLS = 22
MAX_KILL_DELAY_S = 0.4
LEASE_S = 1.0
JOB_ARGS = ("--arg", "set=")  # the whole repository: all 387 records


@dataclass(frozen=True, slots=True)
class Kill:
    requests: int  # pages this worker asked the replay for
    committed: int  # pages it stored (with the cursor) before it died

    @property
    def where(self) -> str:
        if self.requests == 0:
            return "before its first request"
        if self.requests > self.committed:
            return "mid-page"
        return "between pages"


def _env(settings: Settings, replay: OaiReplay) -> dict[str, str]:
    return {
        **os.environ,
        "PAPERWIRE_ENV": "test",
        **database_environment(settings),
        "PAPERWIRE_SEMANTIC": "false",
        "PAPERWIRE_SYNC_SOURCES": "",
        "PAPERWIRE_ARXIV_OAI_URL": replay.url,
        "PAPERWIRE_ARXIV_REQUEST_INTERVAL_S": "0.05",
        "PAPERWIRE_ARXIV_TIMEOUT_S": "5",
        "PAPERWIRE_ARXIV_RETRIES": "2",
    }


def _cursor(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        return sync_state.get_source(conn, "oai").cursor or {}


def _the_job(engine: Engine) -> queue.Job:
    with engine.connect() as conn:
        found = job_store.recent(conn, kind="sync_oai")
    assert len(found) == 1, found
    return found[0]


def _held_by(engine: Engine, pid: int) -> bool:
    job = _the_job(engine)
    return job.status == "done" or (job.status == "running" and f":{pid}:" in (job.locked_by or ""))


def _rows(engine: Engine, table: Table, skip: set[str]) -> list[tuple[Any, ...]]:
    """A table's rows without generated ids and timestamps, sorted: comparable across
    databases."""
    columns = [c for c in table.columns if c.name not in skip]
    with engine.connect() as conn:
        rows = conn.execute(select(*columns)).all()
    return sorted(tuple(repr(v) for v in row) for row in rows)


def _content(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    stamps = {"id", "created_at", "modified_at"}
    return {
        table.name: _rows(engine, table, stamps)
        for table in (papers, paper_authors, links, feed_entries, organizations, embedding_queue)
    }


def _duplicates(engine: Engine, table: Table, *names: str) -> int:
    columns = [table.c[name] for name in names]
    query = select(*columns).group_by(*columns).having(func.count() > 1)
    with engine.connect() as conn:
        return len(conn.execute(query).all())


def _reference(base: Settings) -> dict[str, list[tuple[Any, ...]]]:
    """What one uninterrupted harvest (same pages, same job) stores in ``base``, a fresh
    migrated database."""
    with OaiReplay(page_size=PAGE_SIZE) as replay:
        context = build_context(oai_settings(base, replay))
        try:
            with context.engine.begin() as conn:
                queue.enqueue(conn, "sync_oai", {"set": ""})
            stats = Worker(context, schedule_jobs=False).run(burst=True)
            assert stats.done == 2  # the harvest and the index job after it
            return _content(context.engine)
        finally:
            context.close()


def test_kill_9_at_random_points_loses_and_duplicates_nothing(
    settings: Settings, engine: Engine, new_database: NewDatabase, migrated_template: Settings
) -> None:
    started = time.monotonic()
    seed = random.SystemRandom().randrange(2**32)
    rng = random.Random(seed)
    expected = _reference(new_database(migrated_template))
    kills: list[Kill] = []
    with OaiReplay(page_size=PAGE_SIZE, delay_s=PAGE_DELAY_S) as replay:
        total_pages = math.ceil(len(replay.expected_ids()) / PAGE_SIZE)
        env = _env(settings, replay)
        queued = subprocess.run(
            [sys.executable, "-m", "paperwire", "jobs", "enqueue", "sync_oai", *JOB_ARGS,
             "--max-attempts", "100"],  # each kill costs the job an attempt
            env=env, capture_output=True, text=True, timeout=60, check=False, cwd=REPO_ROOT,
        )  # fmt: skip
        assert queued.returncode == 0, queued.stderr
        command = [
            sys.executable, "-m", "paperwire", "worker", "--no-schedule",
            "--lease", str(LEASE_S), "--poll", "0.05",
        ]  # fmt: skip
        while len(kills) < KILLS and _the_job(engine).status != "done":
            requests_before = len(replay.requests)
            pages_before = int(_cursor(engine).get("pages") or 0)
            worker = subprocess.Popen(
                command, env=env, cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
            try:
                deadline = time.monotonic() + 30
                while not _held_by(engine, worker.pid):
                    assert worker.poll() is None, "the worker exited on its own"
                    assert time.monotonic() < deadline, "the job was never taken over"
                    time.sleep(0.01)
                time.sleep(rng.uniform(0, MAX_KILL_DELAY_S))
            finally:
                worker.send_signal(signal.SIGKILL)
                worker.wait(timeout=10)
            kills.append(
                Kill(
                    len(replay.requests) - requests_before,
                    int(_cursor(engine).get("pages") or 0) - pages_before,
                )
            )
        assert len(kills) == KILLS, f"the harvest ended after {len(kills)} kills (seed {seed})"

        time.sleep(LEASE_S + 0.1)  # the last worker's lease lapses
        finish = subprocess.run(
            [*command, "--burst"], env=env, capture_output=True, text=True, timeout=120,
            check=False, cwd=REPO_ROOT,
        )  # fmt: skip
        assert finish.returncode == 0, finish.stderr
        served = len(replay.requests)

    job = _the_job(engine)
    assert job.status == "done", (job, finish.stderr)
    assert job.attempts == KILLS + 1  # claimed once per worker: each kill, then the finish
    assert job.result is not None
    assert job.result["complete"] is True
    assert finish.stderr.count(f"job {job.id} sync_oai done") == 1
    cursor = _cursor(engine)
    assert cursor["finished"] is True
    assert cursor["token"] is None
    assert (cursor["pages"], cursor["records"]) == (total_pages, 387)

    with engine.connect() as conn:
        stored_ids = set(conn.execute(select(papers.c.id)).scalars())
    assert stored_ids == set(replay.expected_ids())
    assert len(stored_ids) == 387
    assert _duplicates(engine, links, "paper_id", "url") == 0
    assert _duplicates(engine, feed_entries, "feed_date", "paper_id") == 0
    assert _duplicates(engine, paper_authors, "paper_id", "position") == 0
    assert _content(engine) == expected  # row for row what one clean harvest stores

    where = [kill.where for kill in kills]
    mid_page = where.count("mid-page")
    # Every request is accounted for: each page once, plus the page each mid-page kill
    # interrupted (asked again by the next worker). Nothing was skipped or stored twice.
    assert served == total_pages + mid_page
    assert mid_page >= 5, where
    print(
        f"\n{len(kills)} kills (seed {seed}): {mid_page} mid-page, "
        f"{where.count('between pages')} between pages, "
        f"{where.count('before its first request')} before the first request; "
        f"{total_pages} pages, {served} requests, {time.monotonic() - started:.0f} s"
    )
