"""Search quality on SciFact (BEIR): nDCG@10 and recall@100 for each search mode.

The corpus (5,183 abstracts) goes in through the product's own path: written as the
generic JSON-lines format, imported by ``import_paths``, indexed by ``run_index`` (keyword
index, embeddings, vector index), and queried through ``search.service.search``, the
function behind ``/api/papers/search``. Reported on the test split (300 claims).

``--tune`` searches the fusion parameters and the title weight on the train split only
and prints the best; the defaults in ``search/hybrid.py`` and ``search/keyword.py`` come
from such a run. Goals: keyword >= 0.66 (published BM25: 0.665), hybrid >= 0.70.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import math
import shutil
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from benchmarks._common import CACHE_DIR, DATA_DIR, BenchmarkFailed, Stopwatch, Table, say

NAME = "quality"
HELP = "nDCG@10 and recall@100 on SciFact for keyword, semantic and hybrid search"

SCIFACT = DATA_DIR / "eval" / "scifact"
EXPECTED_DOCS = 5183
GOALS = {"keyword": 0.66, "hybrid": 0.70}
PREFIX = "scifact:"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workdir",
        type=Path,
        default=CACHE_DIR / "scifact",
        help="where the imported corpus and its indexes are kept between runs",
    )
    parser.add_argument("--fresh", action="store_true", help="import and index again")
    parser.add_argument(
        "--tune", action="store_true", help="tune fusion and field weights on the train split"
    )


def load_qrels(split: str) -> dict[str, set[str]]:
    relevant: dict[str, set[str]] = defaultdict(set)
    with (SCIFACT / "qrels" / f"{split}.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if int(row["score"]) > 0:
                relevant[row["query-id"]].add(PREFIX + row["corpus-id"])
    return relevant


def load_queries() -> dict[str, str]:
    with (SCIFACT / "queries.jsonl").open(encoding="utf-8") as handle:
        return {q["_id"]: q["text"] for q in map(json.loads, handle)}


def ndcg_at(ranked: Sequence[str], relevant: set[str], k: int = 10) -> float:
    dcg = sum(1 / math.log2(i + 2) for i, doc in enumerate(ranked[:k]) if doc in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), k)))
    return dcg / ideal if ideal else 0.0


def recall_at(ranked: Sequence[str], relevant: set[str], k: int = 100) -> float:
    return len(relevant.intersection(ranked[:k])) / len(relevant) if relevant else 0.0


def write_corpus(path: Path) -> int:
    """SciFact's corpus in paperwire's generic JSON-lines import format."""
    count = 0
    with (SCIFACT / "corpus.jsonl").open(encoding="utf-8") as source, path.open("w") as out:
        for doc in map(json.loads, source):
            record = {
                "id": PREFIX + doc["_id"],
                "source": "scifact",
                "title": doc["title"] or doc["text"][:80],
                "abstract": doc["text"] or doc["title"],
                "authors": ["Anonymous"],  # SciFact has none; the format requires one
                "published": "2020-01-01",
            }
            out.write(json.dumps(record) + "\n")
            count += 1
    return count


def prepare(workdir: Path, fresh: bool, semantic: bool = True) -> Any:
    """A context over SciFact, imported and indexed (reused when already there)."""
    from paperwire.config import Settings
    from paperwire.context import build_context
    from paperwire.ingest.pipeline import import_paths
    from paperwire.search import indexer
    from paperwire.store import migrate
    from paperwire.store.papers import count_papers

    if fresh and workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    settings = Settings(database_url=f"sqlite:///{workdir / 'scifact.db'}")
    context = build_context(settings)
    migrate.upgrade(context.engine)
    with context.engine.connect() as conn:
        stored = count_papers(conn)
    if stored != EXPECTED_DOCS:
        corpus = workdir / "corpus.jsonl"
        if write_corpus(corpus) != EXPECTED_DOCS:
            raise BenchmarkFailed(f"SciFact corpus is not {EXPECTED_DOCS} documents")
        say("quality: importing SciFact ...")
        summary = import_paths(context.engine, [corpus])
        if summary.skipped:
            raise BenchmarkFailed(f"{summary.skipped} SciFact records skipped")
    say("quality: indexing (keyword, embeddings, vectors) ...")
    with Stopwatch() as watch, context.search.writing():
        report = indexer.run_index(context.engine, context.search, semantic=semantic)
    if report.semantic_skipped:
        raise BenchmarkFailed(f"semantic search unavailable: {report.semantic_skipped}")
    say(f"quality: indexed in {watch.wall:.0f} s ({report.embedded} embedded)")
    return context


def rankings(context: Any, mode: str, queries: dict[str, str], ids: Sequence[str]) -> Any:
    from paperwire.search import service

    ranked: dict[str, list[str]] = {}
    for query_id in ids:
        request = service.SearchRequest(query=queries[query_id], mode=mode, limit=100)  # type: ignore[arg-type]
        results = service.search(context.engine, context.search, request)
        if results.mode != mode:
            raise BenchmarkFailed(f"{mode} search answered as {results.mode}: {results.notices}")
        ranked[query_id] = [hit.paper.id for hit in results.hits]
    return ranked


def score(ranked: dict[str, list[str]], qrels: dict[str, set[str]]) -> tuple[float, float]:
    ndcg = sum(ndcg_at(ranked[q], qrels[q]) for q in qrels) / len(qrels)
    recall = sum(recall_at(ranked[q], qrels[q]) for q in qrels) / len(qrels)
    return ndcg, recall


def tune(context: Any, queries: dict[str, str]) -> list[Table]:
    from paperwire.search.hybrid import Fusion, reciprocal_rank_fusion
    from paperwire.search.keyword import FieldWeights

    qrels = load_qrels("train")
    ids = list(qrels)
    with context.engine.connect() as conn:
        from paperwire.store.search_state import instance_id

        index = context.search.keyword(instance_id(conn))
    weights_table = Table(
        "Keyword field weights on SciFact train", ["title", "abstract", "nDCG@10", "recall@100"]
    )
    best_keyword: tuple[float, Any] = (-1.0, None)
    for title in (0.0, 0.2, 0.35, 0.5, 1.0):
        index.weights = FieldWeights(title=title)
        ndcg, recall = score(rankings(context, "keyword", queries, ids), qrels)
        weights_table.add(title, 1.0, f"{ndcg:.4f}", f"{recall:.4f}")
        best_keyword = max(best_keyword, (ndcg, index.weights), key=lambda pair: pair[0])
    index.weights = best_keyword[1]
    keyword = rankings(context, "keyword", queries, ids)
    semantic = rankings(context, "semantic", queries, ids)
    fusion_table = Table(
        "Hybrid fusion on SciFact train", ["k", "semantic weight", "nDCG@10", "recall@100"]
    )
    best: tuple[float, Fusion] = (-1.0, Fusion())
    for k, weight in itertools.product((5, 10, 20, 40, 60, 100), (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)):
        fusion = replace(Fusion(), k=float(k), semantic_weight=weight)
        fused = {
            q: [
                doc
                for doc, _ in reciprocal_rank_fusion(
                    {"keyword": keyword[q], "semantic": semantic[q]},
                    {"keyword": 1.0, "semantic": weight},
                    float(k),
                )
            ]
            for q in ids
        }
        ndcg, recall = score(fused, qrels)
        fusion_table.add(k, weight, f"{ndcg:.4f}", f"{recall:.4f}")
        best = max(best, (ndcg, fusion), key=lambda pair: pair[0])
    fusion_table.notes.append(f"best: {best[1]} (nDCG@10 {best[0]:.4f})")
    weights_table.notes.append(f"best: {best_keyword[1]} (nDCG@10 {best_keyword[0]:.4f})")
    return [weights_table, fusion_table]


def run(args: argparse.Namespace) -> list[Table]:
    if not SCIFACT.is_dir():
        raise BenchmarkFailed(f"missing {SCIFACT} (see ../shared/data/README.md)")
    context = prepare(args.workdir, args.fresh)
    try:
        queries = load_queries()
        if args.tune:
            return tune(context, queries)
        qrels = load_qrels("test")
        table = Table(
            f"SciFact test split ({len(qrels)} queries, {EXPECTED_DOCS:,} abstracts), "
            "through search.service.search",
            ["mode", "nDCG@10", "recall@100", "goal nDCG@10", "met", "ms/query"],
        )
        failed = []
        for mode in ("keyword", "semantic", "hybrid"):
            say(f"quality: {mode} ...")
            with Stopwatch() as watch:
                ranked = rankings(context, mode, queries, list(qrels))
            ndcg, recall = score(ranked, qrels)
            goal = GOALS.get(mode)
            met = "-" if goal is None else ("yes" if ndcg >= goal else "no")
            if goal is not None and ndcg < goal:
                failed.append(mode)
            table.add(
                mode,
                f"{ndcg:.3f}",
                f"{recall:.3f}",
                f"{goal:.2f}" if goal else "-",
                met,
                watch.wall * 1000 / len(qrels),
            )
        table.notes.append("published BM25 (BEIR, Elasticsearch): nDCG@10 0.665")
        if failed:
            table.notes.append(f"goal missed: {', '.join(failed)}")
        return [table]
    finally:
        context.close()
