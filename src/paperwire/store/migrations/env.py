"""Alembic environment: the engine is handed in by paperwire.store.migrate."""

from __future__ import annotations

from alembic import context

from paperwire.store.schema import metadata

engine = context.config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
