"""Copy every row of one paperwire database into another (``paperwire db copy``).

Made to move a running deployment (typically SQLite) to PostgreSQL, but generic: any
supported URL to any other. The rules that make it safe to run against a live site and
to simply run again after a failure:

- the source must be at the migration head (the same schema as this code), and is read in
  one read transaction: a consistent snapshot while the site keeps writing (SQLite's WAL
  lets readers and the writer run side by side; PostgreSQL reads in REPEATABLE READ);
- the target is upgraded to the head, must hold no data, and receives everything in ONE
  transaction: a failure (or Ctrl-C) leaves it as empty as it was;
- tables go in foreign-key order, streamed in batches (memory stays flat for millions of
  papers), rows in primary-key order (a reply's parent comment has a smaller id);
- only the columns of ``schema.metadata`` are written: columns or tables that exist only
  in the target (PostgreSQL's search tables) are left to their defaults and to
  ``paperwire index``, which rebuilds those derived indexes from the copied store;
- row counts are compared table by table before committing (a mismatch rolls back) and
  again, as committed, for the report.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic.util import CommandError
from sqlalchemy import (
    Connection,
    Engine,
    Table,
    delete,
    inspect,
    text,
)
from sqlalchemy import (
    table as table_named,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from paperwire.config import Settings
from paperwire.store import copy_rows as rows
from paperwire.store import migrate
from paperwire.store.copy_rows import Advance
from paperwire.store.db import make_engine
from paperwire.store.schema import metadata, site_state
from paperwire.store.search_state import INSTANCE_ID

BATCH_ROWS = 2000

SUPPORTED = "sqlite:///PATH or postgresql+psycopg://USER@HOST/DATABASE"

# Tables the migrations fill (0002 and 0003 seed site_state's counters): a freshly
# migrated target holds these rows, which the source's replace. Nothing else is seeded.
SEEDED_TABLES = frozenset({site_state.name})
# Not data: Alembic's bookkeeping, written by the upgrade of the target itself.
BOOKKEEPING_TABLES = frozenset({"alembic_version"})
# site_state rows the target keeps: its instance id names the database, so search index
# files built for the source are never taken for the target's (they are rebuilt).
TARGET_OWN_STATE = frozenset({INSTANCE_ID})

# ``start(table, rows)`` is called as each table begins and returns ``advance(rows)``.
StartTable = Callable[[str, int], Advance]


class CopyError(Exception):
    """The copy cannot be done as asked; the message says why (and nothing was written)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class TableCount:
    table: str
    source: int  # rows in the source snapshot
    target: int  # rows in the target after the copy
    seconds: float

    @property
    def matches(self) -> bool:
        return self.source == self.target


@dataclass(frozen=True, slots=True)
class CopyReport:
    source: str  # URLs, passwords hidden
    target: str
    tables: tuple[TableCount, ...]
    seconds: float
    committed: bool  # False: the counts differed before committing, so it was rolled back

    @property
    def rows(self) -> int:
        return sum(count.source for count in self.tables)

    @property
    def mismatches(self) -> list[TableCount]:
        return [count for count in self.tables if not count.matches]

    @property
    def ok(self) -> bool:
        return self.committed and not self.mismatches

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


# --- URLs and engines ---


