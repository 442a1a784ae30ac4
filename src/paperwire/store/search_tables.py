"""PostgreSQL's search indexes, kept in the database itself.

On SQLite the keyword and vector indexes are files beside the database (tantivy,
usearch). On PostgreSQL they are these tables, so every web process on every machine
reads the same index and none keeps state of its own: a weighted ``tsvector`` with a GIN
index for keywords, a pgvector ``halfvec`` column with an HNSW index for embeddings.

They live in their own ``MetaData``: they exist only on PostgreSQL (migration 0007), and
``paperwire db copy`` copies the store, not derived indexes, which the next
``paperwire index`` rebuilds from the store.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR
from sqlalchemy.types import UserDefinedType

EMBEDDING_DIM = 384  # all-MiniLM-L6-v2; an HNSW index needs a fixed dimension


class HalfVector(UserDefinedType[Any]):
    """pgvector's ``halfvec(n)``: float16, half the size of ``vector`` (like the file index)."""

    cache_ok = True

    def __init__(self, dim: int) -> None:
        self.dim = dim

    def get_col_spec(self, **_kw: Any) -> str:
        return f"halfvec({self.dim})"


search_metadata = MetaData()

# One row per indexed paper: what tantivy's document holds in the file index. ``document``
# is built from paperwire's own analyzers (search/analysis.py), so both backends match
# the same words; title terms carry weight A, title + abstract B, authors C.
search_documents = Table(
    "search_documents",
    search_metadata,
    Column("paper_id", String(100), ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("document", TSVECTOR, nullable=False),
    Column("title_terms", TSVECTOR, nullable=False),  # small: which papers to rank first
    Column("title_key", Text, nullable=False),
    Column("categories", ARRAY(Text), nullable=False),  # lowercased
    Column("organization", String(100)),  # slug
    Column("has_code", Boolean, nullable=False),
    Column("published", Date),
)
Index("ix_search_documents_document", search_documents.c.document, postgresql_using="gin")
Index("ix_search_documents_title_terms", search_documents.c.title_terms, postgresql_using="gin")
Index("ix_search_documents_title_key", search_documents.c.title_key)
Index("ix_search_documents_categories", search_documents.c.categories, postgresql_using="gin")

# The vector index: the embeddings table's vectors as pgvector values, caught up from the
# last embedding ``seq`` it holds, like the usearch file.
vector_index = Table(
    "vector_index",
    search_metadata,
    Column("key", Integer, primary_key=True, autoincrement=False),  # embeddings.key
    Column("embedding", HalfVector(EMBEDDING_DIM), nullable=False),
)
Index(
    "ix_vector_index_embedding",
    vector_index.c.embedding,
    postgresql_using="hnsw",
    postgresql_with={"m": 16, "ef_construction": 128},  # as migration 0007 builds it
    postgresql_ops={"embedding": "halfvec_cosine_ops"},
)

# What the file indexes keep in their sidecar files: schema version, model, watermark.
search_index_state = Table(
    "search_index_state",
    search_metadata,
    Column("name", String(40), primary_key=True),  # "keyword" or "vectors"
    Column("value", JSON, nullable=False),
)
