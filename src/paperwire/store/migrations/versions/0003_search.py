"""search: keyword and embedding work queues, stored embeddings

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 10:00:00
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _queue(name: str) -> None:
    op.create_table(
        name,
        sa.Column("paper_id", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["paper_id"],
            ["papers.id"],
            name=op.f(f"fk_{name}_paper_id_papers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("paper_id", name=op.f(f"pk_{name}")),
    )


def upgrade() -> None:
    _queue("keyword_queue")
    _queue("embedding_queue")
    op.create_table(
        "embeddings",
        sa.Column("key", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("paper_id", sa.String(length=100), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["paper_id"],
            ["papers.id"],
            name=op.f("fk_embeddings_paper_id_papers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_embeddings")),
        sa.UniqueConstraint("paper_id", name=op.f("uq_embeddings_paper_id")),
    )
    op.create_index("ix_embeddings_seq", "embeddings", ["seq"])
    # Papers imported before search existed are indexed by the next `paperwire index`.
    op.execute("INSERT INTO keyword_queue (paper_id) SELECT id FROM papers")
    op.execute("INSERT INTO embedding_queue (paper_id) SELECT id FROM papers")
    op.bulk_insert(
        sa.table("site_state", sa.column("name", sa.String), sa.column("value", sa.Integer)),
        [
            {"name": "embedding_seq", "value": 0},
            # Names this database, so an index directory left from another one is rebuilt.
            {"name": "instance_id", "value": 1 + secrets.randbelow(2**31 - 2)},
        ],
    )


def downgrade() -> None:
    op.execute("DELETE FROM site_state WHERE name IN ('embedding_seq', 'instance_id')")
    op.drop_index("ix_embeddings_seq", table_name="embeddings")
    op.drop_table("embeddings")
    op.drop_table("embedding_queue")
    op.drop_table("keyword_queue")
