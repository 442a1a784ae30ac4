"""Semantic and hybrid search, related papers and the index job, with the real model.

The corpus is a slice of SciFact (real abstracts with relevance labels), imported
through the generic JSON-lines format like any other source.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from databases import NewDatabase, database_environment
from paperwire.config import Settings
from paperwire.context import Context, build_context
from paperwire.ingest.pipeline import import_paths
from paperwire.search import indexer, service
from paperwire.store.schema import embedding_queue, embeddings
from paperwire.web.app import create_app

SCIFACT_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "eval" / "scifact"
CLAIMS = 25
OTHERS = 150


def _scifact_slice(tmp_path: Path) -> tuple[Path, dict[str, str], dict[str, set[str]]]:
    """The documents relevant to the first test claims, plus others, as generic JSON lines."""
    qrels: dict[str, set[str]] = {}
    with (SCIFACT_DIR / "qrels" / "test.tsv").open() as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            qrels.setdefault(row["query-id"], set()).add(row["corpus-id"])
    chosen = dict(list(qrels.items())[:CLAIMS])
    wanted = set().union(*chosen.values())
    claims = {}
    with (SCIFACT_DIR / "queries.jsonl").open() as handle:
        for query in map(json.loads, handle):
            if query["_id"] in chosen:
                claims[query["_id"]] = query["text"]
    path = tmp_path / "scifact.jsonl"
    extra = 0
    with (SCIFACT_DIR / "corpus.jsonl").open() as source, path.open("w") as out:
        for doc in map(json.loads, source):
            if doc["_id"] not in wanted:
                if extra >= OTHERS:
                    continue
                extra += 1
            record = {
                "id": f"sf:{doc['_id']}",
                "source": "scifact",
                "title": doc["title"],
                "abstract": doc["text"],
                "authors": ["Anonymous"],
                "published": "2020-01-01",
            }
            out.write(json.dumps(record) + "\n")
    relevant = {q: {f"sf:{d}" for d in docs} for q, docs in chosen.items()}
    return path, claims, relevant


@pytest.fixture
def indexed(semantic_settings: Settings, tmp_path: Path) -> Iterator[tuple[Context, dict, dict]]:
    path, claims, relevant = _scifact_slice(tmp_path)
    context = build_context(semantic_settings)
    assert import_paths(context.engine, [path]).skipped == 0
    with context.search.writing():
        report = indexer.run_index(context.engine, context.search)
    assert report.semantic_skipped is None
    assert report.embedded == report.vectors_added > CLAIMS
    yield context, claims, relevant
    context.close()


def _ids(context: Context, query: str, mode: str, limit: int = 10) -> list[str]:
    request = service.SearchRequest(query=query, mode=mode, limit=limit)  # type: ignore[arg-type]
    results = service.search(context.engine, context.search, request)
    assert results.mode == mode, results.notices
    return [hit.paper.id for hit in results.hits]


def _recall(context: Context, claims: dict, relevant: dict, mode: str) -> float:
    found = sum(bool(relevant[q] & set(_ids(context, text, mode))) for q, text in claims.items())
    return found / len(claims)


def test_every_mode_finds_the_evidence_for_claims(indexed: tuple[Context, dict, dict]) -> None:
    context, claims, relevant = indexed
    keyword = _recall(context, claims, relevant, "keyword")
    semantic = _recall(context, claims, relevant, "semantic")
    hybrid = _recall(context, claims, relevant, "hybrid")
    assert semantic >= 0.7
    assert keyword >= 0.7
    assert hybrid >= max(keyword, semantic) - 0.05


def test_semantic_search_matches_meaning_not_words(indexed: tuple[Context, dict, dict]) -> None:
    context, claims, relevant = indexed
    query_id, claim = next(iter(claims.items()))
    hits = _ids(context, claim, "semantic")
    assert relevant[query_id] & set(hits)
    request = service.SearchRequest(query=claim, mode="hybrid", limit=10)
    results = service.search(context.engine, context.search, request)
    matched = {(h.keyword_rank is not None, h.semantic_rank is not None) for h in results.hits}
    assert (True, True) in matched  # fused: found by both methods


def test_related_papers(indexed: tuple[Context, dict, dict]) -> None:
    context, _, relevant = indexed
    paper_id = sorted(next(iter(relevant.values())))[0]
    found = service.related(context.engine, context.search, paper_id, limit=5)
    assert found.notice is None
    assert len(found.papers) == 5
    assert paper_id not in [paper.id for paper, _ in found.papers]
    similarities = [similarity for _, similarity in found.papers]
    assert similarities == sorted(similarities, reverse=True)
    assert 0 < similarities[-1] <= similarities[0] < 1


def test_related_through_the_api_and_the_paper_page(indexed: tuple[Context, dict, dict]) -> None:
    context, _, relevant = indexed
    paper_id = sorted(next(iter(relevant.values())))[0]
    with TestClient(create_app(context.settings)) as client:
        response = client.get(f"/api/papers/{paper_id}/related", params={"limit": 3})
        assert response.status_code == 200
        body = response.json()
        assert len(body) == 3
        assert {"paper", "similarity"} <= body[0].keys()
        assert paper_id not in [item["paper"]["id"] for item in body]
        page = client.get(f"/papers/{paper_id}")
        assert "Related papers" in page.text
        assert body[0]["paper"]["id"] in page.text
        hybrid = client.get("/api/papers/search", params={"q": "vitamin D", "mode": "hybrid"})
        assert hybrid.headers["x-search-mode"] == "hybrid"
        assert "x-search-notice" not in hybrid.headers


def test_new_papers_become_findable_by_meaning_after_indexing(
    indexed: tuple[Context, dict, dict], tmp_path: Path
) -> None:
    context, _, _ = indexed
    source = tmp_path / "new.jsonl"
    source.write_text(
        json.dumps(
            {
                "id": "lab:owls",
                "source": "lab",
                "title": "Nocturnal raptors hunt by sound",
                "abstract": "Barn owls locate prey in darkness using asymmetric ears.",
                "authors": ["A. Birder"],
                "published": "2021-05-05",
            }
        )
        + "\n"
    )
    import_paths(context.engine, [source])
    assert "lab:owls" not in _ids(context, "how do birds find food at night", "semantic")
    with context.search.writing():
        report = indexer.run_index(context.engine, context.search)
    assert (report.embedded, report.vectors_added) == (1, 1)
    assert _ids(context, "how do birds find food at night", "semantic")[0] == "lab:owls"


class _FailingEmbedder:
    """The real embedder, failing after ``batches`` calls: a job killed mid-way."""

    def __init__(self, real: object, batches: int) -> None:
        self.real, self.left = real, batches
        self.name, self.dim = real.name, real.dim  # type: ignore[attr-defined]

    def embed_documents(self, texts: list[str]) -> object:
        if self.left == 0:
            raise RuntimeError("killed")
        self.left -= 1
        return self.real.embed_documents(texts)  # type: ignore[attr-defined]


def test_an_interrupted_embedding_job_resumes_without_duplicates(
    semantic_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _, _ = _scifact_slice(tmp_path)
    context = build_context(semantic_settings)
    import_paths(context.engine, [path])
    engine: Engine = context.engine
    with engine.connect() as conn:
        papers = conn.execute(select(func.count()).select_from(embedding_queue)).scalar_one()
    monkeypatch.setattr(indexer, "EMBEDDING_BATCH", 40)
    failing = _FailingEmbedder(context.search.embedder(), batches=2)
    with pytest.raises(RuntimeError, match="killed"):
        indexer.update_embeddings(engine, failing)  # type: ignore[arg-type]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(embeddings)).scalar_one() == 80
        left = conn.execute(select(func.count()).select_from(embedding_queue)).scalar_one()
        assert left == papers - 80
    with context.search.writing():
        report = indexer.run_index(context.engine, context.search)
    assert report.embedded == papers - 80
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(embeddings)).scalar_one() == papers
    meta = context.search.vector_meta()
    assert meta is not None
    assert meta.count == papers
    context.close()


def test_without_the_semantic_extra_search_falls_back_to_keyword(
    semantic_settings: Settings, tmp_path: Path
) -> None:
    path, _, _ = _scifact_slice(tmp_path)
    context = build_context(semantic_settings.model_copy(update={"semantic": False}))
    import_paths(context.engine, [path])
    context.close()
    script = (
        "import sys, json\n"
        "sys.modules['onnxruntime'] = None  # as if the extra were not installed\n"
        "from paperwire.config import Settings\n"
        "from paperwire.context import build_context\n"
        "from paperwire.search import service\n"
        f"s = Settings(database_url={semantic_settings.database_url!r}, "
        f"index_dir={str(semantic_settings.search_index_dir)!r}, "
        f"model_dir={str(tmp_path / 'no-model')!r})\n"
        "c = build_context(s)\n"
        "r = service.search(c.engine, c.search, service.SearchRequest('vitamin d'))\n"
        "print(json.dumps({'mode': r.mode, 'hits': len(r.hits), 'notices': r.notices}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["mode"] == "keyword"
    assert answer["hits"] > 0
    assert any("semantic" in notice for notice in answer["notices"])


def _cli(db: Settings, *args: str, model_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **database_environment(db), "PAPERWIRE_MODEL_DIR": str(model_dir)}
    return subprocess.run(
        [sys.executable, "-m", "paperwire", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


def test_the_cli_imports_indexes_and_searches(
    semantic_settings: Settings, tmp_path: Path, new_database: NewDatabase
) -> None:
    path, claims, relevant = _scifact_slice(tmp_path)
    db, models = new_database(), semantic_settings.model_cache_dir
    imported = _cli(db, "import", str(path), model_dir=models)
    assert imported.returncode == 0, imported.stderr
    assert "wait for their embeddings" in imported.stderr
    keyword = _cli(db, "search", "--mode", "keyword", "--json", "vitamin", model_dir=models)
    assert keyword.returncode == 0, keyword.stderr
    assert json.loads(keyword.stdout)  # findable by keyword right after the import
    indexed = _cli(db, "index", model_dir=models)
    assert indexed.returncode == 0, indexed.stderr
    assert "embeddings: " in indexed.stderr
    again = _cli(db, "index", model_dir=models)
    assert "0 papers indexed; embeddings: 0 computed; vector index: 0 added" in again.stderr
    answered = 0
    for query_id, claim in list(claims.items())[1:4]:
        found = _cli(db, "search", "--json", "--limit", "10", claim, model_dir=models)
        assert found.returncode == 0, found.stderr
        hits = json.loads(found.stdout)
        answered += bool(relevant[query_id] & {hit["paper"]["id"] for hit in hits})
    assert answered >= 2
    text = _cli(db, "search", claim, model_dir=models)
    assert "(hybrid, " in text.stdout


def test_index_refuses_to_run_twice_at_once(semantic_settings: Settings) -> None:
    context = build_context(semantic_settings)
    with context.search.writing():
        busy = _cli(
            semantic_settings,
            "index",
            "--keyword-only",
            model_dir=semantic_settings.model_cache_dir,
        )
    assert busy.returncode == 1
    assert "another process is updating" in busy.stderr
    context.close()


def test_related_papers_before_the_model_does_not_crash(
    indexed: tuple[Context, dict, dict],
) -> None:
    """A fresh process that opens the vector index before loading the model (a paper page,
    then a search) must survive: usearch loaded before onnxruntime used to segfault."""
    context, claims, relevant = indexed
    paper_id = sorted(next(iter(relevant.values())))[0]
    settings = context.settings
    claim = next(iter(claims.values()))
    script = (
        "import json\n"
        "from paperwire.config import Settings\n"
        "from paperwire.context import build_context\n"
        "from paperwire.search import service\n"
        f"s = Settings(database_url={settings.database_url!r}, "
        f"index_dir={str(settings.search_index_dir)!r}, "
        f"model_dir={str(settings.model_cache_dir)!r})\n"
        "c = build_context(s)\n"
        f"related = service.related(c.engine, c.search, {paper_id!r}, 3)\n"
        f"found = service.search(c.engine, c.search, service.SearchRequest({claim!r}))\n"
        "print(json.dumps([len(related.papers), found.mode]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [3, "hybrid"]
