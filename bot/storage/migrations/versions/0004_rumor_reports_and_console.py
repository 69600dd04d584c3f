"""rumour claims and reports, verdict deliveries; console users, tokens, sessions, audit log

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "rumor_claims",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("match_text", sa.Text, nullable=False),
        sa.Column("harm", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("verdict", sa.String(16)),
        sa.Column("explanation", sa.Text),
        sa.Column("sources", sa.JSON),
        sa.Column("entry_id", sa.String(80)),
        sa.Column("assignee", sa.String(64)),
        sa.Column("merged_into", sa.Integer, sa.ForeignKey("rumor_claims.id")),
        sa.Column("reporters", sa.Integer, nullable=False),
        sa.Column("reports", sa.Integer, nullable=False),
        sa.Column("channels", sa.JSON, nullable=False),
        sa.Column("priority", sa.Float, nullable=False),
        sa.Column("first_seen", TZ, nullable=False),
        sa.Column("last_seen", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    for column in ("status", "priority", "last_seen"):
        op.create_index(f"ix_rumor_claims_{column}", "rumor_claims", [column])
    op.create_table(
        "rumor_reports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("public_id", sa.String(16), nullable=False, unique=True),
        sa.Column("idempotency_key", sa.String(64), nullable=False, unique=True),
        sa.Column("claim_id", sa.Integer, sa.ForeignKey("rumor_claims.id"), nullable=False),
        sa.Column("sender_hash", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("seen_where", sa.String(16)),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    for column in ("claim_id", "sender_hash", "created_at"):
        op.create_index(f"ix_rumor_reports_{column}", "rumor_reports", [column])
    op.create_table(
        "report_deliveries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "report_id", sa.Integer, sa.ForeignKey("rumor_reports.id"), nullable=False, unique=True
        ),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("recipient", sa.String(128)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("delivered_at", TZ),
    )
    op.create_index("ix_report_deliveries_status", "report_deliveries", ["status"])
    op.create_table(
        "console_users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("console_users.id"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("last_used_at", TZ),
    )
    op.create_table(
        "console_sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("console_users.id"), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
    )
    op.create_index("ix_console_sessions_expires_at", "console_sessions", ["expires_at"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("at", TZ, nullable=False),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])


def downgrade() -> None:
    for table in (
        "audit_log",
        "console_sessions",
        "api_tokens",
        "console_users",
        "report_deliveries",
        "rumor_reports",
        "rumor_claims",
    ):
        op.drop_table(table)