def shown(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def parse_url(raw: str, role: str) -> URL:
    """A supported database URL, or a CopyError saying what is accepted."""
    try:
        url = make_url(raw)
    except ArgumentError as error:
        raise CopyError(f"the {role} URL {raw!r} is not a database URL: use {SUPPORTED}") from error
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise CopyError(f"the {role} URL {shown(url)} is not a supported database: use {SUPPORTED}")
    return url


def _identity(url: URL) -> tuple[Any, ...]:
    """What tells two URLs apart as databases (not drivers, passwords or spelling)."""
    if url.get_backend_name() == "sqlite":
        return ("sqlite", str(Path(url.database or ":memory:").expanduser().resolve()))
    return (
        url.get_backend_name(),
        url.host,
        url.port or 5432,
        url.database,
        tuple(sorted((k, str(v)) for k, v in url.query.items())),
    )


def check_urls(source: str, target: str) -> tuple[URL, URL]:
    source_url, target_url = parse_url(source, "source"), parse_url(target, "target")
    if _identity(source_url) == _identity(target_url):
        raise CopyError(f"the source and the target are the same database: {shown(source_url)}")
    if source_url.get_backend_name() == "sqlite":
        path = Path(source_url.database or "")
        if not source_url.database or not path.expanduser().is_file():
            # Connecting would create an empty file in its place.
            raise CopyError(f"there is no SQLite database at {path} (the source)")
    return source_url, target_url


def _engine(settings: Settings, url: URL, role: str) -> Engine:
    try:
        return make_engine(
            settings.model_copy(update={"database_url": url.render_as_string(False)})
        )
    except (NoSuchModuleError, ImportError) as error:
        raise CopyError(
            f"cannot open the {role} database {shown(url)}: its driver is missing ({error}); "
            "paperwire uses psycopg 3, postgresql+psycopg://... "
            "(pip install 'paperwire[postgresql]')"
        ) from error


def _reason(error: BaseException) -> str:
    """The driver's own words, first line: no traceback, no SQL."""
    orig = getattr(error, "orig", None) or error
    lines = [line.strip() for line in str(orig).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(orig).__name__


def _reachable(engine: Engine, role: str) -> None:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except DBAPIError as error:
        raise CopyError(
            f"cannot connect to the {role} database {shown(engine.url)}: {_reason(error)}"
        ) from error


def copy_between(
    settings: Settings,
    source: str,
    target: str,
    *,
    start: StartTable | None = None,
    batch_rows: int = BATCH_ROWS,
) -> CopyReport:
    """:func:`copy_database` from URLs (``settings`` gives the engines' other options)."""
    source_url, target_url = check_urls(source, target)
    source_engine = _engine(settings, source_url, "source")
    target_engine = _engine(settings, target_url, "target")
    try:
        return copy_database(source_engine, target_engine, start=start, batch_rows=batch_rows)
    finally:
        source_engine.dispose()
        target_engine.dispose()


# --- checks ---


def _check_source_schema(engine: Engine) -> None:
    current, head = migrate.current_revision(engine), migrate.head_revision(engine)
    if current is None:
        raise CopyError(
            f"the source database {shown(engine.url)} has no paperwire schema "
            "(is it the right URL?)"
        )
    if current != head:
        raise CopyError(
            f"the source database {shown(engine.url)} is at schema revision {current}, not "
            f"{head}: run `paperwire db upgrade` on it first "
            f"(PAPERWIRE_DATABASE_URL={shown(engine.url)} paperwire db upgrade)"
        )


def data_counts(conn: Connection) -> dict[str, int]:
    """Tables of the database (every one, not only ours) that hold data, with their rows.

    Migration bookkeeping and seeded tables do not count: a freshly migrated database
    has no data."""
    counts: dict[str, int] = {}
    for name in inspect(conn).get_table_names():
        if name in BOOKKEEPING_TABLES or name in SEEDED_TABLES:
            continue
        found = rows.count(conn, table_named(name))
        if found:
            counts[name] = found
    return counts


def _refuse_unless_empty(conn: Connection, url: URL) -> None:
    counts = data_counts(conn)
    if counts:
        listed = ", ".join(f"{name} ({found} rows)" for name, found in sorted(counts.items()))
        raise CopyError(
            f"the target database {shown(url)} already holds data: {listed}. "
            "paperwire db copy only fills an empty database; nothing was changed"
        )


def _upgrade_target(engine: Engine) -> None:
    with engine.connect() as conn:
        _refuse_unless_empty(conn, engine.url)  # before the upgrade changes anything
    try:
        migrate.upgrade(engine)
    # CommandError: a revision this code does not know; RuntimeError: no pgvector (0007)
    except (SQLAlchemyError, CommandError, RuntimeError) as error:
        reason = _reason(error) if isinstance(error, DBAPIError) else str(error)
        raise CopyError(
            f"cannot upgrade the target database {shown(engine.url)}: {reason}"
        ) from error


# --- the copy ---


def _copy_table(
    read: Connection, write: Connection, table: Table, advance: Advance, batch_rows: int
) -> None:
    batches = rows.read_batches(read, table, batch_rows)
    if table.name in SEEDED_TABLES:
        # the migrations' rows give way to the source's (but for the target's own)
        write.execute(delete(table).where(table.c.name.not_in(TARGET_OWN_STATE)))
        batches = ([r for r in batch if r["name"] not in TARGET_OWN_STATE] for batch in batches)
    rows.write_batches(write, table, batches, advance)


def _no_progress(_table: str, _rows: int) -> Advance:
    return lambda _n: None


def _copy_tables(
    read: Connection,
    write: Connection,
    expected: dict[str, int],
    start: StartTable,
    batch_rows: int,
) -> dict[str, float]:
    """Every table of the schema, parents before children; the seconds each took."""
    seconds: dict[str, float] = {}
    for table in metadata.sorted_tables:
        table_begun = time.perf_counter()
        advance = start(table.name, expected[table.name])
        try:
            _copy_table(read, write, table, advance, batch_rows)
        except (DBAPIError, write.dialect.loaded_dbapi.Error) as error:
            raise CopyError(
                f"copying table {table.name} failed, so nothing was copied: {_reason(error)}"
            ) from error
        seconds[table.name] = time.perf_counter() - table_begun
    return seconds


def copy_database(
    source: Engine,
    target: Engine,
    *,
    start: StartTable | None = None,
    batch_rows: int = BATCH_ROWS,
) -> CopyReport:
    """Copy every row of ``source`` into the empty ``target`` (upgraded to the head first).

    Raises CopyError, with nothing written to the target, when either cannot be reached,
    the source is not at the head or the target holds data. A failure while copying
    rolls the target back to empty."""
    begun = time.perf_counter()
    _reachable(source, "source")
    _reachable(target, "target")
    _check_source_schema(source)
    _upgrade_target(target)
    tables = metadata.sorted_tables
    with rows.snapshot(source) as read, target.connect() as write, write.begin() as transaction:
        _refuse_unless_empty(write, target.url)  # again, inside our transaction
        expected = {table.name: rows.count(read, table) for table in tables}
        seconds = _copy_tables(read, write, expected, start or _no_progress, batch_rows)
        rows.advance_sequences(write, tables)
        written = {table.name: rows.count(write, table) for table in tables}
        committed = written == expected
        if not committed:
            transaction.rollback()
    if committed:
        rows.analyze(target, tables)
        with target.connect() as conn:  # the report shows what was committed
            written = {table.name: rows.count(conn, table) for table in tables}
    counts = tuple(
        TableCount(t.name, expected[t.name], written[t.name], seconds[t.name]) for t in tables
    )
    return CopyReport(
        source=shown(source.url),
        target=shown(target.url),
        tables=counts,
        seconds=time.perf_counter() - begun,
        committed=committed,
    )
