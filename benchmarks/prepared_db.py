"""The database the latency benchmark serves: both real data sets, on either backend.

Built once through the migrations and the real import, then kept for later runs under a
key made of the schema's head revision and a fingerprint of the data files, so that
reruns skip the import and a new migration or new data builds a new database:

- SQLite: a file under ``benchmarks/.cache/`` (git-ignored) named after the key;
- PostgreSQL: the database ``pw_bench_latency`` on a given server, the key in its comment
  (``COMMENT ON DATABASE``). It is built as ``pw_bench_latency_building`` and renamed
  when complete, so an interrupted build is never served.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks import _databases
from benchmarks._common import (
    ARXIV_LISTINGS,
    CACHE_DIR,
    HF_DAILY,
    BenchmarkFailed,
    Stopwatch,
    require_data,
    say,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine

EXPECTED_FEED_ENTRIES = 9_881  # shared/data/README.md: 580 HF days, 9,881 featured entries
POSTGRESQL_DATABASE = "pw_bench_latency"


def schema_revision() -> str:
    from alembic.script import ScriptDirectory

    from paperwire.store.migrate import MIGRATIONS_DIR

    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    if head is None:
        raise BenchmarkFailed("the migrations have no head revision")
    return head


def data_fingerprint(*folders: Path) -> str:
    """Names and sizes of the data files, and the migrations' text (one may be edited)."""
    from paperwire.store.migrate import MIGRATIONS_DIR

    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                stat = path.stat()
                digest.update(f"{path.relative_to(folder)}:{stat.st_size}\n".encode())
    for path in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _cache_key() -> str:
    return f"both-{schema_revision()}-{data_fingerprint(HF_DAILY, ARXIV_LISTINGS)}"


def prepared_database(rebuild: bool = False) -> Path:
    """The cached database file, built first if it is missing (or ``rebuild``)."""
    require_data(HF_DAILY, ARXIV_LISTINGS)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    target = CACHE_DIR / f"{_cache_key()}.db"
    if target.exists() and not rebuild:
        say(f"latency: using the prepared database {target.name}")
        return target
    for stale in CACHE_DIR.glob("both-*.db*"):
        stale.unlink()
    building = CACHE_DIR / f"building-{os.getpid()}.db"
    say("latency: preparing the database (HF daily papers + arXiv listings; once) ...")
    with Stopwatch() as watch:
        summary = _build(building)
    say(
        f"latency: imported {summary} in {watch.wall:.0f} s",
    )
    building.rename(target)
    return target


def prepared_postgresql(server_url: str, rebuild: bool = False) -> str:
    """The URL of ``pw_bench_latency`` on the server, built first if it is missing, was
    built from other data or another schema, or ``rebuild``."""
    require_data(HF_DAILY, ARXIV_LISTINGS)
    _databases.require_postgresql(server_url, "--prepare-postgresql")
    key = _cache_key()
    target = _databases.with_database(server_url, POSTGRESQL_DATABASE)
    building = f"{POSTGRESQL_DATABASE}_building"
    with _databases.maintenance(server_url) as conn:
        if _databases.database_comment(conn, POSTGRESQL_DATABASE) == key and not rebuild:
            say(f"latency: using the prepared PostgreSQL database {POSTGRESQL_DATABASE} ({key})")
            return target
        _databases.drop_database(conn, building)
        _databases.create_database(conn, building)
    say(f"latency: preparing {POSTGRESQL_DATABASE} on PostgreSQL (HF + arXiv listings; once) ...")
    with Stopwatch() as watch:
        summary = _build_postgresql(_databases.with_database(server_url, building))
    say(f"latency: imported {summary} in {watch.wall:.0f} s")
    with _databases.maintenance(server_url) as conn:
        _databases.drop_database(conn, POSTGRESQL_DATABASE)
        conn.exec_driver_sql(f'ALTER DATABASE "{building}" RENAME TO "{POSTGRESQL_DATABASE}"')
        conn.exec_driver_sql(f"COMMENT ON DATABASE \"{POSTGRESQL_DATABASE}\" IS '{key}'")
    return target


def _build(path: Path) -> str:
    from sqlalchemy import text

    for leftover in path.parent.glob(path.name + "*"):
        leftover.unlink()
    engine = _engine(_databases.sqlite_url(path))
    try:
        summary = _import_both(engine)
        with engine.connect() as conn:
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            conn.commit()
    finally:
        engine.dispose()
    for sidecar in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        sidecar.unlink(missing_ok=True)
    return summary


def _build_postgresql(url: str) -> str:
    engine = _engine(url)
    try:
        summary = _import_both(engine)
        # Planner statistics now, as autovacuum would make them a little later: the
        # benchmark should not measure the minute before it gets round to it.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE)")
    finally:
        engine.dispose()
    return summary


def _engine(url: str) -> Engine:
    from paperwire.config import Settings
    from paperwire.store.db import make_engine

    return make_engine(Settings(database_url=url))


def _import_both(engine: Engine) -> str:
    """Migrate, import both data sets through the product's import, check the counts."""
    from paperwire.ingest.pipeline import import_paths
    from paperwire.store import migrate
    from paperwire.store.feed import count_entries
    from paperwire.store.papers import count_papers

    migrate.upgrade(engine)
    summary = import_paths(engine, [HF_DAILY, ARXIV_LISTINGS])
    if summary.skipped:
        raise BenchmarkFailed(f"the import skipped {summary.skipped} records: {summary.errors[0]}")
    with engine.begin() as conn:
        papers, entries = count_papers(conn), count_entries(conn)
    if entries != EXPECTED_FEED_ENTRIES:
        raise BenchmarkFailed(f"feed entries: expected {EXPECTED_FEED_ENTRIES:,}, got {entries:,}")
    return (
        f"{summary.files} files, {summary.records:,} records: "
        f"{papers:,} papers, {entries:,} feed entries"
    )
