"""Search and related papers: the use cases the pages, the API and the CLI call.

Keyword candidates come from the tantivy index, semantic ones from the vector index;
hybrid fuses both lists by weighted reciprocal rank. Exact arXiv-id and exact-title
matches are pinned first. Every failure of the semantic side (extra not installed,
index not built, model error) becomes a notice and a keyword-only answer, never an error.
"""

from __future__ import annotations

import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from markupsafe import Markup
from sqlalchemy import Connection, Engine, select

from paperwire.clock import as_utc
from paperwire.models import Paper
from paperwire.search import indexer
from paperwire.search.hybrid import Fusion, pin_first, reciprocal_rank_fusion
from paperwire.search.keyword import IndexLocked
from paperwire.search.query import Filters, ParsedQuery, parse_query
from paperwire.search.resources import Keyword, SearchResources
from paperwire.search.snippets import highlight_title, query_terms, snippet
from paperwire.store import papers as paper_store
from paperwire.store import search_state
from paperwire.store.schema import keyword_queue, links, organizations, papers
from paperwire.store.sql import chunks
from paperwire.text import render_latex

Mode = Literal["keyword", "semantic", "hybrid"]
Sort = Literal["relevance", "date", "upvotes"]
MODES: tuple[Mode, ...] = ("hybrid", "keyword", "semantic")
SORTS: tuple[Sort, ...] = ("relevance", "date", "upvotes")

MAX_RESULTS = 1000  # how deep results go; sorting by date or upvotes reorders this many
CANDIDATES = 100  # per method, for fusion
SEMANTIC_DEPTH = 200  # nearest neighbours beyond this are not about the query any more
INLINE_INDEX_LIMIT = 500  # a backlog this small is indexed inside the search request


@dataclass(frozen=True, slots=True)
class SearchRequest:
    query: str
    mode: Mode = "hybrid"
    filters: Filters = field(default_factory=Filters)
    sort: Sort = "relevance"
    limit: int = 20
    offset: int = 0


@dataclass(slots=True)
class SearchHit:
    paper: Paper
    score: float
    title_html: Markup
    snippet_html: Markup
    keyword_rank: int | None = None
    semantic_rank: int | None = None
    pinned: str | None = None  # "arXiv id" or "title"


@dataclass(slots=True)
class SearchResults:
    request: SearchRequest
    parsed: ParsedQuery
    mode: Mode  # the mode that answered (keyword when semantic was unavailable)
    hits: list[SearchHit] = field(default_factory=list)
    total: int = 0
    notices: list[str] = field(default_factory=list)
    took_ms: float = 0.0


@dataclass(frozen=True, slots=True)
class _Facts:
    """What filters and sorting need to know about a candidate."""

    categories: frozenset[str]
    organization: str | None
    has_code: bool
    published: date | None
    upvotes: int
    authors: str  # casefolded, joined


def _facts(conn: Connection, paper_ids: list[str]) -> dict[str, _Facts]:
    found: dict[str, _Facts] = {}
    for ids in chunks(paper_ids, 500):
        with_code = set(
            conn.execute(
                select(links.c.paper_id).where(links.c.paper_id.in_(ids), links.c.kind == "code")
            ).scalars()
        )
        rows = conn.execute(
            select(
                papers.c.id,
                papers.c.categories,
                papers.c.authors,
                papers.c.submitted_at,
                (papers.c.imported_upvotes + papers.c.local_upvotes).label("upvotes"),
                organizations.c.slug,
            )
            .select_from(papers.outerjoin(organizations))
            .where(papers.c.id.in_(ids))
        )
        for row in rows:
            found[row.id] = _Facts(
                categories=frozenset(c.lower() for c in row.categories or []),
                organization=row.slug,
                has_code=row.id in with_code,
                published=_day(row.submitted_at),
                upvotes=int(row.upvotes or 0),
                authors=" | ".join(row.authors or []).casefold(),
            )
    return found


def _passes(facts: _Facts, filters: Filters, parsed: ParsedQuery) -> bool:
    """The keyword index's filters, applied to semantic candidates."""
    wanted = [c.lower() for c in filters.categories]
    if wanted and not facts.categories.intersection(wanted):
        return False
    query_categories = [c.lower() for c in parsed.categories]
    if query_categories and not facts.categories.intersection(query_categories):
        return False
    if filters.organization and facts.organization != filters.organization:
        return False
    if filters.has_code is not None and facts.has_code != filters.has_code:
        return False
    if filters.date_from or filters.date_to:
        if facts.published is None:
            return False
        if filters.date_from and facts.published < filters.date_from:
            return False
        if filters.date_to and facts.published > filters.date_to:
            return False
    return all(" ".join(a.casefold().split()) in facts.authors for a in parsed.authors)


