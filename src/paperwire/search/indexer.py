"""Bring the search indexes up to date with the store: the `paperwire index` job.

Each step drains a work queue in batches; a batch leaves the queue only after the index
that absorbed it has committed. Interrupting a step at any point loses nothing, and the
next run goes on from where it stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, select

from paperwire.clock import as_utc
from paperwire.search.keyword import KeywordDoc
from paperwire.search.resources import Keyword, SearchResources
from paperwire.search.vectors import VectorMeta, decode, encode
from paperwire.store import search_state
from paperwire.store.schema import embedding_queue, keyword_queue, links, organizations, papers
from paperwire.store.sql import chunks
from paperwire.store.state import bump_content_version

if TYPE_CHECKING:
    from paperwire.search.embed import Embedder

KEYWORD_BATCH = 5000
EMBEDDING_BATCH = 256
VECTOR_BATCH = 20_000

Progress = Callable[[int], None]  # told how many more items are done
StartProgress = Callable[[str, int | None], Progress]  # a named step with its total


@dataclass(slots=True)
class IndexReport:
    keyword_docs: int = 0
    embedded: int = 0
    vectors_added: int = 0
    semantic_skipped: str | None = None  # why no embeddings were computed


def _keyword_docs(conn: Connection, paper_ids: list[str]) -> list[KeywordDoc]:
    rows = conn.execute(
        select(
            papers.c.id,
            papers.c.title,
            papers.c.abstract,
            papers.c.authors,
            papers.c.categories,
            papers.c.submitted_at,
            organizations.c.slug,
        )
        .select_from(papers.outerjoin(organizations))
        .where(papers.c.id.in_(paper_ids))
    ).all()
    with_code: set[str] = set(
        conn.execute(
            select(links.c.paper_id).where(links.c.paper_id.in_(paper_ids), links.c.kind == "code")
        ).scalars()
    )
    return [
        KeywordDoc(
            paper_id=row.id,
            title=row.title,
            abstract=row.abstract,
            authors=list(row.authors or []),
            categories=list(row.categories or []),
            organization=row.slug,
            has_code=row.id in with_code,
            published=_day(row.submitted_at),
        )
        for row in rows
    ]


def open_keyword_index(engine: Engine, resources: SearchResources) -> Keyword:
    """The keyword index, created (and every paper queued) when missing or foreign."""
    with engine.connect() as conn:
        instance = search_state.instance_id(conn)
    index = resources.keyword(instance)
    if index is None:
        index = resources.create_keyword(instance)
        with engine.begin() as conn:
            search_state.enqueue_all(conn, keyword_queue)
    return index


def update_keyword(
    engine: Engine,
    resources: SearchResources,
    progress: Progress | None = None,
    limit: int | None = None,
) -> int:
    """Index queued papers; returns how many. Call while holding ``resources.writing()``."""
    index = open_keyword_index(engine, resources)
    done = 0
    while limit is None or done < limit:
        batch_size = KEYWORD_BATCH if limit is None else min(KEYWORD_BATCH, limit - done)
        with engine.connect() as conn:
            paper_ids = search_state.pending(conn, keyword_queue, batch_size)
            docs = [doc for ids in chunks(paper_ids, 500) for doc in _keyword_docs(conn, ids)]
        if not paper_ids:
            break
        with index.writer() as writer:
            index.replace(writer, docs)
        with engine.begin() as conn:
            search_state.done(conn, keyword_queue, paper_ids)
        done += len(paper_ids)
        if progress is not None:
            progress(len(paper_ids))
    return done


def update_embeddings(engine: Engine, embedder: Embedder, progress: Progress | None = None) -> int:
    """Embed queued papers' title + abstract into the store; returns how many."""
    from paperwire.search.embed import document_text

    done = 0
    while True:
        with engine.connect() as conn:
            paper_ids = search_state.pending(conn, embedding_queue, EMBEDDING_BATCH)
            rows = conn.execute(
                select(papers.c.id, papers.c.title, papers.c.abstract).where(
                    papers.c.id.in_(paper_ids)
                )
            ).all()
        if not paper_ids:
            return done
        matrix = embedder.embed_documents([document_text(r.title, r.abstract) for r in rows])
        vectors = {row.id: encode(vector) for row, vector in zip(rows, matrix, strict=True)}
        with engine.begin() as conn:
            search_state.save_embeddings(conn, embedder.name, vectors)
            search_state.done(conn, embedding_queue, paper_ids)
        done += len(paper_ids)
        if progress is not None:
            progress(len(paper_ids))


