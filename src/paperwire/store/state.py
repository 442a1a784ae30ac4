"""The content version: one counter that every content-changing write raises."""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from paperwire.store.schema import site_state

CONTENT_VERSION = "content_version"


def content_version(conn: Connection) -> int:
    value = conn.execute(
        select(site_state.c.value).where(site_state.c.name == CONTENT_VERSION)
    ).scalar_one_or_none()
    return int(value or 0)


def bump_content_version(conn: Connection) -> None:
    """Call inside the writing transaction, so readers see the new data and version together."""
    conn.execute(
        update(site_state)
        .where(site_state.c.name == CONTENT_VERSION)
        .values(value=site_state.c.value + 1)
    )
