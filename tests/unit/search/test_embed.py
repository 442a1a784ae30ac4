"""The int8 MiniLM embedder: faithful to sentence-transformers, robust, cached once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from paperwire.search import embed, model_build
from paperwire.search.embed import (
    DIM,
    Embedder,
    document_text,
    load_embedder,
    semantic_unavailable_reason,
)

MIN_COSINE = 0.99


def _reference(texts: list[str]) -> np.ndarray:
    """The vectors of sentence-transformers itself, loaded from the packaged model."""
    import torch
    from sentence_transformers import SentenceTransformer

    model_dir = embed._model_dir()
    assert model_dir is not None
    threads = torch.get_num_threads()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        torch.set_num_threads(1)  # two workers on two cores: keep them off each other
    try:
        with pytest.MonkeyPatch.context() as env:
            env.setenv("HF_HUB_OFFLINE", "1")
            model = SentenceTransformer(str(model_dir), device="cpu")
            assert model.max_seq_length == embed.MAX_TOKENS
            vectors = model.encode(
                texts, batch_size=16, normalize_embeddings=True, show_progress_bar=False
            )
    finally:
        torch.set_num_threads(threads)
    return np.asarray(vectors, dtype=np.float32)


def test_vectors_match_sentence_transformers(embedder: Embedder, abstracts: list[str]) -> None:
    ours = embedder.embed_documents(abstracts)
    cosine = np.sum(ours * _reference(abstracts), axis=1)
    assert cosine.min() >= MIN_COSINE, f"worst abstract: {abstracts[int(cosine.argmin())]!r}"
    assert cosine.mean() >= 0.995


def test_queries_are_normalized_float32_and_repeatable(embedder: Embedder) -> None:
    queries = [
        "graph neural networks",
        "diffusion models for protein design",
        "graph neural networks",
    ]
    vectors = embedder.embed_queries(queries)
    assert vectors.shape == (3, DIM)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(vectors[0], vectors[2])
    np.testing.assert_array_equal(vectors[0], embedder.embed_queries(["graph neural networks"])[0])
    assert float(vectors[0] @ vectors[1]) < 0.9


@pytest.mark.parametrize("method", ["embed_queries", "embed_documents"])
def test_no_texts_give_an_empty_matrix(embedder: Embedder, method: str) -> None:
    vectors = getattr(embedder, method)([])
    assert vectors.shape == (0, DIM)
    assert vectors.dtype == np.float32


def test_hostile_text_does_not_crash(embedder: Embedder) -> None:
    junk = ("\x00 \ufffd ☃ 𝔸𝕓 e\u0301 \u200b <b>&amp; \t\n" * 400)[:10_000]
    texts = ["", "   ", junk, "a" * 10_000, "数学 の 論文 🙂"]
    for method in (embedder.embed_queries, embedder.embed_documents):
        vectors = method(texts)
        assert vectors.shape == (len(texts), DIM)
        assert np.isfinite(vectors).all()
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)


def test_documents_come_back_in_input_order(embedder: Embedder, abstracts: list[str]) -> None:
    # Lengths from 3 tokens to truncated at 256, shuffled, so any reordering would show.
    texts = [abstracts[0][:40], abstracts[1], "short", abstracts[2][:300], abstracts[3]]
    together = embedder.embed_documents(texts)
    alone = np.vstack([embedder.embed_documents([text]) for text in texts])
    np.testing.assert_allclose(together, alone, atol=1e-6)


def test_document_text_collapses_whitespace() -> None:
    assert document_text("  A  title\n", "An\tabstract\n  on two lines ") == (
        "A title An abstract on two lines"
    )


def test_name_and_dim_identify_the_model(embedder: Embedder) -> None:
    assert embedder.dim == DIM == 384
    assert embedder.name == f"all-MiniLM-L6-v2/onnx-{model_build.RECIPE_VERSION}"


def _cached_models(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix == ".onnx" and not p.name.startswith("."))


def test_second_load_reuses_the_cache(model_cache: Path, embedder: Embedder) -> None:
    [built] = _cached_models(model_cache)
    before = built.stat().st_mtime_ns
    again = load_embedder(model_cache)
    assert _cached_models(model_cache) == [built]
    assert built.stat().st_mtime_ns == before
    text = ["cached models give the same vectors"]
    np.testing.assert_array_equal(again.embed_queries(text), embedder.embed_queries(text))


def test_unreadable_cache_files_are_ignored_or_rebuilt(
    model_cache: Path, embedder: Embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    [good] = _cached_models(model_cache)
    builds: list[Path] = []

    def copy_instead_of_building(_model_dir: Path, dest: Path) -> None:
        builds.append(dest)  # a real build takes 15 s; the session fixture already did one
        shutil.copyfile(good, dest)

    monkeypatch.setattr(model_build, "build_model", copy_instead_of_building)
    model_dir = embed._model_dir()
    assert model_dir is not None
    target = embed.model_path(tmp_path, model_dir)
    assert target.name == good.name  # the name depends on the recipe and weights, not the folder

    # A build that died half-way leaves only its temporary file, which nothing reads.
    (tmp_path / ".partial-dead.onnx").write_bytes(b"\x08\x07 half a model")
    # A complete file can only appear by rename, but a disk can still damage one.
    target.write_bytes(b"not an onnx model")
    recovered = load_embedder(tmp_path)
    assert builds == [builds[0]]
    assert builds[0].parent == tmp_path
    assert builds[0].name.startswith(".partial-")
    assert target.read_bytes() == good.read_bytes()
    assert not builds[0].exists()
    assert not (tmp_path / ".partial-dead.onnx").exists()  # removed by the next build
    text = ["recovered from a broken cache"]
    np.testing.assert_array_equal(recovered.embed_queries(text), embedder.embed_queries(text))


def test_everything_needed_is_installed_here() -> None:
    assert semantic_unavailable_reason() is None


HIDDEN_MODULE = textwrap.dedent(
    """
    import sys
    sys.modules["onnxruntime"] = None  # as if the 'semantic' extra were not installed
    from pathlib import Path
    from paperwire.search import embed
    heavy = sorted({"numpy", "onnxruntime", "tokenizers", "torch"} & {
        name for name, module in sys.modules.items() if module is not None
    })
    print("imported:", ",".join(heavy))
    print("reason:", embed.semantic_unavailable_reason())
    try:
        embed.load_embedder(Path(sys.argv[1]))
    except embed.SemanticUnavailable as error:
        print("raised:", error)
    print("torch:", "torch" in sys.modules)
    """
)


def test_a_missing_module_is_reported_not_raised_on_import(tmp_path: Path) -> None:
    src = Path(embed.__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(src)}
    result = subprocess.run(
        [sys.executable, "-c", HIDDEN_MODULE, str(tmp_path / "cache")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    assert lines["imported"] == ""  # importing embed imports none of the heavy modules
    assert "'semantic' extra" in lines["reason"]
    assert "pip install 'paperwire[semantic]'" in lines["reason"]
    assert "onnxruntime" in lines["reason"]
    assert lines["raised"] == lines["reason"]
    assert lines["torch"] == "False"
    assert not (tmp_path / "cache").exists()


COLD_START = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from paperwire.search.embed import load_embedder
    vector = load_embedder(Path(sys.argv[1])).embed_queries(["a fresh process"])[0]
    print(len(vector), "torch" in sys.modules, "transformers" in sys.modules)
    """
)


def test_a_built_model_loads_without_torch(model_cache: Path, embedder: Embedder) -> None:
    before = sorted(model_cache.iterdir())
    src = Path(embed.__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", COLD_START, str(model_cache)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(src)},
        timeout=120,
        check=True,
    )
    assert result.stdout.split() == [str(DIM), "False", "False"]
    assert sorted(model_cache.iterdir()) == before
