"""Which periodic jobs are due: a sync of each followed source, and the index job.

The decision (:func:`due_jobs`) is pure: it takes the settings and the times of the last
runs and says what to queue. :func:`enqueue_due` reads those times from the store
(``sync_sources`` for the syncs, the newest ``index`` job for the index) and queues the
due jobs under a ``unique_key`` per kind, so several workers looking at the same moment
queue one job, not several. (A worker that read the times just before another's job
finished can still queue one extra run; every sync is idempotent and resumes from its
cursor, so that costs a few polite requests, never data.)

A ``sync_hf`` job without a day reads today's list again each time, because Hugging
Face's list for a day grows during that day (and the days missed since the last run).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from paperwire.clock import as_utc, utcnow
from paperwire.config import Settings
from paperwire.context import Context
from paperwire.errors import UserError
from paperwire.jobs import queue
from paperwire.store import jobs as job_store
from paperwire.store import outbox as outbox_store
from paperwire.store import search_state, sync_state
from paperwire.store.schema import embedding_queue, keyword_queue

SOURCE_KINDS = {"arxiv": "sync_arxiv", "oai": "sync_oai", "hf": "sync_hf"}
INDEX = "index"
SEND_DIGESTS = "send_digests"
# The job only looks: each subscriber's own hour decides whether their digest is due, so
# a short interval means digests go out within minutes of that hour.
DIGEST_EVERY = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class PlannedJob:
    kind: str
    unique_key: str
    args: dict[str, Any] = field(default_factory=dict)
    reason: str = ""


def unique_key(kind: str) -> str:
    """One key per periodic kind: at most one of each is queued or running at a time."""
    return f"schedule:{kind}"


def check_sources(sources: Sequence[str]) -> None:
    """Refuse a followed source paperwire does not know (a typo in the settings)."""
    unknown = [name for name in sources if name not in SOURCE_KINDS]
    if unknown:
        raise UserError(
            f"PAPERWIRE_SYNC_SOURCES names unknown source {unknown[0]!r} "
            f"(known: {', '.join(SOURCE_KINDS)})"
        )


def _every(minutes: int) -> timedelta | None:
    return timedelta(minutes=minutes) if minutes > 0 else None


def _is_due(now: datetime, last: datetime | None, every: timedelta) -> bool:
    return last is None or now - last >= every


def due_jobs(
    *,
    now: datetime,
    sources: Sequence[str],
    sync_every: timedelta | None,
    last_sync: Mapping[str, datetime | None],
    index_every: timedelta | None,
    last_index: datetime | None,
    index_has_work: bool,
    digest_every: timedelta | None = None,
    last_digest: datetime | None = None,
    digest_has_work: bool = False,
) -> list[PlannedJob]:
    """The periodic jobs due at ``now``.

    A source is due when it has never run or its last run started ``sync_every`` ago
    (a run by hand, ``paperwire sync ...``, counts too). The index is due every
    ``index_every`` when there is something to index. Digests are looked at every
    ``digest_every`` while there are active subscriptions or unsent messages. ``None``
    intervals mean never.
    """
    check_sources(sources)
    planned: list[PlannedJob] = []
    if sync_every is not None:
        for source in dict.fromkeys(sources):
            last = last_sync.get(source)
            if _is_due(now, last, sync_every):
                kind = SOURCE_KINDS[source]
                reason = "never synced" if last is None else f"last sync started {last:%H:%M}"
                planned.append(PlannedJob(kind, unique_key(kind), reason=reason))
    if index_every is not None and index_has_work and _is_due(now, last_index, index_every):
        planned.append(PlannedJob(INDEX, unique_key(INDEX), reason="papers wait for the index"))
    if digest_every is not None and digest_has_work and _is_due(now, last_digest, digest_every):
        planned.append(
            PlannedJob(SEND_DIGESTS, unique_key(SEND_DIGESTS), reason="digests may be due")
        )
    return planned


def follow_up(kind: str, result: Mapping[str, Any] | None, settings: Settings) -> list[PlannedJob]:
    """Jobs to queue right after one finished: a sync that brought new or changed papers
    is followed by the index job, so they become searchable (also by meaning) at once."""
    if kind not in SOURCE_KINDS.values() or settings.index_every_minutes <= 0 or not result:
        return []
    changed = int(result.get("inserted") or 0) + int(result.get("updated") or 0)
    if changed <= 0:
        return []
    return [PlannedJob(INDEX, unique_key(INDEX), reason=f"{kind} changed {changed} papers")]


# --- reading the store --------------------------------------------------------------------


def index_has_work(context: Context, conn: Connection) -> bool:
    """Papers wait for the keyword index, for embeddings, or for the vector index."""
    if search_state.count_pending(conn, keyword_queue):
        return True
    if not context.settings.semantic:
        return False
    if search_state.count_pending(conn, embedding_queue):
        return True
    meta = context.search.vector_meta()
    written = search_state.embedding_seq(conn)
    return written > (meta.seq if meta is not None else 0)


def plan(context: Context, now: datetime | None = None) -> list[PlannedJob]:
    """:func:`due_jobs` for the settings and the store as they are now."""
    settings = context.settings
    now = now or utcnow()
    with context.engine.connect() as conn:
        sources = {state.name: state for state in sync_state.all_sources(conn)}
        last_sync = {name: as_utc(state.last_started_at) for name, state in sources.items()}
        last = job_store.last_of_kind(conn, INDEX)
        has_work = index_has_work(context, conn) if settings.index_every_minutes > 0 else False
        last_send = job_store.last_of_kind(conn, SEND_DIGESTS)
        digests_waiting = outbox_store.has_work(conn)
    return due_jobs(
        now=now,
        sources=settings.followed_sources,
        sync_every=_every(settings.sync_every_minutes),
        last_sync=last_sync,
        index_every=_every(settings.index_every_minutes),
        last_index=last.created_at if last is not None else None,
        index_has_work=has_work,
        digest_every=DIGEST_EVERY,
        last_digest=last_send.created_at if last_send is not None else None,
        digest_has_work=digests_waiting,
    )


def enqueue_planned(
    context: Context, planned: Sequence[PlannedJob], now: datetime | None = None
) -> list[queue.Job]:
    """Queue planned jobs (each under its unique key); returns the jobs newly queued."""
    added: list[queue.Job] = []
    with context.engine.begin() as conn:
        for item in planned:
            job, new = queue.enqueue_once(
                conn, item.kind, item.args, unique_key=item.unique_key, now=now
            )
            if new:
                added.append(job)
    return added


def enqueue_due(context: Context, now: datetime | None = None) -> list[queue.Job]:
    """Queue every periodic job due now; returns the jobs this call added."""
    return enqueue_planned(context, plan(context, now), now)
