"""The worker: queue the periodic jobs when due, claim jobs, run them under a lease.

One loop per slot (``concurrency`` threads sharing one context)::

    queue due periodic jobs (every few seconds) -> claim one -> run it -> done / failed
                                                     \\-> none: sleep a little (or exit: burst)

While a job runs, a thread extends its lease every third of the lease, so a job that
waits long on one slow request keeps it; the job's own heartbeat (called after each
committed page or batch) is where it stops: when the worker is stopping (SIGTERM,
Ctrl-C) it raises :class:`~paperwire.jobs.queue.JobInterrupted` and the job is handed
back, due at once, to resume from what it committed; when the lease was lost (this
worker stalled past it and another took the job) it raises
:class:`~paperwire.jobs.queue.LeaseLost` and the job is left to its new holder. A job's
error is recorded on the job (retried with backoff) and never stops the worker. Each job
is logged in one line: id, kind, seconds, and its counts or its error.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from paperwire.clock import utcnow
from paperwire.context import Context
from paperwire.errors import UserError
from paperwire.jobs import queue, registry, schedule
from paperwire.jobs.queue import Job, JobInterrupted, LeaseLost
from paperwire.jobs.registry import BadJobArgs, JobKind
from paperwire.store import jobs as job_store
from paperwire.store import sync_state
from paperwire.sync.report import SyncError

log = logging.getLogger("paperwire.worker")

SCHEDULE_CHECK_S = 10.0  # how often the periodic jobs are looked at
PRUNE_EVERY_S = 3600.0
KEEP_DONE = timedelta(days=7)
KEEP_FAILED = timedelta(days=30)
MAX_IDLE_BACKOFF_S = 60.0  # waits between tries while the database itself fails
INTERRUPTED = "interrupted: the worker stopped; the job was handed back and resumes from its cursor"


def make_worker_id() -> str:
    """hostname:pid:random, unique among workers and readable in `paperwire jobs list`."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(3)}"


class Lease:
    """Keeps a job's lease alive from a thread; :meth:`beat` is the job's heartbeat."""

    def __init__(
        self, engine: Engine, job: Job, worker_id: str, lease_s: float, stopping: threading.Event
    ) -> None:
        self._engine = engine
        self._job = job
        self._worker_id = worker_id
        self._lease_s = lease_s
        self._interval = lease_s / 3
        self._stopping = stopping
        self._done = threading.Event()
        self._last_extended = time.monotonic()
        self.lost: LeaseLost | None = None
        self._thread = threading.Thread(target=self._keep, name=f"lease-{job.id}", daemon=True)

    def __enter__(self) -> Lease:
        self._thread.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self._done.set()
        self._thread.join()

    def _keep(self) -> None:
        while not self._done.wait(self._interval) and self.lost is None:
            self._extend()

    def _extend(self) -> None:
        try:
            queue.heartbeat(self._engine, self._job.id, self._worker_id, self._lease_s)
        except LeaseLost as error:
            self.lost = error
        except SQLAlchemyError as error:  # e.g. SQLite busy for longer than its timeout
            log.warning(
                "job %d: could not extend its lease (%s); trying again", self._job.id, error
            )
        else:
            self._last_extended = time.monotonic()

    def beat(self) -> None:
        """Raise when the job must stop; extend the lease if the thread fell behind."""
        if self.lost is None and time.monotonic() - self._last_extended > self._interval * 1.5:
            self._extend()
        if self.lost is not None:
            raise self.lost
        if self._stopping.is_set():
            raise JobInterrupted("the worker is stopping")


@dataclass(slots=True)
class WorkerStats:
    done: int = 0
    failed: int = 0  # errors, retried or final
    interrupted: int = 0
    lost: int = 0

    @property
    def ran(self) -> int:
        return self.done + self.failed + self.interrupted + self.lost


