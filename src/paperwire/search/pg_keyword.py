"""The keyword index on PostgreSQL: weighted ``tsvector`` documents with a GIN index.

The documents are built from paperwire's own analyzers (the ones tantivy uses on SQLite),
not from a PostgreSQL text-search configuration, so a word matches the same papers on
both backends; only the scoring differs (``ts_rank`` instead of BM25). Each lexeme is
weighted by where it occurs: A in the title, B in the abstract, C in the author names.
Author-name lexemes are prefixed with ``@``, so that a query word's stem never matches
a name and a name never matches a stem, as in tantivy's separate fields; the ranking
weighs each occurrence by its field with the boosts of ``FieldWeights``.

PostgreSQL scores every match of a query (there is no top-k pruning like tantivy's
block-max WAND), so a query of very common words would score a large part of the
archive. At most ``RANK_LIMIT`` matches are scored: below that the ranking is exact.
Above it, papers with a query word in their title are taken first (a small second
``tsvector`` finds them), then other matches, in no particular order (docs/postgresql.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Connection,
    Engine,
    Subquery,
    cast,
    delete,
    func,
    literal,
    literal_column,
    not_,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import TSQUERY, insert

from paperwire.search.analysis import content_stems, name_terms, stems, title_key
from paperwire.search.keyword import SCHEMA_VERSION, FieldWeights, KeywordDoc, KeywordHits
from paperwire.search.query import Filters, ParsedQuery
from paperwire.store.search_tables import search_documents, search_index_state

RANK_LIMIT = 5_000
NAME = "@"  # author-name lexemes carry it; the analyzers never emit it
RANK_FUNCTION = "ts_rank"
# No length normalization: of ts_rank's options, this ranks closest to tantivy's BM25
# (top-10 overlap 0.62 over 100 queries of five kinds on the HF archive; 0.60 with
# log-length normalization, 0.42 with length, 0.48 for ts_rank_cd).
RANK_NORMALIZATION = 0
_DOCS = search_documents.c


def _quote(lexeme: str) -> str:
    if "'" in lexeme or "\\" in lexeme:  # never from the analyzers, which split on both
        lexeme = lexeme.replace("\\", "\\\\").replace("'", "''")
    return f"'{lexeme}'"


def document_text(doc: KeywordDoc) -> str:
    """The ``tsvector`` literal of one paper: every term with its positions and weight."""
    positions: dict[str, list[str]] = {}
    fields = (
        (stems(doc.title), "A"),
        (stems(doc.abstract), "B"),
        # One analyzer call for every name (this runs for a million papers): a phrase
        # may run from one author's name into the next, as in tantivy's multi-valued field.
        ([NAME + term for term in name_terms("\n".join(doc.authors))], "C"),
    )
    start = 1
    for terms, weight in fields:
        for position, term in enumerate(terms, start):
            where = positions.get(term)
            label = f"{position}{weight}"  # PostgreSQL caps positions at 16,383 itself
            if where is None:
                positions[term] = [label]
            else:
                where.append(label)
        start += len(terms)
    return " ".join([f"{_quote(term)}:{','.join(where)}" for term, where in positions.items()])


def _phrase(terms: list[str]) -> str:
    return " <-> ".join(_quote(term) for term in terms)


def _rank_weights(weights: FieldWeights) -> str:
    """``ts_rank``'s weights for D, C, B, A, scaled so that the largest is 1."""
    title_word = weights.text + weights.title  # a title word scores in both fields
    scale = max(title_word, weights.text, weights.authors)
    values = (0.0, weights.authors / scale, weights.text / scale, title_word / scale)
    return "'{" + ",".join(f"{value:.4f}" for value in values) + "}'::real[]"


@dataclass(frozen=True, slots=True)
class _Plan:
    tsquery: ColumnElement[Any] | None  # everything a match needs
    any_word: ColumnElement[Any] | None  # the free words alone
    conditions: list[ColumnElement[bool]]  # the filters


