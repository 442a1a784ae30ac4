"""Fixed-window hit counters, shared by every process through the database."""

from __future__ import annotations

from sqlalchemy import Connection, delete
from sqlalchemy.dialects import postgresql, sqlite

from paperwire.store.schema import rate_limits


def add_hit(conn: Connection, key: str, window: int) -> int:
    """Count one hit of ``key`` in ``window``; the window's hits so far, this one included.

    One atomic upsert, so that concurrent hits from several processes are all counted.
    """
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(rate_limits).values(key=key, window=window, hits=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=[rate_limits.c.key, rate_limits.c.window],
        set_={"hits": rate_limits.c.hits + 1},
    ).returning(rate_limits.c.hits)
    return int(conn.execute(stmt).scalar_one())


def forget_before(conn: Connection, window: int) -> None:
    conn.execute(delete(rate_limits).where(rate_limits.c.window < window))
