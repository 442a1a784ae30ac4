"""How far each source has synced (its cursor) and how its last run went."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from paperwire.store.schema import sync_sources
from paperwire.store.sql import insert_ignoring_conflicts
from paperwire.store.state import bump_content_version


@dataclass(frozen=True, slots=True)
class SourceState:
    name: str
    cursor: dict[str, Any] | None
    last_started_at: datetime | None
    last_finished_at: datetime | None
    last_success_at: datetime | None
    last_status: str | None  # "running", "ok", "error"
    last_error: str | None
    last_counts: dict[str, Any] | None


def _ensure(conn: Connection, name: str) -> None:
    conn.execute(insert_ignoring_conflicts(conn, sync_sources).values(name=name))


def get_source(conn: Connection, name: str) -> SourceState:
    row = conn.execute(select(sync_sources).where(sync_sources.c.name == name)).mappings().first()
    if row is None:
        return SourceState(name, None, None, None, None, None, None, None)
    return SourceState(**dict(row))


def all_sources(conn: Connection) -> list[SourceState]:
    rows = conn.execute(select(sync_sources).order_by(sync_sources.c.name)).mappings()
    return [SourceState(**dict(row)) for row in rows]


def save_cursor(conn: Connection, name: str, cursor: dict[str, Any] | None) -> None:
    """Call in the transaction that stored the page the cursor points past."""
    _ensure(conn, name)
    conn.execute(update(sync_sources).where(sync_sources.c.name == name).values(cursor=cursor))


def run_started(conn: Connection, name: str, now: datetime) -> None:
    _ensure(conn, name)
    conn.execute(
        update(sync_sources)
        .where(sync_sources.c.name == name)
        .values(last_started_at=now, last_status="running")
    )


def run_finished(
    conn: Connection,
    name: str,
    now: datetime,
    *,
    counts: dict[str, Any],
    error: str | None,
) -> None:
    _ensure(conn, name)
    values: dict[str, Any] = {
        "last_finished_at": now,
        "last_status": "error" if error else "ok",
        "last_error": error,
        "last_counts": counts,
    }
    if error is None:
        values["last_success_at"] = now
    conn.execute(update(sync_sources).where(sync_sources.c.name == name).values(values))
    bump_content_version(conn)  # every page's footer says when each source last synced
