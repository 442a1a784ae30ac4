"""Benchmark: how long the worker takes to make 1,000 newly imported papers findable by meaning.

1. A fresh database built by the migrations gets ``--base`` real papers (arXiv daily
   listings), fully indexed (keyword index, embeddings, vector index) in this process.
2. ``--papers`` (1,000) other real papers are imported through the import pipeline, as
   ``paperwire import`` or a sync stores them: they wait in the keyword and embedding
   queues.
3. A real ``python -m paperwire worker`` process is started (semantic search on, the
   embedding model built once into ``--model-dir``, no sources to sync). Its schedule
   sees the waiting papers and queues the ``index`` job, which it then runs.
4. Every 0.1 s this process reads the queues, the jobs table and the vector index's
   sidecar, and notes when: the job was claimed; the keyword queue was empty (findable by
   words); the embedding queue was empty; the vector index held every embedding
   (findable by meaning); the job was done. Times count from the worker's start.
5. After the worker stopped, a semantic search in this process for the title of each
   of ``--sample`` new papers must find it; the table gives how often it is first and
   how often among the top 10.

Fails (exit 1) when the job does not end done within ``--timeout`` s or the vector index
does not hold base + new papers.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, func, select

from benchmarks._common import (
    ARXIV_LISTINGS,
    PROJECT_ROOT,
    BenchmarkFailed,
    MachineWatch,
    Table,
    require_data,
    say,
    tree_cpu_seconds,
)
from paperwire.config import Settings
from paperwire.context import Context, build_context
from paperwire.ingest.pipeline import import_paths
from paperwire.search import indexer
from paperwire.search import service as search_service
from paperwire.store import search_state
from paperwire.store.migrate import upgrade
from paperwire.store.schema import embedding_queue, jobs, keyword_queue

NAME = "worker"
HELP = "time for `paperwire worker` to make 1,000 new papers searchable by meaning"

MODEL_DIR = PROJECT_ROOT / ".cache" / "models"  # shared with the tests (tests/conftest.py)
POLL_S = 0.1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--papers", type=int, default=1000, help="new papers (1000)")
    parser.add_argument("--base", type=int, default=500, help="papers indexed before (500)")
    parser.add_argument("--sample", type=int, default=100, help="titles searched for (100)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds to wait (900)")
    parser.add_argument(
        "--model-dir", type=Path, default=MODEL_DIR, help=f"model cache ({MODEL_DIR})"
    )
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")


def _split_listings(folder: Path, base: int, new: int) -> tuple[Path, Path, list[dict[str, str]]]:
    """Write the first ``base`` distinct papers of the listings, then the next ``new``,
    into two folders (files keep their day's name); returns the new papers."""
    base_dir, new_dir = folder / "base", folder / "new"
    base_dir.mkdir()
    new_dir.mkdir()
    seen: set[str] = set()
    fresh: list[dict[str, str]] = []
    for path in sorted(ARXIV_LISTINGS.glob("*.jsonl.gz")):
        chosen: dict[Path, list[str]] = {base_dir: [], new_dir: []}
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                record = json.loads(line)
                if record["id"] in seen:
                    continue
                if len(seen) < base:
                    target = base_dir
                elif len(fresh) < new:
                    target = new_dir
                    fresh.append({"id": record["id"], "title": record["title"]})
                else:
                    break
                seen.add(record["id"])
                chosen[target].append(line)
        for target, kept in chosen.items():
            if kept:
                with gzip.open(target / path.name, "wt", encoding="utf-8") as out:
                    out.writelines(kept)
        if len(fresh) == new:
            return base_dir, new_dir, fresh
    raise BenchmarkFailed(f"the listings hold only {len(seen)} distinct papers")


@dataclass(slots=True)
class Timeline:
    started: float
    marks: dict[str, float] = field(default_factory=dict)

    def mark(self, name: str) -> None:
        if name not in self.marks:
            self.marks[name] = time.perf_counter() - self.started
            say(f"  {self.marks[name]:6.1f} s  {name}")


def run(args: argparse.Namespace) -> list[Table]:
    require_data(ARXIV_LISTINGS)
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix="worker-bench-", dir=args.keep))
    else:
        folder = Path(tempfile.mkdtemp(prefix="paperwire-worker-bench-"))
    try:
        return _run(args, folder)
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


