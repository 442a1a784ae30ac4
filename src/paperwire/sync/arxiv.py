"""arXiv Atom API sync by category (being written)."""

from __future__ import annotations

from datetime import timedelta

from paperwire.context import Context
from paperwire.sync.report import Heartbeat, SyncReport, no_heartbeat


def sync_arxiv(
    context: Context,
    *,
    categories: list[str],
    since: timedelta | None = None,
    heartbeat: Heartbeat = no_heartbeat,
) -> SyncReport:
    raise NotImplementedError
