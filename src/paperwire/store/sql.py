"""Small portable SQL helpers shared by the store modules."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert


def insert_ignoring_conflicts(conn: Connection, table: Table) -> Insert:
    """``INSERT ... ON CONFLICT DO NOTHING`` in the connection's dialect.

    Callers read ``rowcount`` (1: inserted, 0: it was there). On PostgreSQL, SQLAlchemy
    adds ``RETURNING`` to single-row inserts and then reports -1 unless asked to keep
    the count (found running the suite against PostgreSQL 18 with psycopg 3).
    """
    if conn.dialect.name == "postgresql":
        return (
            postgresql.insert(table)
            .on_conflict_do_nothing()
            .execution_options(preserve_rowcount=True)
        )
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    raise NotImplementedError(f"unsupported database dialect: {conn.dialect.name}")


def chunks(items: list[Any], size: int) -> list[list[Any]]:
    """Split a list so that ``IN (...)`` lists stay under every backend's parameter limit."""
    return [items[i : i + size] for i in range(0, len(items), size)]
