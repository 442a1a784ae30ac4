"""Search speed at scale: keyword, semantic and hybrid latency at 100k and 1M papers.

The corpus is the real ``arxiv-daily-listings`` (74,728 distinct papers) grown to the
asked size with varied copies: a copy keeps a real abstract with its sentences
reordered and one sentence from another paper, and a title with two words swapped in
from another title, so term statistics stay realistic without exact duplicates. Vectors:
a sample of real abstracts is embedded with the product's model; every paper gets one of
those vectors plus Gaussian noise (cosine about 0.9 to its source), as the issue allows.

Everything goes through the product's code: ``import_paths`` (generic JSON lines),
``update_keyword``, ``save_embeddings`` + ``update_vectors``, and queries through
``search.service.search`` (hydration and snippets included). In the same run, the
peers' methods over the same texts and queries: a tf-idf matrix scan (what
arxiv-sanity-lite does per query) and SQLite FTS5 ranked by ``bm25()``.

Goal: hybrid p95 under 50 ms at 1,000,000 papers on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import select

from benchmarks._common import (
    ARXIV_LISTINGS,
    CACHE_DIR,
    BenchmarkFailed,
    Stopwatch,
    Table,
    percentile,
    require_data,
    say,
)

NAME = "speed"
HELP = "search latency (keyword, semantic, hybrid) at 100k and 1M papers, with peers"

CLASSES = ("1-word", "2-word", "common", "phrase", "long")
COMMON = (
    "learning",
    "model",
    "models",
    "the",
    "data",
    "neural network",
    "large language models",
    "deep learning",
    "a method for",
    "of the",
)
NOISE = 0.025  # per dimension: cosine ~0.9 between a copy's vector and its source
GOAL_P95_MS = 50.0
_WORD = re.compile(r"[A-Za-z][A-Za-z-]{3,}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--papers",
        default="100000,1000000",
        help="comma-separated corpus sizes (default: 100000,1000000)",
    )
    parser.add_argument("--queries", type=int, default=100, help="queries per class and mode")
    parser.add_argument(
        "--peer-queries", type=int, default=20, help="queries per class for the peers"
    )
    parser.add_argument("--sample", type=int, default=4000, help="real abstracts embedded")
    parser.add_argument("--no-peers", action="store_true", help="skip tf-idf and FTS5")
    parser.add_argument("--workdir", type=Path, default=CACHE_DIR / "speed")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="reuse a corpus a previous run built completely (timings of its build not shown)",
    )


# -- corpus -------------------------------------------------------------------------------


def real_papers() -> list[dict[str, Any]]:
    from paperwire.ingest.files import iter_input_files, read_records
    from paperwire.models import RecordError

    papers: dict[str, dict[str, Any]] = {}
    for path in iter_input_files([ARXIV_LISTINGS]):
        for item in read_records(path):
            if isinstance(item, RecordError):
                continue
            paper = item.paper
            papers[paper.id] = {
                "id": paper.id,
                "title": paper.title,
                "abstract": paper.abstract,
                "authors": paper.authors,
                "categories": paper.categories,
                "published": paper.submitted_at.date().isoformat()
                if paper.submitted_at
                else "2025-01-01",
            }
    return list(papers.values())


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text) if s]


def varied_copy(
    paper: dict[str, Any], other: dict[str, Any], copy: int, rng: random.Random
) -> dict[str, Any]:
    sentences = _sentences(paper["abstract"])
    rng.shuffle(sentences)
    sentences.insert(
        rng.randrange(len(sentences) + 1), rng.choice(_sentences(other["abstract"]) or [""])
    )
    title = paper["title"].split()
    donor = other["title"].split()
    for _ in range(2):
        if title and donor:
            title[rng.randrange(len(title))] = rng.choice(donor)
    return {
        "id": f"copy{copy}:{paper['id']}",
        "source": "bench",
        "title": " ".join(title),
        "abstract": " ".join(sentences),
        "authors": paper["authors"][::-1] or ["Anonymous"],
        "categories": paper["categories"],
        "published": paper["published"],
    }


def corpus(real: list[dict[str, Any]], size: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    for i in range(size):
        if i < len(real):
            yield {**real[i], "source": "arxiv"}
        else:
            yield varied_copy(real[i % len(real)], rng.choice(real), i // len(real), rng)


def queries(real: list[dict[str, Any]], per_class: int, seed: int = 11) -> dict[str, list[str]]:
    rng = random.Random(seed)
    found: dict[str, list[str]] = {name: [] for name in CLASSES}
    while any(len(v) < per_class for v in found.values()):
        paper = rng.choice(real)
        title_words = _WORD.findall(paper["title"])
        words = paper["abstract"].split()
        if len(found["1-word"]) < per_class and title_words:
            found["1-word"].append(rng.choice(title_words).lower())
        plain_title = paper["title"].split()
        if len(found["2-word"]) < per_class and len(plain_title) > 2:
            at = rng.randrange(len(plain_title) - 1)
            found["2-word"].append(" ".join(plain_title[at : at + 2]))
        if len(found["common"]) < per_class:
            found["common"].append(COMMON[len(found["common"]) % len(COMMON)])
        if len(found["phrase"]) < per_class and len(words) > 10:
            at = rng.randrange(len(words) - 3)
            found["phrase"].append('"' + " ".join(words[at : at + 3]).strip(".,;:()") + '"')
        first = _sentences(paper["abstract"])
        if len(found["long"]) < per_class and first:
            found["long"].append(" ".join(first[0].split()[:25]))
    return found


# -- building -----------------------------------------------------------------------------


def build(
    workdir: Path,
    real: list[dict[str, Any]],
    size: int,
    sample: int,
    database_url: str | None = None,
    base: Any = None,
) -> tuple[Any, Table, Any]:
    """Import, index, embed and build the vector index on SQLite (a file in ``workdir``)
    or on the empty database at ``database_url``; returns the context, the timings and
    the embedded real abstracts (pass them back as ``base`` to skip embedding again)."""
    import numpy as np

    from paperwire.context import build_context
    from paperwire.ingest.pipeline import import_paths
    from paperwire.search import indexer
    from paperwire.search.embed import document_text
    from paperwire.search.vectors import encode
    from paperwire.store import migrate, search_state
    from paperwire.store.schema import embedding_queue, papers
    from paperwire.store.sql import chunks

    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    timings = Table(f"Building the {size:,}-paper corpus", ["step", "seconds", "per second"])
    files = [workdir / f"corpus-{n:03}.jsonl" for n in range((size + 49_999) // 50_000)]
    rows = corpus(real, size)
    for path in files:
        with path.open("w", encoding="utf-8") as out:
            for _ in range(50_000):
                row = next(rows, None)
                if row is None:
                    break
                out.write(json.dumps(row) + "\n")
    context = build_context(corpus_settings(workdir, database_url))
    in_database = context.search.in_database
    migrate.upgrade(context.engine)
    say(f"speed: importing {size:,} papers ...")
    with Stopwatch() as watch:
        summary = import_paths(context.engine, files)
    if summary.papers_inserted != size:
        raise BenchmarkFailed(f"{summary.papers_inserted} papers imported, expected {size}")
    timings.add("import (generic JSON lines)", watch.wall, size / watch.wall)
    say("speed: keyword index ...")
    with Stopwatch() as watch, context.search.writing():
        indexer.update_keyword(context.engine, context.search)
    kind = "tsvector + GIN" if in_database else "tantivy"
    timings.add(f"keyword index build ({kind})", watch.wall, size / watch.wall)

    embedder = context.search.embedder()
    if base is None:
        say(f"speed: embedding {sample:,} real abstracts ...")
        picked = real[:sample]
        with Stopwatch() as watch:
            base = embedder.embed_documents(
                [document_text(p["title"], p["abstract"]) for p in picked]
            )
        timings.add(f"embed {sample:,} real abstracts", watch.wall, sample / watch.wall)
    rng = np.random.default_rng(5)
    say("speed: storing vectors ...")
    with Stopwatch() as watch:
        with context.engine.connect() as conn:
            # Sorted here, not by the database: both backends give a paper the same vector.
            ids = sorted(conn.execute(select(papers.c.id)).scalars())
        for part in chunks(list(range(len(ids))), 20_000):
            vectors = base[[i % len(base) for i in part]]
            vectors = vectors + rng.normal(0, NOISE, vectors.shape).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            with context.engine.begin() as conn:
                search_state.save_embeddings(
                    conn,
                    embedder.name,
                    {ids[i]: encode(v) for i, v in zip(part, vectors, strict=True)},
                )
        with context.engine.begin() as conn:
            conn.execute(embedding_queue.delete())
    timings.add("store perturbed vectors (benchmark only)", watch.wall, size / watch.wall)
    say("speed: vector index (HNSW) ...")
    with Stopwatch() as watch, context.search.writing():
        indexer.update_vectors(context.engine, context.search, embedder.name, embedder.dim)
    kind = "pgvector HNSW, halfvec" if in_database else "usearch HNSW, f16"
    timings.add(f"vector index build ({kind})", watch.wall, size / watch.wall)
    return context, timings, base


def corpus_settings(workdir: Path, database_url: str | None) -> Any:
    from paperwire.config import Settings

    return Settings(
        database_url=database_url or f"sqlite:///{workdir / 'speed.db'}",
        index_dir=workdir / "speed-index",
        semantic=True,
    )


def reuse(workdir: Path, size: int, database_url: str | None = None) -> tuple[Any, Table]:
    from paperwire.context import build_context

    timings = Table(f"The {size:,}-paper corpus (reused)", ["step", "seconds", "per second"])
    return build_context(corpus_settings(workdir, database_url)), timings


# -- measuring ----------------------------------------------------------------------------


def timed(run: Callable[[str], object], texts: list[str]) -> list[float]:
    latencies = []
    for text in texts:
        started = time.perf_counter()
        run(text)
        latencies.append(time.perf_counter() - started)
    return sorted(latencies)


def measure_classes(
    method: str, run: Callable[[str], object], asked: dict[str, list[str]], table: Table
) -> float:
    """One table row per query class and one for all; returns the overall p95 in ms."""
    every: list[float] = []
    for name in CLASSES:
        latencies = timed(run, asked[name])
        every.extend(latencies)
        table.add(method, name, *_ms(latencies))
    every.sort()
    table.add(method, "all", *_ms(every))
    return percentile(every, 95) * 1000


def product_latencies(context: Any, asked: dict[str, list[str]], table: Table) -> dict[str, float]:
    from paperwire.search import service

    p95: dict[str, float] = {}
    for mode in ("keyword", "semantic", "hybrid"):

        def run(text: str, mode: str = mode) -> object:
            request = service.SearchRequest(query=text, mode=mode, limit=20)  # type: ignore[arg-type]
            results = service.search(context.engine, context.search, request)
            if results.mode != mode:
                raise BenchmarkFailed(f"{mode} answered as {results.mode}: {results.notices}")
            return results

        for text in asked["common"][:5]:
            run(text)  # warm the caches
        p95[mode] = measure_classes(f"paperwire {mode}", run, asked, table)
    return p95


def _ms(latencies: list[float]) -> list[float]:
    return [percentile(latencies, q) * 1000 for q in (50, 95, 99)]


def fts5_peer(
    workdir: Path,
    docs: Iterator[dict[str, Any]],
    asked: dict[str, list[str]],
    table: Table,
    timings: Table,
) -> float:
    path = workdir / "fts5.db"
    db = sqlite3.connect(path)
    db.execute("CREATE VIRTUAL TABLE fts USING fts5(title, abstract, tokenize='porter')")
    with Stopwatch() as watch:
        db.executemany(
            "INSERT INTO fts (title, abstract) VALUES (?, ?)",
            ((d["title"], d["abstract"]) for d in docs),
        )
        db.commit()
    timings.add("peer: FTS5 index build", watch.wall, 0.0)

    def run(text: str) -> object:
        terms = re.findall(r"\w+", text)
        if not terms:
            return []
        match = " OR ".join('"' + t + '"' for t in terms[:32])
        if text.startswith('"'):
            match = '"' + " ".join(terms) + '"'
        return db.execute(
            "SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY bm25(fts, 2.0, 1.0) LIMIT 20",
            (match,),
        ).fetchall()

    p95 = measure_classes("peer: FTS5 bm25", run, asked, table)
    db.close()
    return p95


def tfidf_peer(docs: list[str], asked: dict[str, list[str]], table: Table, timings: Table) -> float:
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    with Stopwatch() as watch:
        vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True, dtype=np.float32)
        matrix = vectorizer.fit_transform(docs).tocsr()
    timings.add("peer: tf-idf matrix build", watch.wall, len(docs) / watch.wall)

    def run(text: str) -> object:
        scores = (matrix @ vectorizer.transform([text]).T).toarray().ravel()
        top = np.argpartition(-scores, 20)[:20]
        return top[np.argsort(-scores[top])]

    return measure_classes("peer: tf-idf scan (arxiv-sanity-lite)", run, asked, table)


def ann_recall(context: Any, asked: dict[str, list[str]]) -> tuple[float, float]:
    """recall@10 of the HNSW index against exact search over the same stored vectors."""
    import numpy as np

    from paperwire.search.vectors import decode

    with context.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT key, vector FROM embeddings").fetchall()
    keys = np.array([row[0] for row in rows])
    matrix = np.stack([decode(row[1]) for row in rows])
    texts = [t for name in CLASSES for t in asked[name]][:200]
    query_vectors = context.search.embedder().embed_queries(texts)
    hits = total = 0
    started = time.perf_counter()
    for vector in query_vectors:
        exact = set(keys[np.argpartition(-(matrix @ vector), 10)[:10]].tolist())
        approximate = {key for key, _ in context.search.vectors.search(vector, 10)}
        hits += len(exact & approximate)
        total += 10
    exact_ms = (time.perf_counter() - started) * 1000 / len(query_vectors)
    return hits / total, exact_ms


def search_process_memory(settings_url: str, texts: list[str]) -> float:
    """Peak RSS (MiB) of a fresh process that opens the indexes and runs hybrid queries."""
    script = (
        "import json, sys\n"
        "from paperwire.config import Settings\n"
        "from paperwire.context import build_context\n"
        "from paperwire.search import service\n"
        f"context = build_context(Settings(database_url={settings_url!r}))\n"
        "for q in json.loads(sys.stdin.read()):\n"
        "    service.search(context.engine, context.search, service.SearchRequest(q))\n"
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec.
        "print(open('/proc/self/status').read().split('VmHWM:')[1].split()[0])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.split()[-1]) / 1024


def _own_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _size_mb(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / 2**20
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def run(args: argparse.Namespace) -> list[Table]:
    require_data(ARXIV_LISTINGS)
    real = real_papers()
    asked = queries(real, args.queries)
    peer_asked = {name: texts[: args.peer_queries] for name, texts in asked.items()}
    tables: list[Table] = []
    for size in [int(s) for s in args.papers.split(",")]:
        workdir = args.workdir / str(size)
        marker = workdir / "built"
        if args.reuse and marker.exists():
            context, timings = reuse(workdir, size)
        else:
            marker.unlink(missing_ok=True)
            context, timings, _ = build(workdir, real, size, args.sample)
            marker.write_text("complete\n")
        latency = Table(
            f"Search latency at {size:,} papers (ms, one client, 2 cores)",
            ["method", "queries", "p50", "p95", "p99"],
        )
        try:
            p95 = product_latencies(context, asked, latency)
            recall, exact_ms = ann_recall(context, asked)
            url = context.settings.database_url
            memory = search_process_memory(url, [t for n in CLASSES for t in asked[n][:20]])
            peers: dict[str, float] = {}
            if not args.no_peers:
                say("speed: peers (FTS5, tf-idf) ...")
                peers["FTS5"] = fts5_peer(workdir, corpus(real, size), peer_asked, latency, timings)
                texts = [f"{d['title']} {d['abstract']}" for d in corpus(real, size)]
                peers["tf-idf"] = tfidf_peer(texts, peer_asked, latency, timings)
        finally:
            context.close()
        latency.notes.append(
            f"hybrid p95 {p95['hybrid']:.1f} ms (goal < {GOAL_P95_MS:.0f} ms at 1M: "
            f"{'met' if p95['hybrid'] < GOAL_P95_MS else 'missed'}); "
            + "; ".join(
                f"{name} p95 is {value / p95['keyword']:.1f}x paperwire keyword's"
                for name, value in peers.items()
            )
        )
        index_dir = context.settings.search_index_dir
        timings.notes.extend(
            [
                f"HNSW recall@10 vs exact search: {recall:.3f} "
                f"(exact numpy scan: {exact_ms:.1f} ms/query)",
                f"disk: database {_size_mb(workdir / 'speed.db'):,.0f} MiB, keyword index "
                f"{_size_mb(index_dir / 'keyword'):,.0f} MiB, vector index "
                f"{_size_mb(index_dir / 'vectors'):,.0f} MiB",
                f"peak RSS of a search process after 100 hybrid queries: {memory:,.0f} MiB; "
                f"this benchmark process: {_own_peak_mb():,.0f} MiB",
            ]
        )
        tables.extend([timings, latency])
    return tables
