"""The database the latency benchmark serves: both real data sets in one SQLite file.

Built once through the migrations and the real import, then cached under
``benchmarks/.cache/`` (git-ignored) under a name keyed on the schema's head revision and
on a fingerprint of the data files, so that reruns skip the import and a new migration
or new data builds a new file.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from benchmarks._common import (
    ARXIV_LISTINGS,
    CACHE_DIR,
    HF_DAILY,
    BenchmarkFailed,
    Stopwatch,
    require_data,
    say,
)

EXPECTED_FEED_ENTRIES = 9_881  # shared/data/README.md: 580 HF days, 9,881 featured entries


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


def _url(path: Path) -> str:
    return f"sqlite:///{path}"


def prepared_database(rebuild: bool = False) -> Path:
    """The cached database file, built first if it is missing (or ``rebuild``)."""
    require_data(HF_DAILY, ARXIV_LISTINGS)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    target = CACHE_DIR / f"both-{schema_revision()}-{data_fingerprint(HF_DAILY, ARXIV_LISTINGS)}.db"
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


def _build(path: Path) -> str:
    from sqlalchemy import text

    from paperwire.config import Settings
    from paperwire.ingest.pipeline import import_paths
    from paperwire.store import migrate
    from paperwire.store.db import make_engine
    from paperwire.store.feed import count_entries
    from paperwire.store.papers import count_papers

    for leftover in path.parent.glob(path.name + "*"):
        leftover.unlink()
    engine = make_engine(Settings(database_url=_url(path)))
    try:
        migrate.upgrade(engine)
        summary = import_paths(engine, [HF_DAILY, ARXIV_LISTINGS])
        if summary.skipped:
            raise BenchmarkFailed(
                f"the import skipped {summary.skipped} records: {summary.errors[0]}"
            )
        with engine.begin() as conn:
            papers, entries = count_papers(conn), count_entries(conn)
        if entries != EXPECTED_FEED_ENTRIES:
            raise BenchmarkFailed(
                f"feed entries: expected {EXPECTED_FEED_ENTRIES:,}, got {entries:,}"
            )
        with engine.connect() as conn:
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            conn.commit()
    finally:
        engine.dispose()
    for sidecar in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        sidecar.unlink(missing_ok=True)
    return (
        f"{summary.files} files, {summary.records:,} records: "
        f"{papers:,} papers, {entries:,} feed entries"
    )
