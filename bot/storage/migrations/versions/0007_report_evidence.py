"""pictures kept as evidence of a rumour report

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "report_evidence",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "report_id",
            sa.Integer,
            sa.ForeignKey("rumor_reports.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("sender_hash", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("media_id", sa.String(128), nullable=False),
        sa.Column("pic_url", sa.String(512), nullable=True),
        sa.Column("content_type", sa.String(32), nullable=True),
        sa.Column("content", sa.LargeBinary, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.UniqueConstraint("channel", "media_id"),
    )
    op.create_index("ix_report_evidence_report_id", "report_evidence", ["report_id"])
    op.create_index("ix_report_evidence_sender_hash", "report_evidence", ["sender_hash"])
    op.create_index("ix_report_evidence_created_at", "report_evidence", ["created_at"])


def downgrade() -> None:
    op.drop_table("report_evidence")
