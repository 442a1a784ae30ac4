"""The durable job queue on a real SQLite database built by the migrations."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select

from paperwire.clock import utcnow
from paperwire.jobs import queue
from paperwire.jobs.queue import LeaseLost
from paperwire.store import jobs as store
from paperwire.store.schema import jobs

LEASE = 30.0


def add(engine: Engine, kind: str = "index", **options: object) -> queue.Job:
    with engine.begin() as conn:
        return queue.enqueue(conn, kind, {}, **options)  # type: ignore[arg-type]


def stored(engine: Engine, job_id: int) -> queue.Job:
    job = queue.get(engine, job_id)
    assert job is not None
    return job


def test_enqueue_claim_complete(engine: Engine) -> None:
    first = add(engine, "sync_hf")
    second = add(engine, "index")
    assert (first.status, first.attempts, first.locked_by) == ("queued", 0, None)

    claimed = queue.claim(engine, "w1", LEASE)
    assert claimed is not None
    assert claimed.id == first.id  # the longest due first
    assert (claimed.status, claimed.attempts, claimed.locked_by) == ("running", 1, "w1")
    assert claimed.locked_until is not None
    assert claimed.locked_until > utcnow() + timedelta(seconds=LEASE - 5)

    queue.complete(engine, claimed.id, "w1", {"inserted": 3})
    done = stored(engine, first.id)
    assert (done.status, done.result, done.locked_until) == ("done", {"inserted": 3}, None)
    assert done.finished_at is not None

    assert queue.claim(engine, "w1", LEASE, kinds=["sync_hf"]) is None  # kinds filter
    nxt = queue.claim(engine, "w1", LEASE)
    assert nxt is not None
    assert nxt.id == second.id
    assert queue.claim(engine, "w2", LEASE) is None  # running under a live lease


def test_enqueue_is_part_of_the_callers_transaction(engine: Engine) -> None:
    def write_that_fails() -> None:
        with engine.begin() as conn:
            queue.enqueue(conn, "index", {})
            raise RuntimeError("the caller's write failed")

    with pytest.raises(RuntimeError):
        write_that_fails()
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(jobs)).scalar_one() == 0


def test_a_unique_key_queues_one_job_while_it_is_queued_or_running(engine: Engine) -> None:
    one = add(engine, unique_key="schedule:index")
    again = add(engine, unique_key="schedule:index")
    assert again.id == one.id
    claimed = queue.claim(engine, "w1", LEASE)
    assert claimed is not None
    with engine.begin() as conn:
        held, added = queue.enqueue_once(conn, "index", {}, unique_key="schedule:index")
    assert (held.id, held.status, added) == (one.id, "running", False)

    queue.complete(engine, one.id, "w1")
    assert stored(engine, one.id).unique_key is None  # freed for the next period
    later = add(engine, unique_key="schedule:index")
    assert later.id != one.id
    with engine.connect() as conn:
        assert len(store.recent(conn)) == 2


def test_a_job_is_not_claimed_before_its_run_after(engine: Engine) -> None:
    now = utcnow()
    job = add(engine, run_after=now + timedelta(minutes=10), now=now)
    assert queue.claim(engine, "w1", LEASE, now=now) is None
    assert queue.claim(engine, "w1", LEASE, now=now + timedelta(minutes=9)) is None
    claimed = queue.claim(engine, "w1", LEASE, now=now + timedelta(minutes=10))
    assert claimed is not None
    assert claimed.id == job.id


def test_failures_back_off_exponentially_then_fail_for_good(engine: Engine) -> None:
    now = utcnow()
    job = add(engine, unique_key="k", max_attempts=3, now=now)
    for attempt, delay in ((1, 30), (2, 60)):
        claimed = queue.claim(engine, "w1", LEASE, now=now)
        assert claimed is not None
        assert claimed.attempts == attempt
        after = queue.fail(engine, claimed, "w1", f"boom {attempt}", now=now)
        assert (after.status, after.last_error, after.locked_by) == (
            "queued",
            f"boom {attempt}",
            None,
        )
        assert after.run_after == now + timedelta(seconds=delay)
        assert after.unique_key == "k"  # still held: no second job while it waits
        assert queue.claim(engine, "w1", LEASE, now=now + timedelta(seconds=delay - 1)) is None
        now += timedelta(seconds=delay)
    claimed = queue.claim(engine, "w1", LEASE, now=now)
    assert claimed is not None
    final = queue.fail(engine, claimed, "w1", "boom 3", now=now)
    assert (final.status, final.attempts, final.last_error) == ("failed", 3, "boom 3")
    assert (final.unique_key, final.finished_at) == (None, now)
    assert queue.claim(engine, "w1", LEASE, now=now + timedelta(days=1)) is None
    assert add(engine, unique_key="k").id != job.id  # the key is free again


def test_an_error_retrying_cannot_fix_fails_at_once(engine: Engine) -> None:
    add(engine, max_attempts=5)
    claimed = queue.claim(engine, "w1", LEASE)
    assert claimed is not None
    after = queue.fail(engine, claimed, "w1", "unknown argument", retry=False)
    assert (after.status, after.attempts) == ("failed", 1)


def test_a_lapsed_lease_is_taken_over_and_the_old_holder_is_refused(engine: Engine) -> None:
    now = utcnow()
    job = add(engine, now=now)
    assert queue.claim(engine, "dead", 10, now=now) is not None
    assert queue.claim(engine, "w2", 10, now=now + timedelta(seconds=9)) is None
    taken = queue.claim(engine, "w2", 10, now=now + timedelta(seconds=11))
    assert taken is not None
    assert (taken.id, taken.locked_by, taken.attempts) == (job.id, "w2", 2)

    with pytest.raises(LeaseLost):
        queue.heartbeat(engine, job.id, "dead", 10)
    with pytest.raises(LeaseLost):
        queue.complete(engine, job.id, "dead", {"stale": True})
    with pytest.raises(LeaseLost):
        queue.fail(engine, job, "dead", "stale error")
    assert not queue.release(engine, job.id, "dead")
    current = stored(engine, job.id)
    assert (current.status, current.locked_by, current.last_error) == ("running", "w2", None)
    queue.complete(engine, job.id, "w2", {"ok": 1})
    assert stored(engine, job.id).result == {"ok": 1}


def test_a_heartbeat_keeps_the_lease(engine: Engine) -> None:
    now = utcnow()
    job = add(engine, now=now)
    assert queue.claim(engine, "w1", 10, now=now) is not None
    queue.heartbeat(engine, job.id, "w1", 10, now=now + timedelta(seconds=8))
    assert queue.claim(engine, "w2", 10, now=now + timedelta(seconds=17)) is None
    assert queue.claim(engine, "w2", 10, now=now + timedelta(seconds=19)) is not None


def test_a_job_that_keeps_losing_its_worker_stops_after_max_attempts(engine: Engine) -> None:
    now = utcnow()
    job = add(engine, max_attempts=2, unique_key="poison", now=now)
    assert queue.claim(engine, "a", 10, now=now) is not None
    assert queue.claim(engine, "b", 10, now=now + timedelta(seconds=11)) is not None
    # b dies too: the third claim gives up on it instead of running it again.
    assert queue.claim(engine, "c", 10, now=now + timedelta(seconds=22)) is None
    final = stored(engine, job.id)
    assert (final.status, final.attempts, final.unique_key) == ("failed", 2, None)
    assert final.last_error is not None
    assert "stopped answering 2 times" in final.last_error


def test_release_hands_the_job_back_due_at_once_without_using_an_attempt(engine: Engine) -> None:
    job = add(engine, run_after=utcnow() - timedelta(minutes=5))
    assert queue.claim(engine, "w1", LEASE) is not None
    assert queue.release(engine, job.id, "w1")
    back = stored(engine, job.id)
    assert (back.status, back.attempts, back.locked_by, back.locked_until) == (
        "queued",
        0,
        None,
        None,
    )
    again = queue.claim(engine, "w2", LEASE)
    assert again is not None
    assert (again.id, again.attempts) == (job.id, 1)


def test_eight_threads_claiming_200_jobs_run_each_exactly_once(engine: Engine) -> None:
    with engine.begin() as conn:
        ids = [queue.enqueue(conn, "index", {"n": n}).id for n in range(200)]
    runs: list[tuple[str, int]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def work(worker_id: str) -> None:
        try:
            start.wait()
            while (job := queue.claim(engine, worker_id, LEASE)) is not None:
                with lock:
                    runs.append((worker_id, job.id))
                queue.complete(engine, job.id, worker_id, {"by": worker_id})
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    counts = Counter(job_id for _, job_id in runs)
    assert sorted(counts) == ids
    assert set(counts.values()) == {1}
    assert len({worker for worker, _ in runs}) > 1  # they really raced
    with engine.connect() as conn:
        rows = store.recent(conn, limit=500)
    assert {job.status for job in rows} == {"done"}
    assert {job.attempts for job in rows} == {1}
    assert all(job.result == {"by": job.locked_by} for job in rows)
