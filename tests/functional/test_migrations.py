"""The schema is built by the migrations, and the migrations match the tables in code."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, MetaData, insert
from sqlalchemy.dialects.postgresql.base import ischema_names as postgresql_types
from sqlalchemy.exc import IntegrityError

from databases import NewDatabase
from paperwire.store.db import make_engine
from paperwire.store.migrate import (
    alembic_config,
    current_revision,
    head_revision,
    is_up_to_date,
    upgrade,
)
from paperwire.store.schema import metadata, paper_authors
from paperwire.store.search_tables import HalfVector, search_metadata


def test_migrations_build_exactly_the_schema_in_code(
    new_database: NewDatabase, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(new_database())
    assert not is_up_to_date(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision(engine)
    expected = metadata
    if backend == "postgresql":
        # PostgreSQL also holds the search indexes (migration 0007, tables of their own
        # MetaData that refer to papers); reflection must know pgvector's halfvec type.
        expected = MetaData()
        for table in [*metadata.tables.values(), *search_metadata.tables.values()]:
            table.to_metadata(expected)
        monkeypatch.setitem(postgresql_types, "halfvec", HalfVector)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), expected)
        assert diff == []
    engine.dispose()


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    orphan = insert(paper_authors).values(
        paper_id="no-such-paper", position=0, name="A. Nobody", name_key="a. nobody"
    )
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(orphan)


def test_sqlite_connections_get_wal_foreign_keys_and_a_busy_timeout(
    engine: Engine, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("PRAGMAs are SQLite's connection settings; PostgreSQL has none of them")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000


def test_downgrade_to_base_and_up_again(new_database: NewDatabase) -> None:
    engine = make_engine(new_database())
    upgrade(engine)
    command.downgrade(alembic_config(engine), "base")
    assert current_revision(engine) is None
    upgrade(engine)
    assert is_up_to_date(engine)
    engine.dispose()
