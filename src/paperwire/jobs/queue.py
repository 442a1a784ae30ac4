"""The durable job queue: jobs live in the application's own database (table ``jobs``).

Why not a library: the queue must work on both of our engines, SQLite and PostgreSQL,
through our SQLAlchemy engine, with leases so that a dead worker's job is taken over.
huey, rq and dramatiq need Redis (or their own SQLite file and connections, outside our
transactions), procrastinate is PostgreSQL-only, and APScheduler 3 has no distributed
claims (two schedulers sharing a job store both run a job). The whole queue is the few
guarded UPDATEs below (SQL in ``store/jobs.py``).

Life of a job::

    enqueue -> queued --claim--> running --complete--> done
                  ^                 |  \\--fail (attempts left)--> queued, later (backoff)
                  |                 |   \\-fail (none left)-------> failed
                  +--release--------+   (a clean stop: due again at once, attempt given back)
    running, lease lapsed (its worker died) --claim by another worker--> running

A worker holds a job under a lease (``locked_until``) that it extends with
:func:`heartbeat` while the job runs. When the worker dies the lease lapses and any
worker takes the job again; the sync jobs keep their cursor in ``sync_sources``, saved
with each page, so the retaken job resumes where the dead one committed last.

``attempts`` counts starts, a retaken lease included, so a job that kills its worker
every time (memory, a native crash) stops after ``max_attempts`` instead of looping.
A ``unique_key`` is held only while the job is queued or running: it keeps several
workers' schedulers from queueing the same periodic job twice, and is cleared when the
job ends so that the next period can queue it again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine

from paperwire.clock import utcnow
from paperwire.store import jobs as store
from paperwire.store.jobs import DONE, FAILED, QUEUED, Job

__all__ = [
    "BACKOFF_BASE_S",
    "BACKOFF_MAX_S",
    "Job",
    "JobInterrupted",
    "JobStopped",
    "LeaseLost",
    "backoff_s",
    "claim",
    "complete",
    "enqueue",
    "enqueue_once",
    "fail",
    "heartbeat",
    "release",
]

BACKOFF_BASE_S = 30.0
BACKOFF_MAX_S = 3600.0
CANDIDATES = 8  # claimable jobs read per try; more than workers that race for one
ERROR_CHARS = 4000


class JobStopped(BaseException):
    """The running job must stop now, at its heartbeat.

    A BaseException, like KeyboardInterrupt, so that a job's own ``except Exception``
    (skipping one bad record, say) cannot swallow it and go on running a job that another
    worker now holds.
    """


class LeaseLost(JobStopped):
    """This worker no longer holds the job: its lease lapsed and another worker took it."""


class JobInterrupted(JobStopped):
    """The worker is stopping (SIGTERM, Ctrl-C): the job is handed back, to resume later."""


def backoff_s(attempts: int, base_s: float = BACKOFF_BASE_S, max_s: float = BACKOFF_MAX_S) -> float:
    """Seconds before retrying a job that has failed its ``attempts``-th start."""
    return float(min(max_s, base_s * 2 ** max(0, attempts - 1)))


def enqueue(
    conn: Connection,
    kind: str,
    args: dict[str, Any],
    *,
    unique_key: str | None = None,
    run_after: datetime | None = None,
    max_attempts: int = 5,
    now: datetime | None = None,
) -> Job:
    """Queue a job in the caller's transaction and return it.

    With a ``unique_key`` that a queued or running job already holds, that job is
    returned instead and nothing is added.
    """
    job, _added = enqueue_once(
        conn,
        kind,
        args,
        unique_key=unique_key,
        run_after=run_after,
        max_attempts=max_attempts,
        now=now,
    )
    return job


def enqueue_once(
    conn: Connection,
    kind: str,
    args: dict[str, Any],
    *,
    unique_key: str | None = None,
    run_after: datetime | None = None,
    max_attempts: int = 5,
    now: datetime | None = None,
) -> tuple[Job, bool]:
    """:func:`enqueue`, also saying whether the job was added (False: the key's holder)."""
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    now = now or utcnow()
    for _ in range(3):
        job_id = store.insert_job(
            conn,
            kind=kind,
            args=args,
            unique_key=unique_key,
            run_after=run_after or now,
            max_attempts=max_attempts,
            now=now,
        )
        if job_id is not None:
            added = store.get(conn, job_id)
            assert added is not None
            return added, True
        assert unique_key is not None
        # The holder may have ended (clearing its key) since our insert: try again.
        holder = store.by_unique_key(conn, unique_key)
        if holder is not None:
            return holder, False
    raise RuntimeError(f"could not queue {kind} under unique key {unique_key!r}")


def claim(
    engine: Engine,
    worker_id: str,
    lease_s: float,
    kinds: Sequence[str] | None = None,
    *,
    now: datetime | None = None,
) -> Job | None:
    """Take the longest-due claimable job for ``worker_id``, or None when there is none.

    A candidate is read first, then taken by an UPDATE that repeats the claimable test
    (see ``store/jobs.py``); when another worker took it in between, the next candidate
    is tried. Each take is its own short transaction.
    """
    for _ in range(4):
        now_ = now or utcnow()
        with engine.connect() as conn:
            found = store.candidates(conn, now_, kinds, CANDIDATES)
        if not found:
            return None
        for candidate in found:
            with engine.begin() as conn:
                if candidate.status != QUEUED and candidate.attempts >= candidate.max_attempts:
                    store.give_up_lapsed(
                        conn,
                        candidate.id,
                        now_,
                        f"its worker stopped answering {candidate.attempts} times "
                        f"(last {candidate.locked_by}); not retried again",
                    )
                    continue
                if store.take(conn, candidate.id, worker_id, now_, now_ + _seconds(lease_s)):
                    job = store.get(conn, candidate.id)
                    assert job is not None
                    return job
    return None


def heartbeat(
    engine: Engine, job_id: int, worker_id: str, lease_s: float, *, now: datetime | None = None
) -> None:
    """Extend this worker's lease on a running job; raises :class:`LeaseLost` otherwise."""
    with engine.begin() as conn:
        held = store.extend(conn, job_id, worker_id, (now or utcnow()) + _seconds(lease_s))
    if not held:
        raise LeaseLost(f"job {job_id}: {worker_id} no longer holds it")


def complete(
    engine: Engine,
    job_id: int,
    worker_id: str,
    result: dict[str, Any] | None = None,
    *,
    now: datetime | None = None,
) -> None:
    """Mark a held job done with its result; raises :class:`LeaseLost` if not held."""
    now = now or utcnow()
    values = {
        "status": DONE,
        "result": result,
        "unique_key": None,
        "locked_until": None,
        "finished_at": now,
    }
    with engine.begin() as conn:
        if not store.finish(conn, job_id, worker_id, values):
            raise LeaseLost(f"job {job_id}: {worker_id} no longer holds it; not marked done")


def fail(
    engine: Engine,
    job: Job,
    worker_id: str,
    error: str,
    *,
    retry: bool = True,
    now: datetime | None = None,
    backoff_base_s: float = BACKOFF_BASE_S,
) -> Job:
    """Record a held job's error: queued again after a backoff while attempts are left
    (and ``retry``), else failed for good. Returns the job as stored now."""
    now = now or utcnow()
    with engine.begin() as conn:
        current = store.get(conn, job.id)
        if current is None or current.locked_by != worker_id:
            raise LeaseLost(f"job {job.id}: {worker_id} no longer holds it; error not recorded")
        values: dict[str, Any] = {"last_error": error[:ERROR_CHARS], "locked_until": None}
        if retry and current.attempts < current.max_attempts:
            delay = backoff_s(current.attempts, backoff_base_s)
            values.update(status=QUEUED, run_after=now + _seconds(delay), locked_by=None)
        else:
            values.update(status=FAILED, unique_key=None, finished_at=now)
        if not store.finish(conn, job.id, worker_id, values):
            raise LeaseLost(f"job {job.id}: {worker_id} no longer holds it; error not recorded")
        stored = store.get(conn, job.id)
    assert stored is not None
    return stored


def release(engine: Engine, job_id: int, worker_id: str, *, now: datetime | None = None) -> bool:
    """Hand a held job back (the worker is stopping): due at once for any worker.

    Returns False when the lease was already lost (nothing to hand back).
    """
    with engine.begin() as conn:
        return store.release(conn, job_id, worker_id, now or utcnow())


def get(engine: Engine, job_id: int) -> Job | None:
    with engine.connect() as conn:
        return store.get(conn, job_id)


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=value)
