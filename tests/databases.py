"""The test databases, on the backend the run was started for.

``PAPERWIRE_TEST_DATABASE_URL`` unset: SQLite files in each test's tmp_path, copied from
template files. Set to a PostgreSQL server URL (``postgresql+psycopg://postgres@/postgres?
host=/tmp/pgtest``, e.g. from ``tests/pg_server.py start``): a database of each test's own
on that server, created from a template database (``CREATE DATABASE ... TEMPLATE``) and
dropped afterwards. The URL's database is only the maintenance connection.

Either way a database is described by :class:`Settings` alone (its URL and, on
PostgreSQL, an ``index_dir`` in the test's folder), so fixtures and tests read the same on
both backends.
"""

from __future__ import annotations

import os
import secrets
import shutil
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from paperwire.config import Settings
from paperwire.store.db import make_engine

TEST_DATABASE_URL_VARIABLE = "PAPERWIRE_TEST_DATABASE_URL"
DATABASE_PREFIX = "pw_"

# The ``new_database`` fixture: ``new_database()`` an empty database, ``new_database(template)``
# a copy; keyword arguments override settings.
NewDatabase = Callable[..., Settings]


def make_settings(database_url: str, **overrides: object) -> Settings:
    """Keyword search only unless a test asks for the model (see ``semantic_settings``)."""
    values: dict[str, object] = {"semantic": False, **overrides}
    return Settings(env="test", database_url=database_url, **values)  # type: ignore[arg-type]


def database_environment(settings: Settings) -> dict[str, str]:
    """The ``PAPERWIRE_*`` variables that point a ``paperwire`` process at the database
    (and search indexes) of ``settings``."""
    env = {"PAPERWIRE_DATABASE_URL": settings.database_url}
    if settings.index_dir is not None:
        env["PAPERWIRE_INDEX_DIR"] = str(settings.index_dir)
    return env


def copy_index(source: Settings, target: Settings) -> None:
    """Copy the search indexes of ``source`` (if it has any yet) to ``target``."""
    if source.search_index_dir.is_dir():
        shutil.copytree(source.search_index_dir, target.search_index_dir)


class Databases(ABC):
    """Creates, copies and drops this test process's databases on one backend."""

    name: str

    def __init__(self) -> None:
        self._stems: dict[Path, int] = {}

    def _stem(self, folder: Path) -> str:
        """``paperwire``, then ``paperwire-2``...: file names of their own for each
        database made in one folder (the SQLite file, the search indexes)."""
        count = self._stems[folder] = self._stems.get(folder, 0) + 1
        return "paperwire" if count == 1 else f"paperwire-{count}"

    @abstractmethod
    def create(self, folder: Path, **overrides: object) -> Settings:
        """A new, empty database (no migrations run) for files kept in ``folder``."""

    @abstractmethod
    def copy(self, template: Settings, folder: Path, **overrides: object) -> Settings:
        """A new database holding what ``template`` holds, search indexes included.
        Nothing may be connected to ``template`` meanwhile."""

    def settle(self, settings: Settings) -> None:  # noqa: B027 - a no-op unless overridden
        """Make a template ready to be copied (after every engine on it is disposed)."""

    def drop(self, settings: Settings) -> None:  # noqa: B027 - files go with tmp_path
        """Delete a database made by :meth:`create` or :meth:`copy`."""

    def close(self) -> None:  # noqa: B027
        """Delete every database this process made and did not drop."""


class SqliteDatabases(Databases):
    name = "sqlite"

    def create(self, folder: Path, **overrides: object) -> Settings:
        # The search indexes go beside the file (Settings.search_index_dir).
        return make_settings(f"sqlite:///{folder / self._stem(folder)}.db", **overrides)

    def copy(self, template: Settings, folder: Path, **overrides: object) -> Settings:
        target = self.create(folder, **overrides)
        shutil.copyfile(_sqlite_path(template), _sqlite_path(target))
        copy_index(template, target)
        return target

    def settle(self, settings: Settings) -> None:
        # Fold the write-ahead log into the file: a copy of the file alone is complete.
        engine = make_engine(settings)
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()


def _sqlite_path(settings: Settings) -> Path:
    database = make_url(settings.database_url).database
    assert database, settings.database_url
    return Path(database)


class PostgresqlDatabases(Databases):
    name = "postgresql"

    def __init__(self, server_url: str) -> None:
        super().__init__()
        self.server_url = make_url(server_url)
        if self.server_url.get_backend_name() != "postgresql":
            raise ValueError(f"{TEST_DATABASE_URL_VARIABLE} must name a PostgreSQL server")
        # One connection to the maintenance database, outside transactions (CREATE
        # DATABASE refuses to run in one).
        self._admin = create_engine(
            self.server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool
        ).connect()
        self._made: set[str] = set()

    def _url(self, database: str) -> str:
        url: URL = self.server_url.set(database=database)
        return url.render_as_string(hide_password=False)

    def _new_name(self) -> str:
        return DATABASE_PREFIX + secrets.token_hex(6)

    def _settings(self, database: str, folder: Path, **overrides: object) -> Settings:
        # The search indexes go in the test's folder, as beside a SQLite file.
        index_dir = folder / f"{self._stem(folder)}-index"
        return make_settings(self._url(database), **{"index_dir": index_dir, **overrides})

    def create(self, folder: Path, **overrides: object) -> Settings:
        name = self._new_name()
        self._made.add(name)
        self._admin.exec_driver_sql(f'CREATE DATABASE "{name}"')
        return self._settings(name, folder, **overrides)

    def copy(self, template: Settings, folder: Path, **overrides: object) -> Settings:
        name = self._new_name()
        self._made.add(name)
        source = make_url(template.database_url).database
        # FILE_COPY copies the template's files instead of writing them all to the WAL
        # (65 MB for the HF archive, in each of its ~60 tests): as fast (0.05-0.2 s on
        # the test server) and no WAL to recycle.
        self._admin.exec_driver_sql(
            f'CREATE DATABASE "{name}" TEMPLATE "{source}" STRATEGY FILE_COPY'
        )
        target = self._settings(name, folder, **overrides)
        copy_index(template, target)
        return target

    def settle(self, settings: Settings) -> None:
        # CREATE DATABASE ... TEMPLATE refuses a template anyone is connected to: cut off
        # connections left behind (a pool of some object the fixture did not close).
        self._admin.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": make_url(settings.database_url).database},
        )

    def drop(self, settings: Settings) -> None:
        name = make_url(settings.database_url).database
        assert name is not None
        # FORCE: a test may leave an engine (or a killed process's connection) behind.
        self._admin.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._made.discard(name)

    def close(self) -> None:
        for name in sorted(self._made):
            self._admin.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._made.clear()
        self._admin.close()


def databases_from_environment() -> Databases:
    url = os.environ.get(TEST_DATABASE_URL_VARIABLE, "").strip()
    return PostgresqlDatabases(url) if url else SqliteDatabases()
