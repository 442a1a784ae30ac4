"""What the admin page and every page's footer say about syncing, and "Sync now".

Read-only views over ``sync_sources`` (each source's last run and cursor), the ``jobs``
queue (counts and the latest jobs, read directly: the queue's own code belongs to the
worker) and the search indexes' backlog; plus :func:`enqueue_sync`, the one write, which
puts a sync job on the queue for the worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select, update
from sqlalchemy.exc import SQLAlchemyError

from paperwire.clock import as_utc, utcnow
from paperwire.config import Settings
from paperwire.errors import NotFound
from paperwire.jobs.schedule import unique_key
from paperwire.search import indexer
from paperwire.store import sync_state
from paperwire.store.schema import jobs
from paperwire.store.sql import insert_ignoring_conflicts
from paperwire.store.sync_state import SourceState
from paperwire.sync.hf import MAX_CATCH_UP_DAYS

SOURCE_NAMES = ("arxiv", "oai", "hf")
LABELS = {"arxiv": "arXiv", "oai": "arXiv OAI-PMH", "hf": "Hugging Face"}
JOB_KINDS = {"arxiv": "sync_arxiv", "oai": "sync_oai", "hf": "sync_hf"}
JOB_STATUSES = ("queued", "running", "done", "failed")
RECENT_JOBS = 20


def utc_text(value: datetime) -> str:
    """An absolute time ("26 Nov 2026 13:05 UTC"): cached pages never go stale saying it."""
    return value.strftime("%-d %b %Y %H:%M UTC")


def label(name: str) -> str:
    return LABELS.get(name, name)


def check_source(name: str) -> str:
    if name not in SOURCE_NAMES:
        raise NotFound(f"There is no sync source {name[:100]!r}: the sources are arxiv, oai, hf.")
    return name


# --- sources ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SourceStatus:
    name: str
    label: str
    followed: bool
    config: dict[str, Any]  # what the operator configured (PAPERWIRE_* settings)
    schedule: str  # in words
    schedule_minutes: int | None  # None: the worker does not sync it on its own
    state: SourceState  # times in aware UTC
    cursor_text: str


def source_config(settings: Settings, name: str) -> dict[str, Any]:
    if name == "arxiv":
        return {
            "url": settings.arxiv_api_url,
            "categories": settings.arxiv_categories,
            "firstRunDays": settings.sync_arxiv_since_days,
            "requestIntervalS": settings.arxiv_request_interval_s,
        }
    if name == "oai":
        return {
            "url": settings.arxiv_oai_url,
            "set": settings.sync_oai_set,
            "requestIntervalS": settings.arxiv_request_interval_s,
        }
    return {
        "url": settings.hf_api_url,
        "catchUpDays": MAX_CATCH_UP_DAYS,
        "requestIntervalS": settings.hf_request_interval_s,
    }


def _schedule(settings: Settings, followed: bool) -> tuple[str, int | None]:
    if not followed:
        return "not followed: synced only when asked", None
    if settings.sync_every_minutes == 0:
        return "followed, but scheduled syncs are off (PAPERWIRE_SYNC_EVERY_MINUTES=0)", None
    minutes = settings.sync_every_minutes
    return f"every {minutes} minute{'s' if minutes != 1 else ''}", minutes


def _utc_state(state: SourceState) -> SourceState:
    """SQLite hands datetimes back naive; they are UTC."""
    return SourceState(
        name=state.name,
        cursor=state.cursor,
        last_started_at=as_utc(state.last_started_at),
        last_finished_at=as_utc(state.last_finished_at),
        last_success_at=as_utc(state.last_success_at),
        last_status=state.last_status,
        last_error=state.last_error,
        last_counts=state.last_counts,
    )


def _never_run(name: str) -> SourceState:
    return SourceState(name, None, None, None, None, None, None, None)


def describe_cursor(cursor: dict[str, Any] | None) -> str:
    """A stored cursor in words; its keys are the sync's own (a day, a token, a time)."""
    if not cursor:
        return "none yet: the next run starts afresh"
    parts = []
    for key, value in cursor.items():
        name = "last day read" if key == "day" else key.replace("_", " ")
        parts.append(f"{name}: {_value_text(value)}")
    return "; ".join(parts)


def _value_text(value: object) -> str:
    if isinstance(value, str):
        try:
            if len(value) == 10:
                return date.fromisoformat(value).strftime("%-d %b %Y")
            moment = as_utc(datetime.fromisoformat(value))
            assert moment is not None
            return utc_text(moment)
        except ValueError:
            return value if len(value) <= 60 else value[:57] + "…"
    if isinstance(value, list | dict):
        text = str(value)
        return text if len(text) <= 60 else text[:57] + "…"
    return str(value)


def sources(conn: Connection, settings: Settings) -> list[SourceStatus]:
    stored = {state.name: state for state in sync_state.all_sources(conn)}
    followed = settings.followed_sources
    found = []
    for name in SOURCE_NAMES:
        state = _utc_state(stored.get(name) or _never_run(name))
        schedule, minutes = _schedule(settings, name in followed)
        found.append(
            SourceStatus(
                name=name,
                label=label(name),
                followed=name in followed,
                config=source_config(settings, name),
                schedule=schedule,
                schedule_minutes=minutes,
                state=state,
                cursor_text=describe_cursor(state.cursor),
            )
        )
    return found


