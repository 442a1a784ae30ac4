"""What every CLI command shares: the library context, opened from the settings."""

from __future__ import annotations

import click

from paperwire.config import Settings
from paperwire.context import Context, build_context
from paperwire.store.migrate import is_up_to_date


def open_context(ctx: click.Context, *, migrated: bool = True) -> Context:
    """The library context; with ``migrated``, refuse a database that is not up to date."""
    settings: Settings = ctx.obj["settings"]
    context = build_context(settings)
    ctx.call_on_close(context.close)
    if migrated and not is_up_to_date(context.engine):
        raise click.ClickException(
            f"the database {settings.database_url} is not at the current schema: "
            "run `paperwire db upgrade` first"
        )
    return context
