"""Search bookkeeping in the store: work queues, stored embeddings, the database's id.

The store is the truth; the keyword and vector indexes are files derived from it. These
queues say which papers' index entries are out of date, so indexing is incremental,
resumable, and safe to interrupt at any point.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, Select, Table, delete, func, insert, select, true, update

from paperwire.store.schema import embedding_queue, embeddings, keyword_queue, papers, site_state
from paperwire.store.sql import chunks, insert_ignoring_conflicts

IN_CHUNK = 500
EMBEDDING_SEQ = "embedding_seq"
INSTANCE_ID = "instance_id"


def _enqueue(conn: Connection, queue: Table, paper_ids: Iterable[str]) -> None:
    rows = [{"paper_id": pid} for pid in dict.fromkeys(paper_ids)]
    if rows:
        conn.execute(insert_ignoring_conflicts(conn, queue), rows)


def enqueue_keyword(conn: Connection, paper_ids: Iterable[str]) -> None:
    """Mark papers whose keyword document changed; call in the writing transaction."""
    _enqueue(conn, keyword_queue, paper_ids)


def enqueue_embedding(conn: Connection, paper_ids: Iterable[str]) -> None:
    """Mark papers whose title or abstract changed; call in the writing transaction."""
    _enqueue(conn, embedding_queue, paper_ids)


def enqueue_all(conn: Connection, queue: Table) -> None:
    # SQLite needs a WHERE before ON CONFLICT in INSERT ... SELECT to parse it.
    every_paper = select(papers.c.id).where(true())
    conn.execute(insert_ignoring_conflicts(conn, queue).from_select(["paper_id"], every_paper))


def pending(conn: Connection, queue: Table, limit: int) -> list[str]:
    """Up to ``limit`` queued paper ids, in a stable order."""
    rows = conn.execute(select(queue.c.paper_id).order_by(queue.c.paper_id).limit(limit))
    return list(rows.scalars())


def count_pending(conn: Connection, queue: Table) -> int:
    return int(conn.execute(select(func.count()).select_from(queue)).scalar_one())


def done(conn: Connection, queue: Table, paper_ids: list[str]) -> None:
    for ids in chunks(paper_ids, IN_CHUNK):
        conn.execute(delete(queue).where(queue.c.paper_id.in_(ids)))


def _counter(conn: Connection, name: str) -> int:
    value = conn.execute(select(site_state.c.value).where(site_state.c.name == name))
    return int(value.scalar_one_or_none() or 0)


def instance_and_backlog(conn: Connection, queue: Table) -> tuple[int, int]:
    """This database's instance id and the queue's length, in one round trip."""
    instance = select(site_state.c.value).where(site_state.c.name == INSTANCE_ID).scalar_subquery()
    backlog = select(func.count()).select_from(queue).scalar_subquery()
    row = conn.execute(select(instance, backlog)).one()
    return int(row[0] or 0), int(row[1])


def instance_id(conn: Connection) -> int:
    """A random number the migrations gave this database."""
    return _counter(conn, INSTANCE_ID)


def embedding_seq(conn: Connection) -> int:
    return _counter(conn, EMBEDDING_SEQ)


@dataclass(frozen=True, slots=True)
class StoredEmbedding:
    key: int
    paper_id: str
    model: str
    vector: bytes
    seq: int


def save_embeddings(conn: Connection, model: str, vectors: dict[str, bytes]) -> int:
    """Insert or replace embeddings; returns the seq this batch was written under.

    A replaced embedding keeps its key, so the vector index updates it in place.
    """
    conn.execute(
        update(site_state)
        .where(site_state.c.name == EMBEDDING_SEQ)
        .values(value=site_state.c.value + 1)
    )
    seq = embedding_seq(conn)
    ids = list(vectors)
    existing: set[str] = set()
    for part in chunks(ids, IN_CHUNK):
        existing.update(
            conn.execute(
                select(embeddings.c.paper_id).where(embeddings.c.paper_id.in_(part))
            ).scalars()
        )
    new_rows = [
        {"paper_id": pid, "model": model, "vector": vectors[pid], "seq": seq}
        for pid in ids
        if pid not in existing
    ]
    if new_rows:
        conn.execute(insert(embeddings), new_rows)
    for pid in existing:
        conn.execute(
            update(embeddings)
            .where(embeddings.c.paper_id == pid)
            .values(model=model, vector=vectors[pid], seq=seq)
        )
    return seq


def _embedding_select() -> Select[tuple[int, str, str, bytes, int]]:
    return select(
        embeddings.c.key,
        embeddings.c.paper_id,
        embeddings.c.model,
        embeddings.c.vector,
        embeddings.c.seq,
    )


def embeddings_since(conn: Connection, seq: int, limit: int) -> list[StoredEmbedding]:
    """Embeddings written after ``seq``, oldest first, in whole seqs.

    A seq is never split between two calls, so the caller can use the last row's seq as
    its exact watermark.
    """
    query = _embedding_select().where(embeddings.c.seq > seq)
    rows = conn.execute(query.order_by(embeddings.c.seq, embeddings.c.key).limit(limit)).all()
    if len(rows) == limit:
        last = rows[-1].seq
        rows = [row for row in rows if row.seq != last] or conn.execute(
            _embedding_select().where(embeddings.c.seq == last).order_by(embeddings.c.key)
        ).all()
    return [StoredEmbedding(r.key, r.paper_id, r.model, r.vector, r.seq) for r in rows]


def count_embeddings_since(conn: Connection, seq: int) -> int:
    query = select(func.count()).select_from(embeddings).where(embeddings.c.seq > seq)
    return int(conn.execute(query).scalar_one())


def embedding_of(conn: Connection, paper_id: str) -> StoredEmbedding | None:
    row = conn.execute(_embedding_select().where(embeddings.c.paper_id == paper_id)).first()
    return (
        None
        if row is None
        else StoredEmbedding(row.key, row.paper_id, row.model, row.vector, row.seq)
    )


def paper_ids_for_keys(conn: Connection, keys: list[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for part in chunks(keys, IN_CHUNK):
        rows = conn.execute(
            select(embeddings.c.key, embeddings.c.paper_id).where(embeddings.c.key.in_(part))
        )
        found.update({row.key: row.paper_id for row in rows})
    return found


def count_embeddings(conn: Connection, model: str | None = None) -> int:
    query = select(func.count()).select_from(embeddings)
    if model is not None:
        query = query.where(embeddings.c.model == model)
    return int(conn.execute(query).scalar_one())
