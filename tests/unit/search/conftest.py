"""Fixtures for the semantic-search embedder: the built model (once per session), real text."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from paperwire.search.embed import Embedder, document_text, load_embedder

LISTINGS_DIR = (
    Path(__file__).resolve().parents[3].parent / "shared" / "data" / "arxiv-daily-listings"
)
# A fixed sample: the first 200 distinct papers of one day's listing.
SAMPLE_FILE = "2025-03-18.jsonl.gz"
SAMPLE_SIZE = 200


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("embedding-model")


@pytest.fixture(scope="session")
def embedder(model_cache: Path) -> Embedder:
    """The int8 embedder, built from the packaged weights once per test process."""
    return load_embedder(model_cache)


@pytest.fixture(scope="session")
def abstracts() -> list[str]:
    path = LISTINGS_DIR / SAMPLE_FILE
    if not path.is_file():
        pytest.fail(f"the real data is missing: expected {path} (../shared/data)")
    seen: set[str] = set()
    texts: list[str] = []
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if record["id"] in seen:
                continue
            seen.add(record["id"])
            texts.append(document_text(record["title"], record["summary"]))
            if len(texts) == SAMPLE_SIZE:
                break
    assert len(texts) == SAMPLE_SIZE
    return texts
