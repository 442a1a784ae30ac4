"""Hugging Face daily-papers sync (being written)."""

from __future__ import annotations

from datetime import date

from paperwire.context import Context
from paperwire.sync.report import Heartbeat, SyncReport, no_heartbeat


def sync_hf(
    context: Context, *, day: date | None = None, heartbeat: Heartbeat = no_heartbeat
) -> SyncReport:
    raise NotImplementedError
