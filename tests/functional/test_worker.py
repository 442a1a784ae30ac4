"""The worker: real jobs against a local OAI-PMH replay, real processes, real SQLite."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from databases import database_environment
from oai_replay import OaiReplay, oai_settings
from paperwire.config import Settings
from paperwire.context import Context, build_context
from paperwire.jobs import queue, registry, schedule
from paperwire.jobs.registry import JobKind
from paperwire.jobs.worker import INTERRUPTED, Worker
from paperwire.store import jobs as job_store
from paperwire.store import sync_state
from paperwire.store.schema import papers
from paperwire.sync.report import Heartbeat
from repo_paths import REPO_ROOT


@pytest.fixture
def replay() -> Iterator[OaiReplay]:
    with OaiReplay(page_size=50) as oai:
        yield oai


@pytest.fixture
def context(settings: Settings, replay: OaiReplay) -> Iterator[Context]:
    context = build_context(oai_settings(settings, replay, sync_sources="oai"))
    yield context
    context.close()


def add(engine: Engine, kind: str, args: dict[str, Any] | None = None, **options: Any) -> queue.Job:
    with engine.begin() as conn:
        return queue.enqueue(conn, kind, args or {}, **options)


def job_of(engine: Engine, job_id: int) -> queue.Job:
    job = queue.get(engine, job_id)
    assert job is not None
    return job


def paper_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(papers)).scalar_one())


def custom(
    name: str, run: Callable[[Context, dict[str, Any], Heartbeat], dict[str, Any]]
) -> JobKind:
    """A job kind for the test (the worker takes any registry), doing what ``run`` does."""
    return JobKind(name, "(test)", None, run, lambda args: args, "a test job")


def wait_for(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)


def test_a_failing_job_does_not_stop_the_worker(context: Context, replay: OaiReplay) -> None:
    replay.malformed_next(1)  # the first job's first page is cut off mid-way
    broken = add(context.engine, "sync_oai", {"set": "cs"})
    good = add(context.engine, "sync_oai", {"set": "cs"})
    stats = Worker(context, schedule_jobs=False).run(burst=True)

    failed = job_of(context.engine, broken.id)
    assert (failed.status, failed.attempts) == ("queued", 1)  # retried after a backoff
    assert failed.last_error is not None
    assert "not XML" in failed.last_error
    assert failed.run_after > failed.created_at
    done = job_of(context.engine, good.id)
    assert done.status == "done"
    assert done.result is not None
    assert done.result["inserted"] == len(set(replay.expected_ids("cs")))
    # The sync brought new papers: the index job followed at once and ran too.
    with context.engine.connect() as conn:
        index = job_store.last_of_kind(conn, "index")
    assert index is not None
    assert index.status == "done"
    assert index.result is not None
    assert index.result["keyword_docs"] == done.result["inserted"]
    assert (stats.done, stats.failed) == (2, 1)


def test_a_bug_in_a_job_is_recorded_and_the_next_job_runs(context: Context) -> None:
    def explode(_c: Context, _a: dict[str, Any], _h: Heartbeat) -> dict[str, Any]:
        raise ZeroDivisionError("division by zero")

    kinds = {"explode": custom("explode", explode), "index": registry.KINDS["index"]}
    bad = add(context.engine, "explode", max_attempts=1)
    after = add(context.engine, "index")
    stats = Worker(context, schedule_jobs=False, job_kinds=kinds).run(burst=True)
    failed = job_of(context.engine, bad.id)
    assert (failed.status, failed.last_error) == ("failed", "ZeroDivisionError: division by zero")
    assert job_of(context.engine, after.id).status == "done"
    assert (stats.done, stats.failed) == (1, 1)


def test_jobs_of_kinds_the_worker_does_not_know_are_left_alone(context: Context) -> None:
    future = add(context.engine, "reindex_the_moon")  # a newer version's kind
    assert Worker(context, schedule_jobs=False).run(burst=True).ran == 0
    assert job_of(context.engine, future.id).status == "queued"


def test_the_lease_thread_keeps_a_long_step_claimed(context: Context) -> None:
    def slow(_c: Context, _a: dict[str, Any], _h: Heartbeat) -> dict[str, Any]:
        time.sleep(2.5)  # one long request, no heartbeat call: the thread extends
        return {"slept": 1}

    job = add(context.engine, "slow")
    worker = Worker(
        context, lease_s=1.0, schedule_jobs=False, job_kinds={"slow": custom("slow", slow)}
    )
    thread = threading.Thread(target=worker.run, kwargs={"once": True})
    thread.start()
    wait_for(lambda: job_of(context.engine, job.id).status == "running")
    time.sleep(1.6)  # past the first lease
    assert queue.claim(context.engine, "other", 1.0) is None
    thread.join(timeout=10)
    finished = job_of(context.engine, job.id)
    assert (finished.status, finished.attempts, finished.result) == ("done", 1, {"slept": 1})


def test_stopping_hands_the_running_job_back_at_its_heartbeat(context: Context) -> None:
    beats = threading.Event()

    def endless(_c: Context, _a: dict[str, Any], heartbeat: Heartbeat) -> dict[str, Any]:
        while True:
            heartbeat()
            beats.set()
            time.sleep(0.02)

    job = add(context.engine, "endless")
    worker = Worker(context, schedule_jobs=False, job_kinds={"endless": custom("endless", endless)})
    thread = threading.Thread(target=worker.run)
    thread.start()
    assert beats.wait(10)
    worker.stop()
    thread.join(timeout=10)
    assert not thread.is_alive()
    back = job_of(context.engine, job.id)
    assert (back.status, back.attempts, back.locked_by) == ("queued", 0, None)
    assert worker.stats.interrupted == 1


def test_a_worker_that_lost_its_lease_stops_the_job_and_leaves_it(context: Context) -> None:
    started = threading.Event()
    proceed = threading.Event()

    def waits(_c: Context, _a: dict[str, Any], heartbeat: Heartbeat) -> dict[str, Any]:
        started.set()
        proceed.wait(10)
        heartbeat()  # the first checkpoint after the take-over
        return {"should": "not be recorded"}

    job = add(context.engine, "waits")
    worker = Worker(
        context, lease_s=600, schedule_jobs=False, job_kinds={"waits": custom("waits", waits)}
    )
    thread = threading.Thread(target=worker.run, kwargs={"once": True})
    thread.start()
    assert started.wait(10)
    # Another worker whose clock says the lease has lapsed takes the job over.
    later = job_of(context.engine, job.id).locked_until
    assert later is not None
    taken = queue.claim(context.engine, "other", 600, now=later + timedelta(seconds=1))
    assert taken is not None
    proceed.set()
    thread.join(timeout=10)
    current = job_of(context.engine, job.id)
    assert (current.status, current.locked_by, current.result) == ("running", "other", None)
    assert worker.stats.lost == 1


def test_the_schedule_queues_each_due_job_once(context: Context, replay: OaiReplay) -> None:
    # Two workers look at the same moment: the unique key lets one job in.
    first = schedule.enqueue_due(context)
    second = schedule.enqueue_due(context)
    assert [job.kind for job in first] == ["sync_oai"]
    assert second == []
    stats = Worker(context).run(burst=True)
    assert stats.done == 2  # the harvest, then the index job it brought
    assert paper_count(context.engine) == len(set(replay.expected_ids("cs")))  # the set setting
    with context.engine.connect() as conn:
        source = sync_state.get_source(conn, "oai")
        kinds = sorted(job.kind for job in job_store.recent(conn))
    assert source.last_status == "ok"
    assert kinds == ["index", "sync_oai"]
    # Synced just now: nothing is due until the interval has passed.
    assert schedule.enqueue_due(context) == []
    assert Worker(context).run(burst=True).ran == 0


# --- real processes -------------------------------------------------------------------


def worker_env(settings: Settings, replay: OaiReplay) -> dict[str, str]:
    return {
        **os.environ,
        "PAPERWIRE_ENV": "test",
        **database_environment(settings),
        "PAPERWIRE_SEMANTIC": "false",
        "PAPERWIRE_SYNC_SOURCES": "",
        "PAPERWIRE_ARXIV_OAI_URL": replay.url,
        "PAPERWIRE_ARXIV_REQUEST_INTERVAL_S": "0.05",
        "PAPERWIRE_ARXIV_TIMEOUT_S": "2",
        "PAPERWIRE_ARXIV_RETRIES": "2",
    }


def paperwire(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "paperwire", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO_ROOT,
    )


def test_sigterm_hands_the_job_back_and_the_next_worker_resumes_it(
    settings: Settings, engine: Engine
) -> None:
    with OaiReplay(page_size=10, delay_s=0.15) as replay:
        env = worker_env(settings, replay)
        queued = paperwire(env, "jobs", "enqueue", "sync_oai", "--arg", "set=")
        assert queued.returncode == 0, queued.stderr
        process = subprocess.Popen(
            [sys.executable, "-m", "paperwire", "worker", "--no-schedule", "--poll", "0.1"],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO_ROOT,
        )
        try:
            wait_for(lambda: _pages(engine) >= 2, timeout=30)
            process.send_signal(signal.SIGTERM)
            _out, err = process.communicate(timeout=15)
        finally:
            if process.poll() is None:
                process.kill()
        assert process.returncode == 0, err
        assert "SIGTERM: stopping" in err
        assert "stopped after" in err
        with engine.connect() as conn:
            job = job_store.recent(conn)[0]
            source = sync_state.get_source(conn, "oai")
        assert (job.status, job.attempts, job.locked_by) == ("queued", 0, None)
        assert source.last_error == INTERRUPTED
        stopped_at = _pages(engine)
        assert 2 <= stopped_at < 39

        finish = paperwire(env, "worker", "--burst", "--no-schedule")
        assert finish.returncode == 0, finish.stderr
        assert f"resumed after page {stopped_at}" in finish.stderr
        assert paper_count(engine) == len(set(replay.expected_ids()))
        listed = paperwire(env, "jobs", "list", "--status", "done")
        assert listed.returncode == 0, listed.stderr
        assert f"{job.id:>6} sync_oai   done    1/5" in listed.stdout


def _pages(engine: Engine) -> int:
    with engine.connect() as conn:
        cursor = sync_state.get_source(conn, "oai").cursor or {}
    return int(cursor.get("pages") or 0)


def test_jobs_enqueue_refuses_bad_arguments_with_a_message(settings: Settings) -> None:
    with OaiReplay() as replay:
        env = worker_env(settings, replay)
        bad = paperwire(env, "jobs", "enqueue", "sync_hf", "--arg", "day=yesterday")
        assert bad.returncode == 1
        assert "sync_hf: day 'yesterday' is not a date like 2025-10-06" in bad.stderr
        once = paperwire(env, "jobs", "enqueue", "index", "--unique-key", "nightly")
        twice = paperwire(env, "jobs", "enqueue", "index", "--unique-key", "nightly")
        assert "queued job 1 index" in once.stdout
        assert "job 1 (queued) already holds 'nightly'; nothing queued" in twice.stdout


def test_three_worker_processes_run_each_of_60_jobs_once(
    settings: Settings, engine: Engine
) -> None:
    with engine.begin() as conn:
        ids = [queue.enqueue(conn, "index", {"keyword_only": True}).id for _ in range(60)]
    with OaiReplay() as replay:
        env = worker_env(settings, replay)
        command = [sys.executable, "-m", "paperwire", "worker", "--burst", "--no-schedule"]
        processes = [
            subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT)
            for _ in range(3)
        ]
        errors = [process.communicate(timeout=120)[1] for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0], errors
    with engine.connect() as conn:
        jobs = {job.id: job for job in job_store.recent(conn, limit=100)}
    assert sorted(jobs) == ids
    assert {(job.status, job.attempts) for job in jobs.values()} == {("done", 1)}
    ran = [line for err in errors for line in err.splitlines() if " index done in " in line]
    assert len(ran) == 60  # one log line per job, over all three workers
