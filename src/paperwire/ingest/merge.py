"""How a paper's stored metadata combines with a newly read record (pure).

Rules, chosen so that import order does not matter and a repeated import changes nothing:

- The *newer* statement wins for every field it states: a higher arXiv version when both
  versions are known, otherwise the later ``updated_at`` (or ``submitted_at``). A tie keeps
  what is stored.
- An older statement only fills fields that are still empty (e.g. a Hugging Face record
  adds a thumbnail to a paper first read from an arXiv listing).
- ``submitted_at`` is the earliest date any source gave and ``version`` the highest.
  ``updated_at`` is the latest date any statement carried (its ``updated_at``, else its
  ``submitted_at``), so that the stored row ranks exactly like the newest statement merged
  into it: a second import of the same files finds nothing newer and changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from paperwire.models import PaperRecord

# The metadata fields that follow "newer wins, older fills".
MERGED_FIELDS = (
    "title",
    "abstract",
    "authors",
    "categories",
    "comments",
    "journal_ref",
    "doi",
    "license",
    "url",
    "venue",
    "thumbnail_url",
)


def _effective_date(fields: dict[str, Any]) -> datetime | None:
    value = fields.get("updated_at") or fields.get("submitted_at")
    return value if isinstance(value, datetime) else None


def is_newer(incoming: dict[str, Any], stored: dict[str, Any]) -> bool:
    """Whether ``incoming`` states a later revision of the paper than ``stored``."""
    new_version, old_version = incoming.get("version"), stored.get("version")
    if new_version is not None and old_version is not None and new_version != old_version:
        return bool(new_version > old_version)
    new_date, old_date = _effective_date(incoming), _effective_date(stored)
    if new_date is None or old_date is None:
        return False
    return new_date > old_date


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def record_fields(record: PaperRecord) -> dict[str, Any]:
    """The stored columns a record states (everything but links)."""
    return {
        "id": record.id,
        "source": record.source,
        "version": record.version,
        "title": record.title,
        "abstract": record.abstract,
        "authors": list(record.authors),
        "categories": list(record.categories),
        "submitted_at": record.submitted_at,
        "updated_at": record.updated_at,
        "comments": record.comments,
        "journal_ref": record.journal_ref,
        "doi": record.doi,
        "license": record.license,
        "url": record.url,
        "venue": record.venue,
        "thumbnail_url": record.thumbnail_url,
    }


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return min(a, b) if a is not None and b is not None else a or b


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return max(a, b) if a is not None and b is not None else a or b


def as_stored(incoming: dict[str, Any]) -> dict[str, Any]:
    """The fields to store for a paper seen for the first time (same rules as :func:`merge`)."""
    return {**incoming, "updated_at": _effective_date(incoming)}


def merge(stored: dict[str, Any], incoming: dict[str, Any]) -> dict[str, Any]:
    """The fields to store after reading ``incoming`` for a paper stored as ``stored``."""
    newer = is_newer(incoming, stored)
    merged = dict(stored)
    for name in MERGED_FIELDS:
        new_value = incoming.get(name)
        if _empty(new_value):
            continue
        if newer or _empty(stored.get(name)):
            merged[name] = new_value
    merged["submitted_at"] = _earliest(stored.get("submitted_at"), incoming.get("submitted_at"))
    merged["updated_at"] = _latest(_effective_date(stored), _effective_date(incoming))
    versions = [v for v in (stored.get("version"), incoming.get("version")) if v is not None]
    merged["version"] = max(versions) if versions else None
    return merged