# --- the job queue ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JobRow:
    id: int
    kind: str
    args: dict[str, Any]
    status: str
    attempts: int
    max_attempts: int
    run_after: datetime
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    locked_by: str | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class QueueStatus:
    counts: dict[str, int]  # every status of JOB_STATUSES, and any other found
    recent: list[JobRow]  # newest first


_JOB_COLUMNS = (
    jobs.c.id,
    jobs.c.kind,
    jobs.c.args,
    jobs.c.status,
    jobs.c.attempts,
    jobs.c.max_attempts,
    jobs.c.run_after,
    jobs.c.created_at,
    jobs.c.started_at,
    jobs.c.finished_at,
    jobs.c.locked_by,
    jobs.c.last_error,
)


def _job(row: Any) -> JobRow:
    values = dict(row)
    for name in ("run_after", "created_at", "started_at", "finished_at"):
        values[name] = as_utc(values[name])
    return JobRow(**values)


def queue_status(conn: Connection, limit: int = RECENT_JOBS) -> QueueStatus:
    counts = dict.fromkeys(JOB_STATUSES, 0)
    for status, count in conn.execute(select(jobs.c.status, func.count()).group_by(jobs.c.status)):
        counts[status] = count
    rows = conn.execute(select(*_JOB_COLUMNS).order_by(jobs.c.id.desc()).limit(limit)).mappings()
    return QueueStatus(counts=counts, recent=[_job(row) for row in rows])


@dataclass(frozen=True, slots=True)
class Enqueued:
    job: JobRow
    created: bool  # False: the source's sync job was already there (now due)


def enqueue_sync(conn: Connection, name: str, now: datetime | None = None) -> Enqueued:
    """Queue a sync of source ``name`` to run now; there is only ever one such job.

    The job takes the schedule's ``unique_key`` for its kind, so "Sync now" and the
    periodic sync share one job: asking twice, or while the scheduled sync waits, queues
    nothing more. The queue holds a key only while its job is queued or running
    (``jobs/queue.py`` clears it when the job ends). A queued job due later is brought
    forward to now; a running one is left alone: it is syncing already.
    """
    kind = JOB_KINDS[check_source(name)]
    key = unique_key(kind)
    now = now or utcnow()
    for _ in range(3):
        inserted = conn.execute(
            insert_ignoring_conflicts(conn, jobs).values(
                kind=kind,
                args={},
                status="queued",
                unique_key=key,
                run_after=now,
                created_at=now,
            )
        ).rowcount
        mine = jobs.c.unique_key == key
        if not inserted:
            conn.execute(
                update(jobs)
                .where(mine, jobs.c.status == "queued", jobs.c.run_after > now)
                .values(run_after=now)
            )
        row = conn.execute(select(*_JOB_COLUMNS).where(mine)).mappings().first()
        if row is not None:
            return Enqueued(job=_job(row), created=bool(inserted))
        # the holder ended (releasing the key) between our insert and this read: again
    raise RuntimeError(f"could not queue {kind}: its unique key keeps changing hands")


# --- the admin page and the footer -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Overview:
    sources: list[SourceStatus]
    queue: QueueStatus
    index_backlog: dict[str, int]  # keyword / embedding queues, embeddings stored


def overview(engine: Engine, settings: Settings) -> Overview:
    with engine.connect() as conn:
        found, queue = sources(conn, settings), queue_status(conn)
    return Overview(sources=found, queue=queue, index_backlog=indexer.pending_counts(engine))


@dataclass(frozen=True, slots=True)
class FooterItem:
    name: str
    label: str
    state: str  # "ok", "failed" (the last run failed) or "never"
    synced_at: datetime | None  # the last successful sync
    failed_at: datetime | None  # when the last run failed

    @property
    def synced_text(self) -> str:
        return utc_text(self.synced_at) if self.synced_at else ""

    @property
    def failed_text(self) -> str:
        return utc_text(self.failed_at) if self.failed_at else ""


def footer_items(conn: Connection, settings: Settings) -> list[FooterItem]:
    """When each followed source last synced: one small query."""
    followed = settings.followed_sources
    stored = {s.name: _utc_state(s) for s in sync_state.all_sources(conn) if s.name in followed}
    items = []
    for name in followed:
        state = stored.get(name)
        synced = state.last_success_at if state else None
        if state is not None and state.last_status == "error":
            items.append(FooterItem(name, label(name), "failed", synced, state.last_finished_at))
        else:
            items.append(FooterItem(name, label(name), "ok" if synced else "never", synced, None))
    return items


def footer_items_or_none(engine: Engine, settings: Settings) -> list[FooterItem]:
    """For templates: the footer must never take a page (an error page even) down."""
    try:
        with engine.connect() as conn:
            return footer_items(conn, settings)
    except SQLAlchemyError:
        return []