class _Searcher:
    def __init__(self, engine: Engine, resources: SearchResources, fusion: Fusion) -> None:
        self.engine = engine
        self.resources = resources
        self.fusion = fusion
        self.notices: list[str] = []

    def _pending(self) -> tuple[int, int]:
        # A fresh connection each time: an open read transaction would not see the
        # queue shrink while this process indexes.
        with self.engine.connect() as conn:
            return search_state.instance_and_backlog(conn, keyword_queue)

    def keyword_index(self) -> Keyword | None:
        """The keyword index, first absorbing a small backlog so new papers are findable."""
        instance, backlog = self._pending()
        index = self.resources.keyword(instance)
        if index is None or 0 < backlog <= INLINE_INDEX_LIMIT:
            try:
                with self.resources.writing(wait=False):
                    indexer.update_keyword(self.engine, self.resources, limit=INLINE_INDEX_LIMIT)
            except IndexLocked:
                pass  # another process is indexing: answer from what is committed
            index = self.resources.keyword(instance)
            backlog = self._pending()[1]
        if index is None:
            self.notices.append("the keyword index is not built yet: run `paperwire index`")
            return None
        if backlog:
            self.notices.append(f"{backlog} papers are waiting to be indexed (paperwire index)")
        index.reload()
        return index

    def semantic(self, text: str, depth: int) -> list[str] | None:
        """Nearest papers to ``text``; None (with a notice) when semantic search is off."""
        if not self.resources.settings.semantic:
            self.notices.append("semantic search unavailable: turned off (PAPERWIRE_SEMANTIC)")
            return None
        from paperwire.search.embed import SemanticUnavailable, semantic_unavailable_reason

        # Cheap checks first: a fresh instance with no vectors never loads (or builds) the
        # model inside a search request.
        reason = semantic_unavailable_reason()
        meta = self.resources.vectors.available() if reason is None else None
        if reason is None and meta is None:
            reason = "the vector index is not built yet: run `paperwire index`"
        if reason is None:
            try:
                embedder = self.resources.embedder()
            except SemanticUnavailable as error:
                reason = str(error)
        if reason is not None or meta is None:
            self.notices.append(f"semantic search unavailable: {reason}")
            return None
        if meta.model != embedder.name:
            self.notices.append(
                "semantic search unavailable: the vectors were made by another model; "
                "run `paperwire index --reembed`"
            )
            return None
        vector = embedder.embed_queries([text])[0]
        neighbours = self.resources.vectors.search(vector, depth)
        with self.engine.connect() as conn:
            by_key = search_state.paper_ids_for_keys(conn, [key for key, _ in neighbours])
        return [by_key[key] for key, _ in neighbours if key in by_key]


