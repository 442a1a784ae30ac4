"""postgresql search: tsvector documents, pgvector HNSW vectors (PostgreSQL only)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 16:00:00
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# The same graph parameters as the usearch file index (search/vectors.py).
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 128

PGVECTOR_MISSING = (
    "paperwire on PostgreSQL needs the pgvector extension (0.7 or newer, for halfvec). "
    "Install it on the server (e.g. `apt install postgresql-16-pgvector` from the PGDG "
    "repository) and run `CREATE EXTENSION vector;` as a superuser in this database, "
    "then `paperwire db upgrade` again: see docs/postgresql.md"
)


def _create_pgvector() -> None:
    bind = op.get_bind()
    present = bind.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'vector'")).first()
    if present:
        return
    try:
        with bind.begin_nested():
            bind.execute(text("CREATE EXTENSION vector"))
    except DBAPIError as error:
        raise RuntimeError(f"{PGVECTOR_MISSING} ({error.orig})") from error


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return  # SQLite keeps its search indexes in files beside the database
    _create_pgvector()
    op.execute(
        """
        CREATE TABLE search_documents (
            paper_id VARCHAR(100) PRIMARY KEY REFERENCES papers (id) ON DELETE CASCADE,
            document TSVECTOR NOT NULL,
            title_terms TSVECTOR NOT NULL,
            title_key TEXT NOT NULL,
            categories TEXT[] NOT NULL,
            organization VARCHAR(100),
            has_code BOOLEAN NOT NULL,
            published DATE
        )
        """
    )
    op.execute("CREATE INDEX ix_search_documents_document ON search_documents USING gin (document)")
    op.execute(
        "CREATE INDEX ix_search_documents_title_terms ON search_documents USING gin (title_terms)"
    )
    op.execute("CREATE INDEX ix_search_documents_title_key ON search_documents (title_key)")
    op.execute(
        "CREATE INDEX ix_search_documents_categories ON search_documents USING gin (categories)"
    )
    op.execute(
        "CREATE TABLE vector_index (key INTEGER PRIMARY KEY, embedding HALFVEC(384) NOT NULL)"
    )
    op.execute(
        "CREATE INDEX ix_vector_index_embedding ON vector_index "
        f"USING hnsw (embedding halfvec_cosine_ops) "
        f"WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION})"
    )
    op.execute(
        "CREATE TABLE search_index_state (name VARCHAR(40) PRIMARY KEY, value JSON NOT NULL)"
    )
    # No index state yet: the next `paperwire index` (or search) queues every paper.


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute("DROP TABLE search_index_state")
    op.execute("DROP TABLE vector_index")
    op.execute("DROP TABLE search_documents")
    # The extension stays: other databases or schemas may use it.