class PgKeywordIndex:
    """The ``search_documents`` table, with the interface of the tantivy ``KeywordIndex``."""

    def __init__(self, engine: Engine, weights: FieldWeights | None = None) -> None:
        self.engine = engine
        self.weights = weights or FieldWeights()

    # -- identity ------------------------------------------------------------------------

    @staticmethod
    def meta(conn: Connection) -> dict[str, Any] | None:
        value = conn.execute(
            select(search_index_state.c.value).where(search_index_state.c.name == "keyword")
        ).scalar_one_or_none()
        return value if isinstance(value, dict) else None

    @classmethod
    def create(cls, engine: Engine, instance_id: int) -> PgKeywordIndex:
        """An empty index, replacing whatever was there (the caller queues every paper)."""
        meta = {"schema_version": SCHEMA_VERSION, "instance_id": instance_id}
        with engine.begin() as conn:
            conn.execute(delete(search_documents))
            statement = insert(search_index_state).values(name="keyword", value=meta)
            conn.execute(
                statement.on_conflict_do_update(
                    index_elements=["name"], set_={"value": statement.excluded.value}
                )
            )
        return cls(engine)

    # -- writing -------------------------------------------------------------------------

    @contextmanager
    def writer(self) -> Iterator[Connection]:
        """A transaction: the batch is visible to searches once it commits."""
        with self.engine.begin() as conn:
            yield conn

    def replace(self, writer: Connection, docs: Iterable[KeywordDoc]) -> int:
        rows = [
            {
                "paper_id": doc.paper_id,
                "document": document_text(doc),
                "title_terms": " ".join(_quote(term) for term in set(stems(doc.title))),
                "title_key": title_key(doc.title),
                "categories": [c.lower() for c in doc.categories],
                "organization": doc.organization,
                "has_code": doc.has_code,
                "published": doc.published,
            }
            for doc in docs
        ]
        if rows:
            statement = insert(search_documents)
            replaced = {name: statement.excluded[name] for name in rows[0] if name != "paper_id"}
            writer.execute(
                statement.on_conflict_do_update(index_elements=["paper_id"], set_=replaced),
                rows,
            )
        return len(rows)

    # -- reading -------------------------------------------------------------------------

    def reload(self) -> None:
        """Nothing to do: every query reads the committed table."""

    def num_docs(self) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(select(func.count()).select_from(search_documents)).scalar_one()
            )

    def search(
        self, parsed: ParsedQuery, filters: Filters, limit: int, offset: int = 0
    ) -> KeywordHits:
        plan = self._plan(parsed, filters)
        if plan is None:
            return KeywordHits([], 0)
        matches = self._candidates(plan)
        score: ColumnElement[Any] = (
            getattr(func, RANK_FUNCTION)(
                literal_column(_rank_weights(self.weights)),
                matches.c.document,
                plan.tsquery,
                RANK_NORMALIZATION,
            )
            if plan.tsquery is not None
            else literal(0.0)
        )
        # Without words every match scores alike: newest first, as the lists show them.
        tie_break = [matches.c.published.desc().nulls_last(), matches.c.paper_id]
        ranked = (
            select(matches.c.paper_id, score.label("score"), func.count().over().label("total"))
            .order_by(score.desc(), *tie_break)
            .limit(limit)
            .offset(offset)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(ranked).all()
        total = int(rows[0].total) if rows else 0
        return KeywordHits([(row.paper_id, float(row.score)) for row in rows], total)

    @staticmethod
    def _candidates(plan: _Plan) -> Subquery:
        """At most RANK_LIMIT matching papers, those with a query word in the title first."""
        columns = (_DOCS.paper_id, _DOCS.document, _DOCS.published)
        conditions = list(plan.conditions)
        if plan.tsquery is not None:
            conditions.append(_DOCS.document.op("@@", return_type=Boolean)(plan.tsquery))
        if plan.any_word is None:
            return select(*columns).where(*conditions).limit(RANK_LIMIT).subquery()
        in_title = _DOCS.title_terms.op("@@", return_type=Boolean)(plan.any_word)
        # The title test first: PostgreSQL keeps the written order of equally costly
        # conditions, and a paper that fails it never has its large (TOASTed) document
        # read. Same rows, 1.5-3x faster for common words at a million papers.
        first = select(*columns).where(in_title, *conditions).limit(RANK_LIMIT).subquery()
        rest = select(*columns).where(not_(in_title), *conditions).limit(RANK_LIMIT).subquery()
        # PostgreSQL reads the second branch only when the first has too few rows.
        both = union_all(select(first), select(rest)).subquery()
        return select(both).limit(RANK_LIMIT).subquery()

    def exact_title(self, text: str) -> list[str]:
        key = title_key(text)
        if not key:
            return []
        with self.engine.connect() as conn:
            found = conn.execute(select(_DOCS.paper_id).where(_DOCS.title_key == key).limit(5))
            return list(found.scalars())

    def _plan(self, parsed: ParsedQuery, filters: Filters) -> _Plan | None:
        """The ``tsquery`` and the filter conditions; None when nothing can match.

        The same clauses as the tantivy query (keyword.py), in ``tsquery`` syntax.
        """
        words = " ".join(parsed.words)
        # Stems match in the title and abstract, "@"-names in author names: the fields of
        # tantivy's union, told apart by the lexemes themselves, so GIN answers exactly
        # without re-reading documents (a weight restriction would make it re-read them).
        stemmed = content_stems(words) or stems(words)
        names = [NAME + term for term in name_terms(words)]
        should = [_quote(term) for term in dict.fromkeys([*stemmed, *names])]
        must: list[str | None] = [self._any_field(p, author_too=True) for p in parsed.phrases]
        must.extend(self._any_field(author, author_too=False) for author in parsed.authors)
        conditions: list[ColumnElement[bool]] = []
        for categories in (parsed.categories, filters.categories):
            if categories:
                conditions.append(_DOCS.categories.overlap([c.lower() for c in categories]))
        if filters.organization:
            conditions.append(_DOCS.organization == filters.organization)
        if filters.has_code is not None:
            conditions.append(_DOCS.has_code.is_(filters.has_code))
        if filters.date_from:
            conditions.append(_DOCS.published >= filters.date_from)
        if filters.date_to:
            conditions.append(_DOCS.published <= filters.date_to)
        if None in must or not (should or must or conditions):
            return None  # e.g. a phrase of no indexable words: it matches nothing
        clauses = [f"( {clause} )" for clause in must if clause is not None]
        if should:
            clauses.append("( " + " | ".join(should) + " )")
        clauses.extend("!" + _quote(term) for text in parsed.excluded for term in stems(text))
        return _Plan(
            tsquery=cast(" & ".join(clauses), TSQUERY) if clauses else None,
            any_word=cast(" | ".join(should), TSQUERY) if should else None,
            conditions=conditions,
        )

    @staticmethod
    def _any_field(text: str, *, author_too: bool) -> str | None:
        """A phrase in the title or abstract (or the authors); None without indexable words."""
        options = []
        if author_too and (terms := stems(text)):
            options.append(_phrase(terms))
        if names := name_terms(text):
            options.append(_phrase([NAME + name for name in names]))
        return " | ".join(f"( {option} )" for option in options) if options else None
