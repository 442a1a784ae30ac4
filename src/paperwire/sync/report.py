"""What one sync run did, and the errors a sync can end with."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

# Called by a long sync after each committed page: the worker extends its job's lease
# (and raises LeaseLost when another worker took the job over). The CLI passes a no-op.
Heartbeat = Callable[[], None]


def no_heartbeat() -> None:
    return None


class SyncError(Exception):
    """A sync that could not go on: the source is down, unreachable or answers garbage.

    The message is for the operator ("arXiv OAI-PMH: connection refused by ..."); what
    was committed before it stays, and the next run resumes from the stored cursor.
    """


@dataclass(slots=True)
class SyncReport:
    source: str  # "arxiv", "oai", "hf"
    pages: int = 0  # responses read
    fetched: int = 0  # records in them
    inserted: int = 0  # papers new to the database
    updated: int = 0  # papers whose stored metadata changed (e.g. a newer version)
    unchanged: int = 0
    featured: int = 0  # feed entries added or changed (HF days)
    skipped: int = 0  # records that could not be read (reported in errors)
    errors: list[str] = field(default_factory=list)  # per record, "where: what"
    complete: bool = True  # False: stopped early; the next run resumes from the cursor
    note: str = ""  # e.g. "stopped: a page brought nothing new"

    def counts(self) -> dict[str, Any]:
        values = asdict(self)
        values["errors"] = len(self.errors)
        return values