def update_vectors(
    engine: Engine,
    resources: SearchResources,
    model: str,
    dim: int,
    progress: Progress | None = None,
) -> int:
    """Add embeddings newer than the vector index's watermark; returns how many."""
    import numpy as np

    with engine.connect() as conn:
        instance = search_state.instance_id(conn)
    meta = resources.vector_meta()
    if meta is not None and (meta.instance_id != instance or meta.model != model):
        meta = None  # another database's or another model's vectors: start again
    writer = resources.vector_writer(dim, meta)
    seq = writer.meta.seq if writer.meta is not None else 0
    with engine.connect() as conn:
        writer.expect(search_state.count_embeddings_since(conn, seq))
    added = 0
    while True:
        with engine.connect() as conn:
            rows = search_state.embeddings_since(conn, seq, VECTOR_BATCH)
        if not rows:
            break
        writer.apply([row.key for row in rows], np.stack([decode(row.vector) for row in rows]))
        seq = rows[-1].seq
        added += len(rows)
        if progress is not None:
            progress(len(rows))
    if added or writer.meta is None:
        writer.save(VectorMeta(instance, model, seq, writer.count))
        with engine.begin() as conn:
            bump_content_version(conn)  # cached paper pages show related papers
    return added


def pending_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            "keyword": search_state.count_pending(conn, keyword_queue),
            "embedding": search_state.count_pending(conn, embedding_queue),
            "embeddings": search_state.count_embeddings(conn),
        }


def rebuild_keyword(engine: Engine, resources: SearchResources) -> None:
    """Start the keyword index afresh; the next update_keyword fills it from the store."""
    with engine.connect() as conn:
        instance = search_state.instance_id(conn)
    resources.create_keyword(instance)
    with engine.begin() as conn:
        search_state.enqueue_all(conn, keyword_queue)


def requeue_embeddings(engine: Engine) -> None:
    """Embed every paper again (after a model change: `paperwire index --reembed`)."""
    with engine.begin() as conn:
        search_state.enqueue_all(conn, embedding_queue)


def _no_progress(_name: str, _total: int | None) -> Progress:
    return lambda _n: None


def run_index(
    engine: Engine,
    resources: SearchResources,
    *,
    rebuild: bool = False,
    reembed: bool = False,
    semantic: bool = True,
    start: StartProgress = _no_progress,
) -> IndexReport:
    """Every step in order: keyword index, embeddings, vector index.

    Call while holding ``resources.writing()``. When the embedding model is unavailable
    the keyword index is still brought up to date and the report says why.
    """
    report = IndexReport()
    if rebuild:
        rebuild_keyword(engine, resources)
        resources.drop_vectors()
    pending = pending_counts(engine)
    report.keyword_docs = update_keyword(
        engine, resources, start("keyword index", pending["keyword"])
    )
    if not semantic:
        return report
    from paperwire.search.embed import SemanticUnavailable

    try:
        embedder = resources.embedder()
    except SemanticUnavailable as error:
        report.semantic_skipped = str(error)
        return report
    if reembed:
        requeue_embeddings(engine)
    pending = pending_counts(engine)
    report.embedded = update_embeddings(engine, embedder, start("embeddings", pending["embedding"]))
    report.vectors_added = update_vectors(
        engine, resources, embedder.name, embedder.dim, start("vector index", None)
    )
    return report


def _day(value: datetime | None) -> date | None:
    moment = as_utc(value)
    return moment.date() if moment is not None else None
