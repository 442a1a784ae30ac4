"""The vector index on PostgreSQL: pgvector ``halfvec`` rows with an HNSW index.

It mirrors the usearch file (vectors.py): rows keyed by ``embeddings.key``, caught up
from the last embedding ``seq`` it holds, and a state row playing the sidecar's part
(instance, model, watermark). Applying a batch is an upsert, so re-applying rows after
a crash between a batch and the state row is harmless.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, bindparam, cast, delete, func, select, text
from sqlalchemy.dialects.postgresql import insert

from paperwire.search.vectors import EXPANSION_SEARCH, VectorMeta
from paperwire.store.search_tables import (
    EMBEDDING_DIM,
    HalfVector,
    search_index_state,
    vector_index,
)

_STATE = "vectors"
# Migration 0007's index. Building it once over loaded rows is several times faster than
# inserting a large backlog into the graph row by row (pgvector's own advice), so a
# rebuild from scratch drops it first and creates it again when the rows are in.
HNSW_INDEX = "ix_vector_index_embedding"
CREATE_HNSW_INDEX = (
    f"CREATE INDEX IF NOT EXISTS {HNSW_INDEX} ON vector_index "
    "USING hnsw (embedding halfvec_cosine_ops) WITH (m = 16, ef_construction = 128)"
)
BULK_BUILD_ROWS = 50_000  # a fresh index with at least this many embeddings is bulk-built


def vector_literal(vector: Any) -> str:
    """pgvector's text form, ``[x,y,...]``; float16 values print exactly in a few digits."""
    return "[" + ",".join(map(str, vector.tolist())) + "]"


def read_meta(engine: Engine) -> VectorMeta | None:
    with engine.connect() as conn:
        value = conn.execute(
            select(search_index_state.c.value).where(search_index_state.c.name == _STATE)
        ).scalar_one_or_none()
    if not isinstance(value, dict):
        return None
    try:
        return VectorMeta(
            int(value["instance_id"]), str(value["model"]), int(value["seq"]), int(value["count"])
        )
    except (TypeError, KeyError, ValueError):
        return None


def drop(engine: Engine) -> None:
    """Forget the index; the next update rebuilds it from the stored embeddings."""
    with engine.begin() as conn:
        conn.execute(delete(search_index_state).where(search_index_state.c.name == _STATE))
        conn.execute(text("TRUNCATE vector_index"))
        conn.execute(text(CREATE_HNSW_INDEX))  # back, if a bulk build was interrupted


class PgVectorWriter:
    """Applies embeddings to ``vector_index``; ``save`` records the new watermark."""

    def __init__(self, engine: Engine, dim: int, meta: VectorMeta | None) -> None:
        if dim != EMBEDDING_DIM:
            raise ValueError(
                f"the PostgreSQL vector index holds {EMBEDDING_DIM}-dimensional vectors, "
                f"the model makes {dim}: a migration must change vector_index first"
            )
        self.engine = engine
        self.meta = meta
        self._bulk = False
        if meta is None:
            drop(engine)  # another model's or another database's vectors: start again

    def expect(self, backlog: int) -> None:
        """Told how many embeddings a fresh index is about to receive."""
        if self.meta is None and backlog >= BULK_BUILD_ROWS:
            with self.engine.begin() as conn:
                conn.execute(text(f"DROP INDEX IF EXISTS {HNSW_INDEX}"))
            self._bulk = True

    def apply(self, keys: list[int], vectors: Any) -> None:
        rows = [
            {"key": int(key), "embedding": vector_literal(vector)}
            for key, vector in zip(keys, vectors, strict=True)
        ]
        statement = insert(vector_index).values(
            key=bindparam("key"), embedding=cast(bindparam("embedding"), HalfVector(EMBEDDING_DIM))
        )
        statement = statement.on_conflict_do_update(
            index_elements=["key"], set_={"embedding": statement.excluded.embedding}
        )
        with self.engine.begin() as conn:
            conn.execute(statement, rows)

    @property
    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(vector_index)).scalar_one())

    def save(self, meta: VectorMeta) -> None:
        if self._bulk:
            with self.engine.connect() as conn:
                conn.execute(text("SET maintenance_work_mem = '2GB'"))
                conn.execute(text(CREATE_HNSW_INDEX))
                conn.commit()
            self._bulk = False
        value = {
            "instance_id": meta.instance_id,
            "model": meta.model,
            "seq": meta.seq,
            "count": meta.count,
        }
        statement = insert(search_index_state).values(name=_STATE, value=value)
        with self.engine.begin() as conn:
            conn.execute(
                statement.on_conflict_do_update(
                    index_elements=["name"], set_={"value": statement.excluded.value}
                )
            )
        self.meta = meta


class PgVectorReader:
    """Nearest neighbours through the HNSW index, as ``VectorReader`` answers them."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def available(self) -> VectorMeta | None:
        return read_meta(self.engine)

    def search(self, vector: Any, count: int) -> list[tuple[int, float]]:
        """(key, cosine similarity) of the nearest ``count`` vectors, nearest first."""
        # HNSW returns at most ef_search rows; the file index searches as wide.
        breadth = min(max(EXPANSION_SEARCH, count), 1000)
        query = text(
            "SELECT key, embedding <=> CAST(:vector AS halfvec) AS distance "
            "FROM vector_index ORDER BY embedding <=> CAST(:vector AS halfvec) LIMIT :count"
        )
        with self.engine.begin() as conn:
            conn.execute(text(f"SET LOCAL hnsw.ef_search = {int(breadth)}"))
            rows = conn.execute(query, {"vector": vector_literal(vector), "count": count}).all()
        return [(int(row.key), 1.0 - float(row.distance)) for row in rows]
