"""knowledge drafts: entries written from knowledge gaps, published by an expert

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "knowledge_drafts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("topic", sa.String(16), nullable=False),
        sa.Column("title", sa.String(60), nullable=False),
        sa.Column("questions", sa.JSON, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("steps", sa.JSON, nullable=False),
        sa.Column("source", sa.JSON, nullable=False),
        sa.Column("reviewed_on", sa.Date),
        sa.Column("gap_example", sa.Text, nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("approver", sa.String(64)),
        sa.Column("entry_id", sa.String(80)),
        sa.Column("note", sa.String(200), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("knowledge_drafts")