class Worker:
    def __init__(
        self,
        context: Context,
        *,
        worker_id: str | None = None,
        lease_s: float | None = None,
        poll_s: float = 2.0,
        schedule_jobs: bool = True,
        kinds: Sequence[str] | None = None,
        job_kinds: Mapping[str, JobKind] = registry.KINDS,
    ) -> None:
        self.context = context
        self.worker_id = worker_id or make_worker_id()
        self.lease_s = float(lease_s or context.settings.worker_lease_s)
        self.poll_s = poll_s
        self.schedule_jobs = schedule_jobs
        self.job_kinds = dict(job_kinds)
        unknown = [kind for kind in kinds or () if kind not in self.job_kinds]
        if unknown:
            raise UserError(f"unknown job kind {unknown[0]!r}")
        # Only kinds this worker can run are claimed (a newer worker's kinds are left).
        self.claimable = list(kinds) if kinds else list(self.job_kinds)
        self.stopping = threading.Event()
        self.stats = WorkerStats()
        self._lock = threading.Lock()
        self._next_schedule = 0.0
        self._next_prune = 0.0
        if schedule_jobs:
            schedule.check_sources(context.settings.followed_sources)

    def stop(self) -> None:
        """Stop after (or, at its next heartbeat, during) the current job."""
        self.stopping.set()

    # --- the loop ------------------------------------------------------------------------

    def run(self, *, once: bool = False, burst: bool = False, concurrency: int = 1) -> WorkerStats:
        """Run jobs until stopped; ``once``: at most one per slot; ``burst``: until none is
        claimable. Slots run in threads, so that the calling (main) thread stays free to
        take signals."""
        slots = [
            threading.Thread(
                target=self._loop,
                args=(self.worker_id if concurrency == 1 else f"{self.worker_id}/{n}",),
                kwargs={"once": once, "burst": burst},
                name=f"worker-{n}",
                daemon=True,
            )
            for n in range(1, concurrency + 1)
        ]
        for slot in slots:
            slot.start()
        for slot in slots:
            while slot.is_alive():
                slot.join(timeout=0.5)
        return self.stats

    def _loop(self, worker_id: str, *, once: bool, burst: bool) -> None:
        failures = 0
        while not self.stopping.is_set():
            try:
                self._periodic()
                job = queue.claim(self.context.engine, worker_id, self.lease_s, self.claimable)
            except SQLAlchemyError as error:
                if once or burst:
                    log.error("database error: %s", error)
                    raise
                failures += 1
                wait = min(MAX_IDLE_BACKOFF_S, self.poll_s * 2**failures)
                log.warning("database error (trying again in %.0f s): %s", wait, error)
                self.stopping.wait(wait)
                continue
            failures = 0
            if job is None:
                if once or burst:
                    return
                self.stopping.wait(self.poll_s)
                continue
            self.execute(job, worker_id)
            if once:
                return

    def _periodic(self) -> None:
        """Queue the due periodic jobs and prune old ones, at most every few seconds."""
        if not self.schedule_jobs:
            return
        with self._lock:
            now = time.monotonic()
            if now < self._next_schedule:
                return
            self._next_schedule = now + SCHEDULE_CHECK_S
            prune = now >= self._next_prune
            if prune:
                self._next_prune = now + PRUNE_EVERY_S
        for job in schedule.enqueue_due(self.context):
            log.info("queued job %d %s (periodic)", job.id, job.kind)
        if prune:
            moment = utcnow()
            with self.context.engine.begin() as conn:
                removed = job_store.prune(
                    conn, done_before=moment - KEEP_DONE, failed_before=moment - KEEP_FAILED
                )
            if removed:
                log.info("pruned %d finished jobs", removed)

    # --- one job -------------------------------------------------------------------------

    def execute(self, job: Job, worker_id: str) -> None:
        """Run a claimed job and record how it ended; never raises for the job's errors."""
        started = time.monotonic()
        result: dict[str, Any] | None = None
        error: BaseException | None = None
        with Lease(self.context.engine, job, worker_id, self.lease_s, self.stopping) as lease:
            try:
                result = registry.run(
                    self.context, job.kind, dict(job.args), lease.beat, self.job_kinds
                )
            except (JobInterrupted, LeaseLost, Exception) as caught:
                error = caught
        seconds = time.monotonic() - started
        try:
            if error is None:
                self._done(job, worker_id, result or {}, seconds)
            elif isinstance(error, JobInterrupted):
                self._interrupted(job, worker_id, seconds)
            elif isinstance(error, LeaseLost):
                self._count("lost")
                log.warning(
                    "job %d %s: lease lost after %.1f s; another worker has taken it over",
                    job.id,
                    job.kind,
                    seconds,
                )
            else:
                self._failed(job, worker_id, error, seconds)
        except LeaseLost:
            self._count("lost")
            log.warning("job %d %s: lease lost before its end was recorded", job.id, job.kind)

    def _count(self, outcome: str) -> None:
        with self._lock:
            setattr(self.stats, outcome, getattr(self.stats, outcome) + 1)

    def _done(self, job: Job, worker_id: str, result: dict[str, Any], seconds: float) -> None:
        queue.complete(self.context.engine, job.id, worker_id, result)
        self._count("done")
        log.info("job %d %s done in %.1f s: %s", job.id, job.kind, seconds, summary(result))
        follow = schedule.follow_up(job.kind, result, self.context.settings)
        if follow:
            for added in schedule.enqueue_planned(self.context, follow):
                log.info("queued job %d %s (after job %d)", added.id, added.kind, job.id)

    def _interrupted(self, job: Job, worker_id: str, seconds: float) -> None:
        if not queue.release(self.context.engine, job.id, worker_id):
            raise LeaseLost(f"job {job.id}: {worker_id} no longer holds it")
        self._count("interrupted")
        source = self.job_kinds[job.kind].source if job.kind in self.job_kinds else None
        if source is not None:  # the sync's run ends here, not "running" until resumed
            with self.context.engine.begin() as conn:
                sync_state.run_finished(conn, source, utcnow(), counts={}, error=INTERRUPTED)
        log.info("job %d %s stopped after %.1f s: handed back", job.id, job.kind, seconds)

    def _failed(self, job: Job, worker_id: str, error: BaseException, seconds: float) -> None:
        expected = isinstance(error, SyncError | UserError)
        message = error.message if isinstance(error, UserError) else str(error)
        if not expected:
            message = f"{type(error).__name__}: {message}"
        stored = queue.fail(
            self.context.engine,
            job,
            worker_id,
            message or type(error).__name__,
            retry=not isinstance(error, BadJobArgs),
        )
        self._count("failed")
        if stored.status == job_store.QUEUED:
            wait = (stored.run_after - utcnow()).total_seconds()
            outcome = f"attempt {stored.attempts} of {stored.max_attempts}, retry in {wait:.0f} s"
        else:
            outcome = f"attempt {stored.attempts} of {stored.max_attempts}, not retried"
        log.error(
            "job %d %s failed in %.1f s (%s): %s",
            job.id,
            job.kind,
            seconds,
            outcome,
            message,
            exc_info=None if expected else error,
        )


def summary(result: Mapping[str, Any]) -> str:
    """A job's result in a few words: its non-zero counts and its note."""
    parts = [
        f"{name} {value}"
        for name, value in result.items()
        if isinstance(value, int) and not isinstance(value, bool) and value
    ]
    for name in ("note", "skipped", "semantic_skipped"):
        if isinstance(result.get(name), str) and result[name]:
            parts.append(str(result[name]))
    return ", ".join(parts) or "nothing to do"
