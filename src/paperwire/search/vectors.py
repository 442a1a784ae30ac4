"""The vector index: approximate nearest neighbours (usearch HNSW) over stored embeddings.

The embeddings table is the truth; this file is derived from it and caught up
incrementally from the last ``seq`` it holds. A writer saves to a temporary file and
renames it into place, then writes the sidecar with the new watermark: readers never see
a half-written index, and a crash between the two only makes the next run re-apply rows
it already has (remove + add is idempotent). Readers memory-map the file and reopen it
when the sidecar changes.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INDEX_FILE = "vectors.usearch"
META_FILE = "vectors.json"
CONNECTIVITY = 16
EXPANSION_ADD = 128
EXPANSION_SEARCH = 512  # see docs/search.md: recall@10 0.97 on the 100k benchmark corpus


@dataclass(frozen=True, slots=True)
class VectorMeta:
    instance_id: int
    model: str
    seq: int  # every embedding with seq <= this is in the index
    count: int

    @classmethod
    def read(cls, directory: Path) -> VectorMeta | None:
        try:
            raw = json.loads((directory / META_FILE).read_text())
            return cls(
                int(raw["instance_id"]), str(raw["model"]), int(raw["seq"]), int(raw["count"])
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def write(self, directory: Path) -> None:
        temporary = directory / (META_FILE + ".tmp")
        temporary.write_text(
            json.dumps(
                {
                    "instance_id": self.instance_id,
                    "model": self.model,
                    "seq": self.seq,
                    "count": self.count,
                }
            )
        )
        os.replace(temporary, directory / META_FILE)


_PARAMETERS: dict[str, Any] = {
    "connectivity": CONNECTIVITY,
    "expansion_add": EXPANSION_ADD,
    "expansion_search": EXPANSION_SEARCH,
}


def _index_class() -> Any:
    # onnxruntime must be loaded before usearch: `import usearch.index; import onnxruntime`
    # kills the process with a segmentation fault (usearch 2.26, onnxruntime 1.32), and a
    # web process opens the vector index (related papers) before it loads the model.
    with contextlib.suppress(ImportError):
        import onnxruntime  # noqa: F401
    from usearch.index import Index

    return Index


def _new_index(dim: int) -> Any:
    return _index_class()(ndim=dim, metric="cos", dtype="f16", **_PARAMETERS)


def _restore(path: Path, *, view: bool) -> Any:
    """A saved index; the search parameters are not in the file, so they are given again."""
    return _index_class().restore(str(path), view=view, **_PARAMETERS)


def decode(blob: bytes) -> Any:
    """A stored embedding (float16 bytes) as a float32 vector."""
    import numpy as np

    return np.frombuffer(blob, dtype="<f2").astype(np.float32)


def encode(vector: Any) -> bytes:
    import numpy as np

    return bytes(np.asarray(vector, dtype="<f2").tobytes())


class VectorWriter:
    """Loads the index fully into memory, applies new embeddings, saves it atomically."""

    def __init__(self, directory: Path, dim: int, meta: VectorMeta | None) -> None:
        self.directory = directory
        self.meta = meta
        path = directory / INDEX_FILE
        restored = _restore(path, view=False) if meta is not None and path.exists() else None
        if restored is None:
            restored = _new_index(dim)
            self.meta = None
        self._index: Any = restored

    def expect(self, backlog: int) -> None:
        """The file index is built in memory either way: nothing to prepare."""

    def apply(self, keys: list[int], vectors: Any) -> None:
        import numpy as np

        key_array = np.asarray(keys, dtype=np.uint64)
        present = [key for key in keys if self._index.contains(key)]
        if present:
            self._index.remove(np.asarray(present, dtype=np.uint64))
        self._index.add(key_array, vectors)

    @property
    def count(self) -> int:
        return int(self._index.size)

    def save(self, meta: VectorMeta) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        temporary = self.directory / (INDEX_FILE + ".tmp")
        self._index.save(str(temporary))
        os.replace(temporary, self.directory / INDEX_FILE)
        meta.write(self.directory)
        self.meta = meta


class VectorReader:
    """A memory-mapped view of the saved index, reopened when a writer saves a new one."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._index: Any = None
        self._stamp: tuple[int, int] | None = None
        self.meta: VectorMeta | None = None

    def _current(self) -> Any:
        try:
            stat = (self.directory / META_FILE).stat()
        except OSError:
            self._index, self._stamp, self.meta = None, None, None
            return None
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            meta = VectorMeta.read(self.directory)
            index = _restore(self.directory / INDEX_FILE, view=True) if meta else None
            self._index, self._stamp, self.meta = index, stamp, meta
        return self._index

    def available(self) -> VectorMeta | None:
        """The index's metadata when it can be searched (built, and usearch installed)."""
        try:
            return self.meta if self._current() is not None else None
        except ImportError:
            return None

    def search(self, vector: Any, count: int) -> list[tuple[int, float]]:
        """(key, cosine similarity) of the nearest ``count`` vectors, nearest first."""
        index = self._current()
        if index is None or index.size == 0:
            return []
        matches = index.search(vector, min(count, int(index.size)))
        return [
            (int(key), 1.0 - float(distance))
            for key, distance in zip(matches.keys, matches.distances, strict=True)
        ]
