"""analytics: per-turn events (no text), users per day, first and last days, daily rollups

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "analytics_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", TZ, nullable=False),
        sa.Column("day", sa.Date, nullable=False, index=True),
        sa.Column("hour", sa.Integer, nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("user_hash", sa.String(64), nullable=False),
        sa.Column("new_session", sa.Boolean, nullable=False),
        sa.Column("move", sa.String(40), nullable=False),
        sa.Column("decision", sa.String(32)),
        sa.Column("topic", sa.String(16)),
        sa.Column("entry_id", sa.String(80)),
        sa.Column("score_band", sa.String(8)),
        sa.Column("fraud_risk", sa.String(8)),
        sa.Column("fraud_type", sa.String(32)),
        sa.Column("report_id", sa.String(16)),
        sa.Column("order_id", sa.String(16)),
    )
    op.create_table(
        "analytics_user_days",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("channel", sa.String(32), primary_key=True),
        sa.Column("user_hash", sa.String(64), primary_key=True),
        sa.Column("turns", sa.Integer, nullable=False),
        sa.Column("conversations", sa.Integer, nullable=False),
    )
    op.create_table(
        "analytics_users",
        sa.Column("user_hash", sa.String(64), primary_key=True),
        sa.Column("first_day", sa.Date, nullable=False, index=True),
        sa.Column("first_channel", sa.String(32), nullable=False),
        sa.Column("last_day", sa.Date, nullable=False, index=True),
    )
    op.create_table(
        "analytics_rollups",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("channel", sa.String(32), primary_key=True),
        sa.Column("dimension", sa.String(16), primary_key=True),
        sa.Column("key", sa.String(80), primary_key=True),
        sa.Column("turns", sa.Integer, nullable=False),
        sa.Column("users", sa.Integer, nullable=False),
        sa.Column("sketch", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("analytics_rollups")
    op.drop_table("analytics_users")
    op.drop_table("analytics_user_days")
    op.drop_table("analytics_events")
