"""the claim page: internal notes, debunk drafts per claim and user, re-reports

Revision ID: 0016
Revises: 0014 (rebased onto 0015, the queue's search index, when both land)
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "claim_notes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "claim_id",
            sa.Integer,
            sa.ForeignKey("rumor_claims.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("author_role", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_index("ix_claim_notes_claim_created", "claim_notes", ["claim_id", "created_at"])
    op.create_table(
        "claim_drafts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "claim_id",
            sa.Integer,
            sa.ForeignKey("rumor_claims.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("console_users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("verdict", sa.String(16)),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("explanation", sa.Text, nullable=False),
        sa.Column("sources", sa.JSON, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.UniqueConstraint("claim_id", "user_id", name="uq_claim_drafts_claim_user"),
    )
    op.create_table(
        "rumor_re_reports",
        sa.Column(
            "report_id",
            sa.Integer,
            sa.ForeignKey("rumor_reports.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_index("ix_audit_log_target_at", "audit_log", ["target", "at"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_target_at", table_name="audit_log")
    op.drop_table("rumor_re_reports")
    op.drop_table("claim_drafts")
    op.drop_index("ix_claim_notes_claim_created", table_name="claim_notes")
    op.drop_table("claim_notes")
