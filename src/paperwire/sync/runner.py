"""Run one sync and record it in ``sync_sources``: what the CLI and the worker call."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from paperwire.context import Context
from paperwire.errors import UserError
from paperwire.store import sync_state
from paperwire.sync.report import SyncError, SyncReport


def run_sync(context: Context, source: str, sync: Callable[[], SyncReport]) -> SyncReport:
    """Mark the run started, run ``sync``, record its counts or its error, return it.

    A :class:`SyncError` (or an upstream :class:`UserError`) is recorded as the source's
    last error and raised again, so that the CLI exits 1 and the worker retries later.
    """
    with context.engine.begin() as conn:
        sync_state.run_started(conn, source, datetime.now(UTC))
    try:
        report = sync()
    except (SyncError, UserError) as error:
        message = error.message if isinstance(error, UserError) else str(error)
        with context.engine.begin() as conn:
            sync_state.run_finished(
                conn, source, datetime.now(UTC), counts={}, error=message[:2000]
            )
        raise
    except Exception as error:  # a bug: still recorded, never left "running"
        with context.engine.begin() as conn:
            sync_state.run_finished(
                conn,
                source,
                datetime.now(UTC),
                counts={},
                error=f"internal error: {error!r}"[:2000],
            )
        raise
    with context.engine.begin() as conn:
        sync_state.run_finished(conn, source, datetime.now(UTC), counts=report.counts(), error=None)
    return report
