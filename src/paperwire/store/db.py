"""Engines: one place that knows how to connect to each backend."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from paperwire.config import Settings


def make_engine(settings: Settings) -> Engine:
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite":
        # Unbounded overflow for the same reason as SQLite's below (a bounded pool
        # deadlocks FastAPI's thread pool, fastapi#3205). What bounds the connections is
        # the web app's limit on requests in flight (web/concurrency.py), derived from
        # PAPERWIRE_DATABASE_CONNECTIONS, so the server's max_connections is not passed.
        engine = create_engine(url, pool_pre_ping=True, pool_size=8, max_overflow=-1)
        if url.get_backend_name() == "postgresql" and url.get_driver_name() == "psycopg":
            from paperwire.store import pg_strings

            event.listen(engine, "connect", lambda conn, _record: pg_strings.register(conn))
        return engine
    if url.database and url.database != ":memory:":
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    # No upper bound on connections (max_overflow=-1): FastAPI opens a request's
    # connection in one pool thread and runs the endpoint in another, so a bounded pool
    # deadlocks once every thread waits for a connection held by a request waiting for a
    # thread (fastapi#3205). SQLite connections are cheap; 8 are kept between requests.
    engine = create_engine(
        url, connect_args={"check_same_thread": False}, pool_size=8, max_overflow=-1
    )
    busy_ms = settings.sqlite_busy_timeout_ms

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
        # WAL lets readers run beside the one writer; the busy timeout makes a second
        # writer wait instead of failing at once.
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine
