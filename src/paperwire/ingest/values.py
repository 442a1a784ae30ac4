"""Typed access to loosely typed source values (decoded JSON, XML text) and their dates.

Sources are not trusted: a field can be missing, ``null``, or of the wrong type. The
helpers here raise :class:`BadRecord` naming the field, which every parser turns into
a :class:`~paperwire.models.RecordError` for that one record; nothing else in a parser
needs to check types.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from email.utils import parsedate_to_datetime
from pathlib import PurePath

from paperwire.ingest.text import without_nul

__all__ = [
    "BadRecord",
    "date_in_name",
    "get_int",
    "get_mapping",
    "get_str",
    "get_str_list",
    "midnight_utc",
    "opt_str",
    "parse_iso_datetime",
    "parse_rfc2822",
    "version_number",
]

Obj = Mapping[str, object]


class BadRecord(ValueError):
    """One record cannot be used; the message names the field and what is wrong."""


def _type_name(value: object) -> str:
    return "null" if value is None else type(value).__name__


def get_str(obj: Obj, key: str, where: str = "") -> str:
    """A required string field, non-empty once stripped."""
    value = obj.get(key)
    if value is None:
        raise BadRecord(f"{where}{key}: missing")
    if not isinstance(value, str):
        raise BadRecord(f"{where}{key}: expected a string, got {_type_name(value)}")
    if not value.strip():
        raise BadRecord(f"{where}{key}: empty")
    return without_nul(value)


def opt_str(obj: Obj, key: str, where: str = "") -> str | None:
    """An optional string field, stripped; missing, null and blank all give None."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRecord(f"{where}{key}: expected a string, got {_type_name(value)}")
    return without_nul(value.strip()) or None


def get_str_list(obj: Obj, key: str, where: str = "", required: bool = True) -> list[str]:
    """A list of strings (blank entries dropped); missing gives [] unless required."""
    value = obj.get(key)
    if value is None:
        if required:
            raise BadRecord(f"{where}{key}: missing")
        return []
    if not isinstance(value, list):
        raise BadRecord(f"{where}{key}: expected a list, got {_type_name(value)}")
    items: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise BadRecord(f"{where}{key}: expected strings, got {_type_name(item)}")
        if item and not item.isspace():
            items.append(without_nul(item))
    return items


def get_int(obj: Obj, key: str, where: str = "", default: int = 0) -> int:
    """An optional non-negative integer field (JSON booleans are not integers)."""
    value = obj.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRecord(f"{where}{key}: expected an integer, got {_type_name(value)}")
    if value < 0:
        raise BadRecord(f"{where}{key}: negative ({value})")
    return value


def get_mapping(obj: Obj, key: str, where: str = "") -> Obj | None:
    """An optional object field."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise BadRecord(f"{where}{key}: expected an object, got {_type_name(value)}")
    return value


def version_number(label: str, where: str = "version") -> int:
    """``"v3"`` -> 3, as arXiv labels versions; BadRecord for anything else."""
    digits = label[1:] if label[:1] in ("v", "V") else ""
    if not (digits.isascii() and digits.isdigit()) or int(digits) < 1:
        raise BadRecord(f"{where}: not a version like v1: {label!r}")
    return int(digits)


def parse_iso_datetime(text: str) -> datetime:
    """An ISO 8601 date or date-time as an aware UTC datetime (naive means UTC).

    A bare date is midnight UTC. Raises ValueError when the text is not ISO 8601.
    """
    text = text.strip()
    if len(text) == 10:
        return midnight_utc(date.fromisoformat(text))
    value = datetime.fromisoformat(text)  # Python 3.11 accepts "Z" and fractions
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_rfc2822(text: str) -> datetime:
    """An e-mail style date (``Mon, 2 Apr 2007 19:18:42 GMT``) as an aware UTC datetime."""
    try:
        value = parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError) as exc:
        raise ValueError(f"not an RFC 2822 date: {text.strip()!r}") from exc
    if value.tzinfo is None:  # "-0000" means UTC with unknown local time
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


_NAME_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")


def date_in_name(path: str) -> date | None:
    """The first valid ``YYYY-MM-DD`` in a file's name (not its folders), if any."""
    for match in _NAME_DATE.finditer(PurePath(path).name):
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            continue
    return None
