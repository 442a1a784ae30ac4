"""SQL of the durable job queue (the ``jobs`` table); the rules live in ``jobs/queue.py``.

Every state change is one guarded ``UPDATE``: its ``WHERE`` restates the condition the
change depends on (the job is still due, this worker still holds its lease), and the
caller checks the row count. That is what keeps two workers, in threads or processes, on
SQLite or PostgreSQL, from both taking the same job: the database applies one UPDATE to
a row at a time and re-checks the condition for the second (SQLite by serializing
writers, PostgreSQL by re-evaluating the WHERE after the row lock), which then matches
nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)

from paperwire.clock import as_utc
from paperwire.store.schema import jobs
from paperwire.store.sql import insert_ignoring_conflicts

QUEUED = "queued"
RUNNING = "running"
DONE = "done"
FAILED = "failed"
STATUSES = (QUEUED, RUNNING, DONE, FAILED)


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    kind: str
    args: dict[str, Any]
    status: str
    unique_key: str | None
    run_after: datetime
    attempts: int  # times a worker started it (claims, including retakes)
    max_attempts: int
    locked_by: str | None
    locked_until: datetime | None
    result: dict[str, Any] | None
    last_error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


def _job(row: Any) -> Job:
    values = dict(row)
    for name in ("run_after", "locked_until", "created_at", "started_at", "finished_at"):
        values[name] = as_utc(values[name])
    return Job(**values)


def get(conn: Connection, job_id: int) -> Job | None:
    row = conn.execute(select(jobs).where(jobs.c.id == job_id)).mappings().first()
    return _job(row) if row is not None else None


def by_unique_key(conn: Connection, unique_key: str) -> Job | None:
    row = conn.execute(select(jobs).where(jobs.c.unique_key == unique_key)).mappings().first()
    return _job(row) if row is not None else None


def insert_job(
    conn: Connection,
    *,
    kind: str,
    args: dict[str, Any],
    unique_key: str | None,
    run_after: datetime,
    max_attempts: int,
    now: datetime,
) -> int | None:
    """Insert a queued job and return its id; None when ``unique_key`` is taken."""
    values = {
        "kind": kind,
        "args": args,
        "status": QUEUED,
        "unique_key": unique_key,
        "run_after": run_after,
        "attempts": 0,
        "max_attempts": max_attempts,
        "created_at": now,
    }
    if unique_key is None:
        return int(conn.execute(insert(jobs).values(values).returning(jobs.c.id)).scalar_one())
    # ON CONFLICT DO NOTHING RETURNING gives no row when the key is taken (SQLite 3.35+,
    # PostgreSQL), so the check and the insert are one statement.
    statement = insert_ignoring_conflicts(conn, jobs).values(values).returning(jobs.c.id)
    inserted = conn.execute(statement).scalar_one_or_none()
    return int(inserted) if inserted is not None else None


def _due(now: datetime) -> ColumnElement[bool]:
    """Claimable: queued and due, or running under a lease that has run out (its worker
    died or hung)."""
    return or_(
        and_(jobs.c.status == QUEUED, jobs.c.run_after <= now),
        and_(jobs.c.status == RUNNING, jobs.c.locked_until < now),
    )


def candidates(
    conn: Connection, now: datetime, kinds: Sequence[str] | None, limit: int
) -> list[Job]:
    """Claimable jobs, the longest due first (a job whose lease lapsed keeps its own
    ``run_after``, so it is taken over before newer jobs)."""
    query = select(jobs).where(_due(now))
    if kinds is not None:
        query = query.where(jobs.c.kind.in_(list(kinds)))
    query = query.order_by(jobs.c.run_after, jobs.c.id).limit(limit)
    return [_job(row) for row in conn.execute(query).mappings()]


def take(
    conn: Connection, job_id: int, worker_id: str, now: datetime, locked_until: datetime
) -> bool:
    """Claim one job if it is still claimable; False when another worker got there first."""
    result = conn.execute(
        update(jobs)
        .where(jobs.c.id == job_id, _due(now))
        .values(
            status=RUNNING,
            locked_by=worker_id,
            locked_until=locked_until,
            attempts=jobs.c.attempts + 1,
            started_at=now,
        )
    )
    return result.rowcount == 1


def give_up_lapsed(conn: Connection, job_id: int, now: datetime, error: str) -> bool:
    """Fail a job whose lease lapsed once too often (it keeps killing its workers)."""
    result = conn.execute(
        update(jobs)
        .where(
            jobs.c.id == job_id,
            jobs.c.status == RUNNING,
            jobs.c.locked_until < now,
            jobs.c.attempts >= jobs.c.max_attempts,
        )
        .values(
            status=FAILED,
            unique_key=None,
            locked_by=None,
            locked_until=None,
            last_error=error,
            finished_at=now,
        )
    )
    return result.rowcount == 1


def _held(job_id: int, worker_id: str) -> ColumnElement[bool]:
    return and_(jobs.c.id == job_id, jobs.c.status == RUNNING, jobs.c.locked_by == worker_id)


def extend(conn: Connection, job_id: int, worker_id: str, locked_until: datetime) -> bool:
    """Move the lease on; False when this worker no longer holds the job."""
    result = conn.execute(
        update(jobs).where(_held(job_id, worker_id)).values(locked_until=locked_until)
    )
    return result.rowcount == 1


def finish(conn: Connection, job_id: int, worker_id: str, values: dict[str, Any]) -> bool:
    """Apply a held job's end (done, failed, requeued); False when the lease was lost."""
    result = conn.execute(update(jobs).where(_held(job_id, worker_id)).values(values))
    return result.rowcount == 1


def release(conn: Connection, job_id: int, worker_id: str, now: datetime) -> bool:
    """Put a held job back, due now, giving back the attempt (a clean stop is not one)."""
    return finish(
        conn,
        job_id,
        worker_id,
        {
            "status": QUEUED,
            "run_after": now,
            "locked_by": None,
            "locked_until": None,
            "attempts": case((jobs.c.attempts > 0, jobs.c.attempts - 1), else_=0),
        },
    )


def recent(
    conn: Connection, *, status: str | None = None, kind: str | None = None, limit: int = 50
) -> list[Job]:
    query = select(jobs)
    if status is not None:
        query = query.where(jobs.c.status == status)
    if kind is not None:
        query = query.where(jobs.c.kind == kind)
    rows = conn.execute(query.order_by(jobs.c.id.desc()).limit(limit)).mappings()
    return [_job(row) for row in rows]


def last_of_kind(conn: Connection, kind: str) -> Job | None:
    """The newest job of a kind, whatever its status."""
    row = (
        conn.execute(select(jobs).where(jobs.c.kind == kind).order_by(jobs.c.id.desc()).limit(1))
        .mappings()
        .first()
    )
    return _job(row) if row is not None else None


def count_by_status(conn: Connection) -> dict[str, int]:
    rows = conn.execute(select(jobs.c.status, func.count()).group_by(jobs.c.status)).all()
    return {str(status): int(count) for status, count in rows}


def prune(conn: Connection, *, done_before: datetime, failed_before: datetime) -> int:
    """Delete finished jobs older than the cut-offs; returns how many."""
    result = conn.execute(
        delete(jobs).where(
            or_(
                and_(jobs.c.status == DONE, jobs.c.finished_at < done_before),
                and_(jobs.c.status == FAILED, jobs.c.finished_at < failed_before),
            )
        )
    )
    return int(result.rowcount)
