"""PostgreSQL text cannot hold NUL: strings are sent with U+FFFD in its place.

SQLite stores any string. PostgreSQL refuses a NUL character in text (psycopg raises
DataError), so a NUL typed into any field (a search filter, a log-in name, a comment)
would be a server error on PostgreSQL and an ordinary miss or write on SQLite. These
dumpers send U+FFFD instead, as an HTML parser shows NUL: a lookup finds what a lookup
of the same text finds (the same replacement was stored), and nothing fails. Importers
already store U+FFFD on both backends (ingest/values.py, ingest/text.py).
"""

from __future__ import annotations

from typing import Any

from psycopg.adapt import Buffer
from psycopg.types.string import StrBinaryDumper, StrDumperUnknown

from paperwire.ingest.text import without_nul


class NulSafeStrDumper(StrDumperUnknown):
    """psycopg's default text-format dumper for ``str``, NUL replaced."""

    def dump(self, obj: str) -> Buffer | None:
        return super().dump(without_nul(obj))


class NulSafeStrBinaryDumper(StrBinaryDumper):
    """psycopg's default binary-format dumper for ``str``, NUL replaced."""

    def dump(self, obj: str) -> Buffer | None:
        return super().dump(without_nul(obj))


def register(dbapi_connection: Any) -> None:
    """Use the dumpers above for every ``str`` sent on this psycopg connection."""
    # The last one registered also serves ``%s`` (format chosen by psycopg): text, with
    # the unknown type, as by default, so that PostgreSQL infers each parameter's type.
    dbapi_connection.adapters.register_dumper(str, NulSafeStrBinaryDumper)
    dbapi_connection.adapters.register_dumper(str, NulSafeStrDumper)
