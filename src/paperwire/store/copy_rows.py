"""Moving rows between databases for ``paperwire db copy`` (store/copy.py): a snapshot to
read from, each table's rows streamed in batches, written with the fastest bulk path of
the target, and PostgreSQL's sequences moved past the copied ids."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    DateTime,
    Engine,
    Integer,
    Table,
    func,
    insert,
    null,
    select,
    text,
)
from sqlalchemy.sql.expression import TableClause

from paperwire.clock import as_utc

Row = dict[str, Any]  # column key -> value, ready to insert with SQLAlchemy
Advance = Callable[[int], None]


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection whose every read sees the database as of its first one."""
    if engine.dialect.name == "postgresql":
        options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
        with engine.connect().execution_options(**options) as conn, conn.begin():
            yield conn
        return
    with engine.connect() as conn:
        # pysqlite only opens a transaction before writes; ask for one so that every
        # SELECT reads the same WAL snapshot. Closing the connection rolls it back.
        conn.exec_driver_sql("BEGIN")
        yield conn


def count(conn: Connection, rows: TableClause) -> int:
    return int(conn.execute(select(func.count()).select_from(rows)).scalar_one())


def _is_aware_datetime(column: Column[Any]) -> bool:
    return isinstance(column.type, DateTime) and bool(column.type.timezone)


def read_batches(read: Connection, table: Table, batch_rows: int) -> Iterator[list[Row]]:
    """The table's rows in primary-key order, ``batch_rows`` at a time (a server-side
    cursor on PostgreSQL, SQLite's own stepping: memory stays flat)."""
    columns = list(table.columns)
    # JSON's ``null`` and SQL's NULL both read as None: ask the database which it is, and
    # write SQL NULL as null() (None would be written as JSON's null).
    nullable_json = [i for i, c in enumerate(columns) if isinstance(c.type, JSON) and c.nullable]
    probes = [columns[i].is_(None) for i in nullable_json]
    aware = [i for i, c in enumerate(columns) if _is_aware_datetime(c)]
    keys = [c.key for c in columns]
    query = select(*columns, *probes).order_by(*table.primary_key.columns)
    result = read.execution_options(yield_per=batch_rows).execute(query)
    for part in result.partitions():
        batch = []
        for row in part:
            values = list(row[: len(columns)])
            for probe, i in enumerate(nullable_json):
                if row[len(columns) + probe]:
                    values[i] = null()
            for i in aware:
                # SQLite hands back naive UTC, PostgreSQL its session's time zone: write
                # the instant, whatever the target session's zone.
                values[i] = as_utc(values[i])
            batch.append(dict(zip(keys, values, strict=True)))
        yield batch


def write_batches(
    write: Connection, table: Table, batches: Iterable[list[Row]], advance: Advance
) -> None:
    """Insert every batch: PostgreSQL's COPY (several times faster than INSERTs for
    millions of rows), elsewhere executemany. Only the table's metadata columns are
    named, so columns that exist only in the target keep their defaults."""
    if write.dialect.name == "postgresql":
        _copy_into_postgresql(write, table, batches, advance)
        return
    statement = insert(table)
    for batch in batches:
        if batch:
            write.execute(statement, batch)
        advance(len(batch))


def _copy_into_postgresql(
    write: Connection, table: Table, batches: Iterable[list[Row]], advance: Advance
) -> None:
    dialect = write.dialect
    columns = list(table.columns)
    # The values SQLAlchemy would bind (JSON wrapped for psycopg, null() as None...), so
    # COPY stores exactly what an INSERT would.
    processors = [c.type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(c.name) for c in columns)
    cursor = write.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy:
            for batch in batches:
                for row in batch:
                    copy.write_row(
                        [
                            value if process is None else process(value)
                            for process, value in zip(processors, row.values(), strict=True)
                        ]
                    )
                advance(len(batch))
    finally:
        cursor.close()


def advance_sequences(write: Connection, tables: Iterable[Table]) -> None:
    """On PostgreSQL, start every serial column's sequence past the largest copied value,
    so that new rows do not collide with copied ids. (SQLite's rowid ids continue from
    the largest one by themselves.)"""
    if write.dialect.name != "postgresql":
        return
    for table in tables:
        for column in table.columns:
            if not isinstance(column.type, Integer):
                continue
            sequence = write.execute(
                text("SELECT pg_get_serial_sequence(:table, :column)"),
                {"table": table.name, "column": column.name},
            ).scalar_one()
            if sequence is None:
                continue
            largest = write.execute(select(func.max(column))).scalar_one()
            # is_called=false: the next nextval() returns exactly this value
            write.execute(
                text("SELECT setval(:sequence, :value, false)"),
                {"sequence": sequence, "value": (largest or 0) + 1},
            )


def analyze(engine: Engine, tables: Iterable[Table]) -> None:
    """Fresh planner statistics on PostgreSQL (autovacuum would get there, later)."""
    if engine.dialect.name != "postgresql":
        return
    names = ", ".join(engine.dialect.identifier_preparer.quote(t.name) for t in tables)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"ANALYZE {names}"))
