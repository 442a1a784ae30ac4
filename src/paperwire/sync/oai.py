"""arXiv OAI-PMH harvest (being written)."""

from __future__ import annotations

from datetime import date

from paperwire.context import Context
from paperwire.sync.report import Heartbeat, SyncReport, no_heartbeat


def harvest(
    context: Context,
    *,
    set_spec: str,
    from_: date | None = None,
    until: date | None = None,
    heartbeat: Heartbeat = no_heartbeat,
) -> SyncReport:
    raise NotImplementedError
