"""The keyword index: field-weighted BM25 over tantivy, with top-k pruning.

tantivy answers a union of term queries with block-max WAND, so a query of common words
does not score every matching paper (SQLite FTS5 does, and takes 130-320 ms at 200k
papers). To keep that fast path, every free-text word becomes boosted term queries
in ONE flat boolean query; phrases, exclusions and filters are extra clauses.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from paperwire.search.analysis import (
    NAMES,
    STEMMED,
    analyzers,
    content_stems,
    name_terms,
    stems,
    title_key,
)
from paperwire.search.query import Filters, ParsedQuery

# Bump when the schema or the analyzers change: an index of another version is rebuilt.
SCHEMA_VERSION = 2
META_FILE = "paperwire.json"
_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class FieldWeights:
    """BM25 boosts. ``text`` holds title and abstract together, and a title word also
    scores in ``title``: so a word in the title counts more than one in the abstract
    (title > authors > abstract) without a short title field drowning out the abstract.
    ``title`` was tuned on SciFact train (`python -m benchmarks quality --tune`: 0.2 beat
    0, 0.35, 0.5 and 1.0). SciFact has no authors, so ``authors`` is untuned: set between
    a title word (1.2 in all) and an abstract word (1.0).
    """

    text: float = 1.0
    title: float = 0.2
    authors: float = 1.1


@dataclass(frozen=True, slots=True)
class KeywordDoc:
    paper_id: str
    title: str
    abstract: str
    authors: list[str]
    categories: list[str]
    organization: str | None  # slug
    has_code: bool
    published: date | None


@dataclass(frozen=True, slots=True)
class KeywordHits:
    hits: list[tuple[str, float]]  # (paper_id, score), best first
    total: int  # how many papers match


class IndexLocked(RuntimeError):
    """Another process is writing the keyword index."""


def _day_number(day: date) -> int:
    return (day - _EPOCH).days


def _schema() -> Any:
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("title", tokenizer_name=STEMMED)
    builder.add_text_field("title_key", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("authors", tokenizer_name=NAMES)
    builder.add_text_field("text", tokenizer_name=STEMMED)  # title, then abstract
    builder.add_text_field("category", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("organization", tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("has_code", indexed=True)
    builder.add_integer_field("published", indexed=True, fast=True)
    return builder.build()


class KeywordIndex:
    """One tantivy index directory. Many processes may read it; one writes at a time."""

    def __init__(self, path: Path, index: Any, weights: FieldWeights) -> None:
        self.path = path
        self._index = index
        self._schema = index.schema
        self.weights = weights

    # -- opening -------------------------------------------------------------------------

    @staticmethod
    def meta(path: Path) -> dict[str, Any] | None:
        """The index's identity (schema version, database instance), or None if absent."""
        try:
            meta = json.loads((path / META_FILE).read_text())
        except (OSError, ValueError):
            return None
        return meta if isinstance(meta, dict) else None

    @classmethod
    def open(cls, path: Path, weights: FieldWeights | None = None) -> KeywordIndex:
        import tantivy

        index = tantivy.Index.open(str(path))
        for name, analyzer in analyzers().items():
            index.register_tokenizer(name, analyzer)
        return cls(path, index, weights or FieldWeights())

    @classmethod
    def create(
        cls, path: Path, instance_id: int, weights: FieldWeights | None = None
    ) -> KeywordIndex:
        """A new empty index at ``path``, replacing whatever was there."""
        import tantivy

        if path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True)
        index = tantivy.Index(_schema(), path=str(path))
        for name, analyzer in analyzers().items():
            index.register_tokenizer(name, analyzer)
        meta = {"schema_version": SCHEMA_VERSION, "instance_id": instance_id}
        (path / META_FILE).write_text(json.dumps(meta))
        return cls(path, index, weights or FieldWeights())

    # -- writing -------------------------------------------------------------------------

    @contextmanager
    def writer(self) -> Iterator[Any]:
        """Exclusive writer; committed on success, rolled back on error."""
        try:
            writer = self._index.writer(64_000_000, 1)
        except ValueError as error:
            raise IndexLocked(f"the keyword index at {self.path} is being written") from error
        try:
            yield writer
            writer.commit()
            writer.wait_merging_threads()
        except BaseException:
            writer.rollback()
            raise
        finally:
            del writer  # releases the lock file
        self._index.reload()

    def replace(self, writer: Any, docs: Iterable[KeywordDoc]) -> int:
        """Add or replace documents (by paper id); returns how many."""
        import tantivy

        count = 0
        for doc in docs:
            writer.delete_documents_by_term("id", doc.paper_id)
            fields: dict[str, Any] = {
                "id": doc.paper_id,
                "title": doc.title,
                "title_key": title_key(doc.title),
                "authors": doc.authors,
                "text": f"{doc.title}\n{doc.abstract}",
                "category": [c.lower() for c in doc.categories],
                "has_code": int(doc.has_code),
            }
            if doc.organization:
                fields["organization"] = doc.organization
            if doc.published is not None:
                fields["published"] = _day_number(doc.published)
            writer.add_document(tantivy.Document(**fields))
            count += 1
        return count

    # -- reading -------------------------------------------------------------------------

    def reload(self) -> None:
        """See commits other processes made (tantivy only polls for them)."""
        self._index.reload()

    def num_docs(self) -> int:
        return int(self._index.searcher().num_docs)

    def search(
        self, parsed: ParsedQuery, filters: Filters, limit: int, offset: int = 0
    ) -> KeywordHits:
        query = self._query(parsed, filters)
        if query is None:
            return KeywordHits([], 0)
        searcher = self._index.searcher()
        result = searcher.search(query, limit=limit, offset=offset, count=True)
        hits = [(searcher.doc(address)["id"][0], float(score)) for score, address in result.hits]
        return KeywordHits(hits, int(result.count or 0))

    def exact_title(self, text: str) -> list[str]:
        """Papers whose title is exactly ``text`` (ignoring case and punctuation)."""
        import tantivy

        key = title_key(text)
        if not key:
            return []
        searcher = self._index.searcher()
        query = tantivy.Query.term_query(self._schema, "title_key", key)
        return [searcher.doc(address)["id"][0] for _, address in searcher.search(query, 5).hits]

    def _query(self, parsed: ParsedQuery, filters: Filters) -> Any | None:
        import tantivy

        occur, query, schema, w = tantivy.Occur, tantivy.Query, self._schema, self.weights
        should: list[Any] = []
        words = " ".join(parsed.words)
        for term in dict.fromkeys(content_stems(words) or stems(words)):
            should.append(query.boost_query(query.term_query(schema, "title", term), w.title))
            should.append(query.boost_query(query.term_query(schema, "text", term), w.text))
        for term in dict.fromkeys(name_terms(words)):
            should.append(query.boost_query(query.term_query(schema, "authors", term), w.authors))
        must: list[Any] = [self._any_field(p, ("text", "authors")) for p in parsed.phrases]
        must.extend(self._any_field(author, ("authors",)) for author in parsed.authors)
        for categories in (parsed.categories, filters.categories):
            if categories:
                lowered = [c.lower() for c in categories]
                must.append(query.term_set_query(schema, "category", lowered))
        if filters.organization:
            must.append(query.term_query(schema, "organization", filters.organization))
        if filters.has_code is not None:
            must.append(query.term_query(schema, "has_code", int(filters.has_code)))
        if filters.date_from or filters.date_to:
            low, high = filters.date_from, filters.date_to
            must.append(
                query.range_query(
                    schema,
                    "published",
                    tantivy.FieldType.Integer,
                    _day_number(low) if low else None,
                    _day_number(high) if high else None,
                )
            )
        if None in must or not (should or must):
            return None  # e.g. a phrase of no indexable words: it matches nothing
        excluded = [
            query.term_query(schema, "text", term)
            for text in parsed.excluded
            for term in stems(text)
        ]
        any_word = query.boolean_query([(occur.Should, clause) for clause in should])
        if not must and not excluded:
            return any_word  # the fast path: one flat union, pruned by block-max WAND
        clauses = [(occur.Must, clause) for clause in must]
        if should:
            clauses.append((occur.Must, any_word))  # at least one word still has to match
        clauses.extend((occur.MustNot, clause) for clause in excluded)
        return query.boolean_query(clauses)

    def _any_field(self, text: str, fields: tuple[str, ...]) -> Any | None:
        """A phrase in any of ``fields``: None when it has no indexable word."""
        import tantivy

        options = []
        for field in fields:
            terms = name_terms(text) if field == "authors" else stems(text)
            if not terms:
                continue
            if len(terms) == 1:
                options.append(tantivy.Query.term_query(self._schema, field, terms[0]))
            else:
                words: list[str | tuple[int, str]] = list(terms)
                options.append(tantivy.Query.phrase_query(self._schema, field, words))
        if not options:
            return None
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in options])