def _run(args: argparse.Namespace, folder: Path) -> list[Table]:
    database = folder / "paperwire.db"
    settings = Settings(
        env="test",
        database_url=f"sqlite:///{database}",
        semantic=True,
        model_dir=args.model_dir,
        sync_sources="",
    )
    context = build_context(settings)
    engine = context.engine
    upgrade(engine)
    base_dir, new_dir, fresh = _split_listings(folder, args.base, args.papers)

    say(f"indexing {args.base} base papers (setup, not timed)...")
    import_paths(engine, [base_dir])
    with context.search.writing():
        indexer.run_index(engine, context.search)
    with MachineWatch() as import_watch:
        summary = import_paths(engine, [new_dir])
    if summary.papers_inserted != args.papers:
        raise BenchmarkFailed(f"imported {summary.papers_inserted} new papers, not {args.papers}")
    with engine.connect() as conn:
        waiting = search_state.count_pending(conn, embedding_queue)
    say(f"imported {args.papers} new papers in {import_watch.wall:.1f} s; {waiting} wait")

    env = {
        **os.environ,
        "PAPERWIRE_ENV": "test",
        "PAPERWIRE_DATABASE_URL": settings.database_url,
        "PAPERWIRE_MODEL_DIR": str(args.model_dir),
        "PAPERWIRE_SEMANTIC": "true",
        "PAPERWIRE_SYNC_SOURCES": "",
    }
    log_path = folder / "worker.log"
    total = args.base + args.papers
    say("starting `paperwire worker`...")
    with log_path.open("w") as log, MachineWatch() as machine:
        timeline = Timeline(time.perf_counter())
        worker = subprocess.Popen(
            [sys.executable, "-m", "paperwire", "worker", "--poll", "0.2"],
            env=env,
            stderr=log,
            cwd=PROJECT_ROOT,
        )
        cpu = 0.0
        try:
            deadline = time.monotonic() + args.timeout
            while "index job done" not in timeline.marks:
                if worker.poll() is not None:
                    raise BenchmarkFailed(
                        f"the worker exited ({worker.returncode}); see {log_path}"
                    )
                if time.monotonic() > deadline:
                    raise BenchmarkFailed(f"not done after {args.timeout:.0f} s; see {log_path}")
                cpu = tree_cpu_seconds(worker.pid)
                _observe(engine, context, timeline, total)
                time.sleep(POLL_S)
        finally:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=60)
            except subprocess.TimeoutExpired:
                worker.kill()
    meta = context.search.vector_meta()
    if meta is None or meta.count != total:
        raise BenchmarkFailed(f"the vector index holds {meta.count if meta else 0}, not {total}")

    say(f"searching for {args.sample} titles by meaning...")
    sample = random.Random(5).sample(fresh, min(args.sample, len(fresh)))
    first = top10 = 0
    for paper in sample:
        request = search_service.SearchRequest(query=paper["title"], mode="semantic", limit=10)
        results = search_service.search(engine, context.search, request)
        if results.mode != "semantic":
            raise BenchmarkFailed(f"the search fell back to {results.mode}: {results.notices}")
        ranked = [hit.paper.id for hit in results.hits]
        first += bool(ranked) and ranked[0] == paper["id"]
        top10 += paper["id"] in ranked
    context.close()

    marks = timeline.marks
    table = Table(
        f"`paperwire worker` makes {args.papers:,} new papers searchable "
        f"({args.base:,} indexed before; int8 MiniLM on ONNX Runtime)",
        ["milestone", "s after the worker started"],
    )
    for name in (
        "index job claimed",
        "keyword index updated (findable by words)",
        "embeddings computed",
        "vector index updated (findable by meaning)",
        "index job done",
    ):
        table.add(name, marks.get(name, float("nan")))
    embed_s = marks["embeddings computed"] - marks["keyword index updated (findable by words)"]
    table.notes.extend(
        [
            f"embedding: {args.papers / embed_s:.1f} papers/s; worker CPU {cpu:.0f} s; "
            f"other processes {machine.others(cpu)}",
            f"semantic search for the title of {len(sample)} new papers: first {first}, "
            f"top 10 {top10}",
            f"import of the {args.papers:,} papers before the worker: {import_watch.wall:.1f} s",
        ]
    )
    if top10 < len(sample) * 0.9:
        raise BenchmarkFailed(f"only {top10} of {len(sample)} titles found by meaning")
    return [table]


def _observe(engine: Engine, context: Context, timeline: Timeline, total: int) -> None:
    """Note the milestones reached since the last look."""
    with engine.connect() as conn:
        status = conn.execute(
            select(jobs.c.status).where(jobs.c.kind == "index").order_by(jobs.c.id.desc())
        ).scalar()
        keyword = conn.execute(select(func.count()).select_from(keyword_queue)).scalar_one()
        embedding = conn.execute(select(func.count()).select_from(embedding_queue)).scalar_one()
        written = search_state.embedding_seq(conn)
    if status in ("running", "done"):
        timeline.mark("index job claimed")
    if status is not None and keyword == 0:
        timeline.mark("keyword index updated (findable by words)")
    if status is not None and embedding == 0:
        timeline.mark("embeddings computed")
    meta = context.search.vector_meta()
    if embedding == 0 and meta is not None and meta.seq >= written and meta.count == total:
        timeline.mark("vector index updated (findable by meaning)")
    if status == "done":
        timeline.mark("index job done")
