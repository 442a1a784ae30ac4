"""site_state: named counters, starting with the content version pages are cached on

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 06:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    site_state = op.create_table(
        "site_state",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_site_state")),
    )
    op.bulk_insert(site_state, [{"name": "content_version", "value": 0}])


def downgrade() -> None:
    op.drop_table("site_state")
