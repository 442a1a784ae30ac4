"""``paperwire worker`` and ``paperwire jobs list|enqueue``: the job queue from the shell."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
from datetime import timedelta
from types import FrameType
from typing import Any

import click

from paperwire.cli_support import open_context
from paperwire.clock import utcnow
from paperwire.errors import UserError
from paperwire.jobs import queue
from paperwire.jobs.registry import KINDS, normalize_args
from paperwire.jobs.worker import Worker, summary
from paperwire.store import jobs as job_store

log = logging.getLogger("paperwire.worker")


def _log_to_stderr() -> None:
    """One line per event on stderr; only paperwire's loggers (httpx logs each request)."""
    logger = logging.getLogger("paperwire")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def _on_signals(worker: Worker) -> None:
    """First SIGTERM/SIGINT: stop cleanly (the running job is handed back at its next
    checkpoint). A second: quit at once; the job's lease lapses and another worker (or
    this one, restarted) takes it over."""

    def handle(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if worker.stopping.is_set():
            log.warning("%s again: quitting now; the running job's lease will lapse", name)
            os._exit(128 + signum)
        log.info("%s: stopping after handing back the running job (again to quit now)", name)
        worker.stop()

    signal.signal(signal.SIGTERM, handle)
    # A shell starts background commands with SIGINT ignored (`make run` does, and sends
    # SIGTERM itself on Ctrl-C): keep it ignored, as Python does, or Ctrl-C would count
    # as a second signal and skip the clean stop.
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, handle)


@click.command("worker")
@click.option("--once", is_flag=True, help="Run at most one job, then exit.")
@click.option("--burst", is_flag=True, help="Run jobs until none is due, then exit (cron, tests).")
@click.option(
    "--concurrency", type=click.IntRange(1, 16), default=1, show_default=True, help="Jobs at once."
)
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(sorted(KINDS)),
    help="Only run jobs of this kind (repeatable; default: every kind).",
)
@click.option(
    "--schedule/--no-schedule",
    default=True,
    show_default=True,
    help="Queue the periodic syncs and index runs when due (or leave that to other "
    "workers and only run queued jobs).",
)
@click.option(
    "--lease",
    "lease_s",
    type=click.FloatRange(min=1),
    help="Seconds a job stays claimed without a heartbeat (default: PAPERWIRE_WORKER_LEASE_S).",
)
@click.option(
    "--poll",
    "poll_s",
    type=click.FloatRange(min=0.05),
    default=2.0,
    show_default=True,
    help="Seconds between looks at an empty queue.",
)
@click.pass_context
def worker(
    ctx: click.Context,
    once: bool,
    burst: bool,
    concurrency: int,
    kinds: tuple[str, ...],
    schedule: bool,
    lease_s: float | None,
    poll_s: float,
) -> None:
    """Run the job queue: periodic syncs of the followed sources, indexing, queued jobs.

    Several workers (on several machines) may share one database: each job runs once.
    SIGTERM or Ctrl-C stops it cleanly; a killed worker's job is taken over when its
    lease lapses, and resumes where it stopped.
    """
    _log_to_stderr()
    context = open_context(ctx)
    try:
        runner = Worker(
            context,
            lease_s=lease_s,
            poll_s=poll_s,
            schedule_jobs=schedule,
            kinds=kinds or None,
        )
    except UserError as error:
        raise click.ClickException(error.message) from error
    _on_signals(runner)
    settings = context.settings
    log.info(
        "worker %s started: sources %s every %d min, index every %d min, lease %.0f s",
        runner.worker_id,
        (",".join(settings.followed_sources) or "none") if schedule else "not scheduled",
        settings.sync_every_minutes,
        settings.index_every_minutes,
        runner.lease_s,
    )
    stats = runner.run(once=once, burst=burst, concurrency=concurrency)
    log.info(
        "worker %s stopped: %d jobs done, %d failed, %d handed back, %d lost",
        runner.worker_id,
        stats.done,
        stats.failed,
        stats.interrupted,
        stats.lost,
    )


@click.group("jobs")
def jobs() -> None:
    """Look at the job queue, or queue a job by hand."""


def _when(job: job_store.Job) -> str:
    moment = job.finished_at or job.started_at or job.created_at
    return f"{moment:%Y-%m-%d %H:%M:%S}"


def _outcome(job: job_store.Job) -> str:
    if job.status == job_store.DONE:
        return summary(job.result or {})
    if job.status == job_store.RUNNING:
        return f"by {job.locked_by} until {job.locked_until:%H:%M:%S}" if job.locked_until else ""
    if job.status == job_store.QUEUED and job.run_after > utcnow():
        due = f"due {job.run_after:%H:%M:%S}"
        return f"{due}; last error: {job.last_error}" if job.last_error else due
    return job.last_error or ""


def job_json(job: job_store.Job) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in job.__slots__:
        value = getattr(job, name)
        values[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return values


@jobs.command("list")
@click.option("--status", type=click.Choice(job_store.STATUSES), help="Only jobs in this state.")
@click.option("--kind", type=click.Choice(sorted(KINDS)), help="Only jobs of this kind.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=30, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def jobs_list(
    ctx: click.Context, status: str | None, kind: str | None, limit: int, as_json: bool
) -> None:
    """The most recent jobs, newest first."""
    context = open_context(ctx)
    with context.engine.connect() as conn:
        found = job_store.recent(conn, status=status, kind=kind, limit=limit)
        counts = job_store.count_by_status(conn)
    if as_json:
        click.echo(json.dumps([job_json(job) for job in found], indent=2))
        return
    click.echo(", ".join(f"{counts.get(s, 0)} {s}" for s in job_store.STATUSES))
    for job in found:
        args = " ".join(f"{k}={v}" for k, v in job.args.items())
        click.echo(
            f"{job.id:>6} {job.kind:<10} {job.status:<7} {job.attempts}/{job.max_attempts} "
            f"{_when(job)} {args}  {_outcome(job)}".rstrip()
        )


def _parse_arg(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise click.BadParameter(f"{text!r}: use NAME=VALUE, e.g. day=2025-10-06")
    return name.strip(), value.strip()


@jobs.command("enqueue")
@click.argument("kind", type=click.Choice(sorted(KINDS)))
@click.option("--arg", "args", multiple=True, metavar="NAME=VALUE", help="A job argument.")
@click.option("--unique-key", help="Do not queue it if a queued or running job holds this key.")
@click.option("--max-attempts", type=click.IntRange(1, 1000), default=5, show_default=True)
@click.option("--delay", type=click.FloatRange(min=0), default=0, help="Seconds before it is due.")
@click.pass_context
def jobs_enqueue(
    ctx: click.Context,
    kind: str,
    args: tuple[str, ...],
    unique_key: str | None,
    max_attempts: int,
    delay: float,
) -> None:
    """Queue a job of KIND for the worker, e.g. ``jobs enqueue sync_hf --arg day=2025-10-06``."""
    context = open_context(ctx)
    raw: dict[str, Any] = {}
    for text in args:
        name, value = _parse_arg(text)
        raw[name] = value
    try:
        checked = normalize_args(kind, raw)
    except UserError as error:
        raise click.ClickException(error.message) from error
    now = utcnow()
    with context.engine.begin() as conn:
        job, added = queue.enqueue_once(
            conn,
            kind,
            checked,
            unique_key=unique_key,
            run_after=now + timedelta(seconds=delay),
            max_attempts=max_attempts,
            now=now,
        )
    if added:
        click.echo(f"queued job {job.id} {kind}")
    else:
        click.echo(f"job {job.id} ({job.status}) already holds {unique_key!r}; nothing queued")
