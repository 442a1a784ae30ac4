"""The search resources of one process: index files, the vector reader, the embedder.

Nothing is opened until first used, so building a context stays cheap and a process
that never searches never loads the embedding model.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from paperwire.config import Settings
from paperwire.search.keyword import SCHEMA_VERSION, IndexLocked, KeywordIndex
from paperwire.search.vectors import VectorReader

if TYPE_CHECKING:
    from paperwire.search.embed import Embedder

KEYWORD_DIR = "keyword"
VECTOR_DIR = "vectors"
LOCK_FILE = "indexer.lock"


class SearchResources:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.directory = settings.search_index_dir
        self.vectors = VectorReader(self.directory / VECTOR_DIR)
        self._keyword: KeywordIndex | None = None
        self._embedder: Embedder | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def background(self) -> ThreadPoolExecutor:
        """Threads for the semantic half of hybrid searches (created on first use)."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(4, thread_name_prefix="search")
            return self._pool

    @property
    def keyword_path(self) -> Path:
        return self.directory / KEYWORD_DIR

    @property
    def vector_path(self) -> Path:
        return self.directory / VECTOR_DIR

    def keyword(self, instance_id: int) -> KeywordIndex | None:
        """The keyword index if one is built for this database (and this schema)."""
        with self._lock:
            meta = KeywordIndex.meta(self.keyword_path)
            valid = (
                meta is not None
                and meta.get("instance_id") == instance_id
                and meta.get("schema_version") == SCHEMA_VERSION
            )
            if not valid:
                self._keyword = None
            elif self._keyword is None:
                self._keyword = KeywordIndex.open(self.keyword_path)
            return self._keyword

    def set_keyword(self, index: KeywordIndex) -> None:
        with self._lock:
            self._keyword = index

    def embedder(self) -> Embedder:
        """The embedding model, loaded once; raises SemanticUnavailable with the reason."""
        from paperwire.search.embed import SemanticUnavailable, load_embedder

        if not self.settings.semantic:
            raise SemanticUnavailable("semantic search is turned off (PAPERWIRE_SEMANTIC=false)")
        with self._lock:
            if self._embedder is None:
                self._embedder = load_embedder(self.settings.model_cache_dir)
            return self._embedder

    @contextmanager
    def writing(self, wait: bool = True) -> Iterator[None]:
        """Hold the one-writer lock over the index directory (across processes)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError as error:
                raise IndexLocked(f"another process is updating {self.directory}") from error
            yield
        finally:
            os.close(descriptor)  # closing releases the lock
