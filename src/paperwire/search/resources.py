"""The search resources of one process: the indexes, the vector reader, the embedder.

Which indexes depends on the database: on SQLite, files beside it (tantivy, usearch);
on PostgreSQL, tables in it (tsvector, pgvector), so web processes on several machines
share them. Nothing is opened until first used, so building a context stays cheap and
a process that never searches never loads the embedding model.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from paperwire.config import Settings
from paperwire.search import pg_vectors
from paperwire.search.keyword import SCHEMA_VERSION, IndexLocked, KeywordIndex
from paperwire.search.pg_keyword import PgKeywordIndex
from paperwire.search.pg_vectors import PgVectorReader, PgVectorWriter
from paperwire.search.vectors import (
    INDEX_FILE as VECTOR_INDEX_FILE,
)
from paperwire.search.vectors import (
    META_FILE as VECTOR_META_FILE,
)
from paperwire.search.vectors import VectorMeta, VectorReader, VectorWriter

if TYPE_CHECKING:
    from paperwire.search.embed import Embedder

KEYWORD_DIR = "keyword"
VECTOR_DIR = "vectors"
LOCK_FILE = "indexer.lock"
SEARCH_THREADS = 4  # the semantic halves of hybrid searches, beside the request threads
INDEXER_LOCK_ID = 0x70617065  # the PostgreSQL advisory lock of the one index writer

Keyword = KeywordIndex | PgKeywordIndex
VectorBuilder = VectorWriter | PgVectorWriter


class NearestVectors(Protocol):
    def available(self) -> VectorMeta | None: ...

    def search(self, vector: object, count: int) -> list[tuple[int, float]]: ...


class SearchResources:
    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        self.directory = settings.search_index_dir
        self.in_database = not settings.is_sqlite
        self._engine = engine
        self.vectors: NearestVectors = (
            PgVectorReader(self.engine)
            if self.in_database
            else VectorReader(self.directory / VECTOR_DIR)
        )
        self._keyword: Keyword | None = None
        self._embedder: Embedder | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    @property
    def engine(self) -> Engine:
        """The database the PostgreSQL indexes live in (created on first use if not given)."""
        if self._engine is None:
            # Without a pool: whoever built these resources without an engine (a script,
            # a test) is not left with open connections that keep the database busy.
            self._engine = create_engine(self.settings.database_url, poolclass=NullPool)
        return self._engine

    def background(self) -> ThreadPoolExecutor:
        """Threads for the semantic half of hybrid searches (created on first use)."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(SEARCH_THREADS, thread_name_prefix="search")
            return self._pool

    @property
    def keyword_path(self) -> Path:
        return self.directory / KEYWORD_DIR

    @property
    def vector_path(self) -> Path:
        return self.directory / VECTOR_DIR

    def keyword(self, instance_id: int) -> Keyword | None:
        """The keyword index if one is built for this database (and this schema)."""
        if self.in_database:
            with self.engine.connect() as conn:
                meta = PgKeywordIndex.meta(conn)
        else:
            meta = KeywordIndex.meta(self.keyword_path)
        with self._lock:
            valid = (
                meta is not None
                and meta.get("instance_id") == instance_id
                and meta.get("schema_version") == SCHEMA_VERSION
            )
            if not valid:
                self._keyword = None
            elif self._keyword is None:
                self._keyword = (
                    PgKeywordIndex(self.engine)
                    if self.in_database
                    else KeywordIndex.open(self.keyword_path)
                )
            return self._keyword

    def create_keyword(self, instance_id: int) -> Keyword:
        """A new, empty keyword index; the caller queues every paper for it."""
        index: Keyword = (
            PgKeywordIndex.create(self.engine, instance_id)
            if self.in_database
            else KeywordIndex.create(self.keyword_path, instance_id)
        )
        with self._lock:
            self._keyword = index
        return index

    def vector_meta(self) -> VectorMeta | None:
        """What the vector index holds (model, watermark), or None when it is not built."""
        if self.in_database:
            return pg_vectors.read_meta(self.engine)
        return VectorMeta.read(self.vector_path)

    def vector_writer(self, dim: int, meta: VectorMeta | None) -> VectorBuilder:
        if self.in_database:
            return PgVectorWriter(self.engine, dim, meta)
        return VectorWriter(self.vector_path, dim, meta)

    def drop_vectors(self) -> None:
        """Forget the vector index; the next update rebuilds it from stored embeddings."""
        if self.in_database:
            pg_vectors.drop(self.engine)
            return
        for name in (VECTOR_META_FILE, VECTOR_INDEX_FILE):
            (self.vector_path / name).unlink(missing_ok=True)

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
        """Hold the one-writer lock over the indexes (across processes, and on PostgreSQL
        across machines)."""
        if self.in_database:
            with self._advisory_lock(wait):
                yield
            return
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

    @contextmanager
    def _advisory_lock(self, wait: bool) -> Iterator[None]:
        # A session-level lock on a connection of its own, held while the caller indexes.
        with self.engine.connect() as conn:
            if wait:
                conn.execute(text(f"SELECT pg_advisory_lock({INDEXER_LOCK_ID})"))
            else:
                taken = conn.execute(text(f"SELECT pg_try_advisory_lock({INDEXER_LOCK_ID})"))
                if not taken.scalar_one():
                    conn.rollback()
                    raise IndexLocked("another process is updating the search indexes")
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text(f"SELECT pg_advisory_unlock({INDEXER_LOCK_ID})"))
                conn.commit()
