"""The schema is built by the migrations, and the migrations match the tables in code."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from paperwire.config import Settings
from paperwire.store.db import make_engine
from paperwire.store.migrate import (
    alembic_config,
    current_revision,
    head_revision,
    is_up_to_date,
    upgrade,
)
from paperwire.store.schema import metadata


def test_migrations_build_exactly_the_schema_in_code(tmp_path: Path) -> None:
    engine = make_engine(Settings(env="test", database_url=f"sqlite:///{tmp_path / 'm.db'}"))
    assert not is_up_to_date(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == []
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
    engine.dispose()


def test_downgrade_to_base_and_up_again(tmp_path: Path) -> None:
    engine = make_engine(Settings(env="test", database_url=f"sqlite:///{tmp_path / 'd.db'}"))
    upgrade(engine)
    command.downgrade(alembic_config(engine), "base")
    assert current_revision(engine) is None
    upgrade(engine)
    assert is_up_to_date(engine)
    engine.dispose()
