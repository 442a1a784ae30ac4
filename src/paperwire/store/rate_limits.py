"""Fixed-window hit counters, shared by every process through the database; and the
request starts of :mod:`paperwire.pacing`, kept in the same table."""

from __future__ import annotations

import hashlib
import time

from sqlalchemy import Connection, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from paperwire.store.schema import rate_limits

DAY_S = 86400


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


def take_turn(conn: Connection, prefix: str, interval_us: int) -> int | None:
    """Take the turn to send a request now if the last one under ``prefix`` started at
    least ``interval_us`` ago: None, and this start is recorded. Else nothing is written
    and the answer is when the turn comes (microseconds since the epoch): ask again then.

    A start is a row keyed ``prefix + start``, its time kept in ``window`` (seconds) and
    ``hits`` (microseconds within that second). Reading the last one and adding the next
    must not interleave with another process doing the same, so the transaction first
    takes a lock: PostgreSQL, an advisory lock on the prefix; SQLite, its one write lock,
    which the DELETE below (this host's starts older than a day) takes even when it
    deletes nothing. The lock ends with the caller's commit; "now" is read once it is
    held, so that waiting for the lock cannot date a start too early.
    """
    mine = rate_limits.c.key.startswith(prefix, autoescape=True)
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(_lock_id(prefix))))
    old = int(time.time()) - DAY_S
    conn.execute(delete(rate_limits).where(mine, rate_limits.c.window < old))
    now_us = time.time_ns() // 1000
    last = conn.execute(
        select(rate_limits.c.window, rate_limits.c.hits)
        .where(mine)
        .order_by(rate_limits.c.window.desc(), rate_limits.c.hits.desc())
        .limit(1)
    ).first()
    if last is not None:
        turn_us = int(last.window) * 10**6 + int(last.hits) + interval_us
        if turn_us > now_us:
            return turn_us
    seconds, micros = divmod(now_us, 10**6)
    conn.execute(insert(rate_limits).values(key=f"{prefix}{now_us}", window=seconds, hits=micros))
    return None


def _lock_id(name: str) -> int:
    """A stable signed 64-bit number for ``name`` (PostgreSQL advisory lock keys)."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