def search(
    engine: Engine,
    resources: SearchResources,
    request: SearchRequest,
    fusion: Fusion | None = None,
) -> SearchResults:
    started = time.perf_counter()
    parsed = parse_query(request.query)
    searcher = _Searcher(engine, resources, fusion or Fusion())
    results = SearchResults(request=request, parsed=parsed, mode=request.mode)
    depth = min(max(CANDIDATES, request.offset + request.limit), MAX_RESULTS)
    if request.sort != "relevance":
        depth = MAX_RESULTS
    semantic_future: Future[list[str] | None] | None = None
    if request.mode != "keyword" and parsed.text:
        want = min(depth, SEMANTIC_DEPTH)
        if request.filters.any or parsed.has_filters:
            want *= 4  # filters drop some neighbours
        # Embedding the query and walking the vector graph release the GIL, as does
        # tantivy: on two cores both halves of a hybrid search run at once.
        semantic_future = resources.background().submit(searcher.semantic, parsed.text, want)
    index = searcher.keyword_index()
    with engine.connect() as conn:
        keyword_ranking: list[str] = []
        if index is not None and request.mode != "semantic" and not parsed.is_empty:
            found = index.search(parsed, request.filters, limit=depth)
            keyword_ranking = [paper_id for paper_id, _ in found.hits]
            results.total = found.total
        semantic_ranking = semantic_future.result() if semantic_future is not None else None
        if request.mode == "semantic" and semantic_ranking is None and index is not None:
            found = index.search(parsed, request.filters, limit=depth)  # the fallback
            keyword_ranking = [paper_id for paper_id, _ in found.hits]
            results.total = found.total
        if semantic_ranking is None:
            results.mode = "keyword"
            ranked = keyword_ranking
        else:
            if request.filters.any or parsed.has_filters:
                # Reading the candidates' facts costs more than the vector search itself,
                # so it happens only when there is something to filter on.
                facts = _facts(conn, semantic_ranking)
                semantic_ranking = [
                    pid
                    for pid in semantic_ranking
                    if pid in facts and _passes(facts[pid], request.filters, parsed)
                ]
            semantic_ranking = semantic_ranking[: min(depth, SEMANTIC_DEPTH)]
            if request.mode == "semantic":
                ranked = semantic_ranking
                results.total = len(ranked)
            else:
                fused = reciprocal_rank_fusion(
                    {"keyword": keyword_ranking, "semantic": semantic_ranking},
                    {
                        "keyword": searcher.fusion.keyword_weight,
                        "semantic": searcher.fusion.semantic_weight,
                    },
                    searcher.fusion.k,
                )
                ranked = [pid for pid, _ in fused]
                results.total = max(results.total, len(ranked))
        pins = _pins(conn, index, parsed, request.query)
        ranked = pin_first(ranked, pins) if request.sort == "relevance" else ranked
        ranked = _sorted(conn, ranked[:MAX_RESULTS], request.sort)
        results.total = max(results.total, len(ranked))
        page = ranked[request.offset : request.offset + request.limit]
        by_id = paper_store.papers_by_ids(conn, page)
    keyword_rank = {pid: i for i, pid in enumerate(keyword_ranking, start=1)}
    semantic_rank = {pid: i for i, pid in enumerate(semantic_ranking or [], start=1)}
    terms = query_terms(" ".join([*parsed.words, *parsed.phrases]))
    for position, paper_id in enumerate(page):
        paper = by_id.get(paper_id)
        if paper is None:
            continue  # indexed, then deleted from the store
        plain_title = "$" not in paper.title and "\\" not in paper.title
        results.hits.append(
            SearchHit(
                paper=paper,
                score=1.0 / (1 + request.offset + position),
                title_html=highlight_title(paper.title, terms)
                if plain_title
                else render_latex(paper.title),
                snippet_html=snippet(paper.abstract, terms),
                keyword_rank=keyword_rank.get(paper_id),
                semantic_rank=semantic_rank.get(paper_id),
                pinned=_pin_reason(paper_id, pins, parsed),
            )
        )
    results.notices.extend(searcher.notices)
    results.took_ms = (time.perf_counter() - started) * 1000
    return results


def _pins(conn: Connection, index: Keyword | None, parsed: ParsedQuery, raw: str) -> list[str]:
    candidates = list(parsed.arxiv_ids)
    if index is not None and parsed.words and not parsed.arxiv_ids:
        candidates.extend(index.exact_title(raw))
    if not candidates:
        return []
    existing = set(conn.execute(select(papers.c.id).where(papers.c.id.in_(candidates))).scalars())
    return [pid for pid in dict.fromkeys(candidates) if pid in existing]


def _pin_reason(paper_id: str, pins: list[str], parsed: ParsedQuery) -> str | None:
    if paper_id not in pins:
        return None
    return "arXiv id" if paper_id in parsed.arxiv_ids else "title"


def _sorted(conn: Connection, ranked: list[str], sort: Sort) -> list[str]:
    if sort == "relevance" or not ranked:
        return ranked
    facts = _facts(conn, ranked)
    if sort == "date":
        return sorted(
            ranked,
            key=lambda pid: facts[pid].published or date.min if pid in facts else date.min,
            reverse=True,
        )
    return sorted(ranked, key=lambda pid: facts[pid].upvotes if pid in facts else 0, reverse=True)


@dataclass(slots=True)
class Related:
    papers: list[tuple[Paper, float]]  # (paper, cosine similarity), nearest first
    notice: str | None = None


def related(engine: Engine, resources: SearchResources, paper_id: str, limit: int) -> Related:
    """The papers nearest to ``paper_id`` by embedding, itself excluded.

    Needs only stored vectors and the vector index, not the embedding model.
    """
    from paperwire.search.vectors import decode

    with engine.connect() as conn:
        stored = search_state.embedding_of(conn, paper_id)
    if stored is None:
        return Related([], "related papers appear once this paper's embedding is computed")
    meta = resources.vectors.available()
    if meta is None:
        return Related([], "related papers need the vector index: run `paperwire index`")
    if meta.model != stored.model:
        return Related([], "the vector index was built by another model: run `paperwire index`")
    neighbours = resources.vectors.search(decode(stored.vector), limit + 1)
    neighbours = [(key, sim) for key, sim in neighbours if key != stored.key][:limit]
    with engine.connect() as conn:
        by_key = search_state.paper_ids_for_keys(conn, [key for key, _ in neighbours])
        by_id = paper_store.papers_by_ids(conn, list(by_key.values()))
    return Related(
        [
            (by_id[by_key[key]], similarity)
            for key, similarity in neighbours
            if key in by_key and by_key[key] in by_id
        ]
    )


def _day(value: datetime | None) -> date | None:
    moment = as_utc(value)
    return moment.date() if moment is not None else None
