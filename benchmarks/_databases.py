"""The database a benchmark runs on: a SQLite file, or a database on a PostgreSQL server.

A benchmark names its database by a SQLAlchemy URL. For PostgreSQL this module makes
and drops databases on a server (through its ``postgres`` maintenance database), says
what the server is and how it is configured (the figures mean little without it), and
finds the server's processes when it runs on this machine, so that their CPU time can be
counted beside the web server's: on PostgreSQL the database work leaves the web process.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from benchmarks._common import BenchmarkFailed, tree_cpu_seconds

MAINTENANCE_DATABASE = "postgres"
# The settings that most change write and read figures on PostgreSQL.
REPORTED_SETTINGS = ("max_connections", "shared_buffers", "fsync", "synchronous_commit")
# What a web server's log says when the database made a request wait or fail.
CONTENTION_SIGNS = (
    "database is locked",  # SQLite: the busy timeout ran out
    "too many clients already",  # PostgreSQL: max_connections reached
    "deadlock detected",  # PostgreSQL
    "could not serialize access",  # PostgreSQL
    "QueuePool limit",  # SQLAlchemy: the pool's timeout ran out
)


def is_postgresql(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def require_postgresql(url: str, option: str) -> None:
    if not is_postgresql(url):
        raise BenchmarkFailed(f"{option} takes a postgresql+psycopg://... URL, not {url!r}")


def with_database(url: str, database: str) -> str:
    """``url`` (a server, or any database on it) pointed at ``database``."""
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def database_name(url: str) -> str:
    name = make_url(url).database
    if not name:
        raise BenchmarkFailed(f"the URL names no database: {url!r}")
    return name


def read_only_engine(url: str) -> Engine:
    """An engine that reads without changing anything (a SQLite file is opened read-only)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ""
        return create_engine(
            "sqlite://",
            creator=lambda: sqlite3.connect(f"file:{path}?mode=ro", uri=True),
            poolclass=NullPool,
        )
    return create_engine(url, poolclass=NullPool)


@contextmanager
def maintenance(server_url: str) -> Iterator[Connection]:
    """A connection to the server's maintenance database, outside transactions (CREATE
    and DROP DATABASE refuse to run in one)."""
    engine = create_engine(
        with_database(server_url, MAINTENANCE_DATABASE),
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
    )
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def _quoted(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise BenchmarkFailed(f"refusing an odd database name: {name!r}")
    return f'"{name}"'


def create_database(conn: Connection, name: str) -> None:
    conn.exec_driver_sql(f"CREATE DATABASE {_quoted(name)}")


def drop_database(conn: Connection, name: str) -> None:
    # FORCE: a killed server may leave connections behind.
    conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {_quoted(name)} WITH (FORCE)")


def database_comment(conn: Connection, name: str) -> str | None:
    """The comment on database ``name`` (None: no such database, or no comment)."""
    comment = conn.exec_driver_sql(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %(name)s",
        {"name": name},
    ).scalar()
    return None if comment is None else str(comment)


@contextmanager
def scratch_database(server_url: str, prefix: str) -> Iterator[str]:
    """A new, empty database ``PREFIX_<random>`` on the server; its URL; dropped on exit."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    with maintenance(server_url) as conn:
        create_database(conn, name)
    try:
        yield with_database(server_url, name)
    finally:
        with maintenance(server_url) as conn:
            drop_database(conn, name)


def contention_signs(log: str) -> Counter[str]:
    """How many of SQLAlchemy's errors in a server's log show each of
    :data:`CONTENTION_SIGNS` (a traceback repeats the driver's message: counted once)."""
    errors = [line for line in log.splitlines() if line.startswith("sqlalchemy.exc.")]
    found = Counter({sign: sum(sign in line for line in errors) for sign in CONTENTION_SIGNS})
    return +found  # only the signs seen


def describe(url: str) -> str:
    """The backend, its version and (PostgreSQL) the settings that matter most."""
    if not is_postgresql(url):
        return f"SQLite {sqlite3.sqlite_version}, file {make_url(url).database}"
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            version = conn.exec_driver_sql("SHOW server_version").scalar_one()
            shown = [
                f"{name} {conn.exec_driver_sql(f'SHOW {name}').scalar_one()}"
                for name in REPORTED_SETTINGS
            ]
    finally:
        engine.dispose()
    return f"PostgreSQL {version}, database {database_name(url)} ({', '.join(shown)})"


def backend_title(url: str) -> str:
    return "PostgreSQL" if is_postgresql(url) else "SQLite"


class DatabaseCpu:
    """CPU seconds used by a PostgreSQL server running on this machine (its postmaster,
    live backends, and the backends that have exited); nothing for SQLite, whose work is
    done inside the web server's processes."""

    def __init__(self, url: str) -> None:
        self.postmaster: int | None = _postmaster_pid(url) if is_postgresql(url) else None

    @property
    def measured(self) -> bool:
        return self.postmaster is not None

    def seconds(self) -> float:
        if self.postmaster is None:
            return 0.0
        return tree_cpu_seconds(self.postmaster) + _reaped_children_seconds(self.postmaster)


def _postmaster_pid(url: str) -> int | None:
    """The server's postmaster, if it runs here and lets us read its data directory."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            data_directory = conn.exec_driver_sql("SHOW data_directory").scalar_one()
        first_line = (Path(data_directory) / "postmaster.pid").read_text().split("\n", 1)[0]
        pid = int(first_line)
        Path(f"/proc/{pid}/stat").read_text()  # on this machine, and ours to read
    except (SQLAlchemyError, OSError, ValueError):  # remote, or not ours: not shown
        return None
    finally:
        engine.dispose()
    return pid


def _reaped_children_seconds(pid: int) -> float:
    """cutime + cstime: CPU of children that exited (a backend whose connection closed)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
