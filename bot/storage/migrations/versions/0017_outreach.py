"""proactive outreach: subscribers, their subscriptions, alerts and one delivery per
alert and person (issue 22, bot/outreach)

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "outreach_recipients",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("recipient", sa.String(128), nullable=False),
        sa.Column("last_inbound_at", TZ, nullable=True),
        sa.Column("cap_until", TZ, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.UniqueConstraint("channel", "recipient", name="uq_outreach_recipient"),
    )
    op.create_table(
        "outreach_subscriptions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "recipient_id",
            sa.Integer,
            sa.ForeignKey("outreach_recipients.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("crop", sa.String(16), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.UniqueConstraint("recipient_id", "kind", "crop", name="uq_outreach_subscription"),
    )
    op.create_index(
        "ix_outreach_subscriptions_kind_crop", "outreach_subscriptions", ["kind", "crop"]
    )
    op.create_table(
        "outreach_alerts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("crop", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("entry_id", sa.String(80), nullable=True),
        sa.Column("urgent", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("approver", sa.String(64), nullable=True),
        sa.Column("send_at", TZ, nullable=True),
        sa.Column("expires_at", TZ, nullable=True),
        sa.Column("planned_at", TZ, nullable=True),
        sa.Column("calendar_key", sa.String(80), nullable=True, unique=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_index("ix_outreach_alerts_status", "outreach_alerts", ["status"])
    op.create_table(
        "outreach_deliveries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "alert_id",
            sa.Integer,
            sa.ForeignKey("outreach_alerts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "recipient_id",
            sa.Integer,
            sa.ForeignKey("outreach_recipients.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("route", sa.String(16), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", TZ, nullable=False),
        sa.Column("lease_until", TZ, nullable=True),
        sa.Column("worker", sa.String(64), nullable=True),
        sa.Column("last_error", sa.String(200), nullable=True),
        sa.Column("sent_at", TZ, nullable=True),
        sa.Column("read_at", TZ, nullable=True),
        sa.UniqueConstraint("alert_id", "recipient_id", name="uq_outreach_delivery"),
    )
    op.create_index(
        "ix_outreach_deliveries_due", "outreach_deliveries", ["status", "next_attempt_at"]
    )
    op.create_index(
        "ix_outreach_deliveries_recipient", "outreach_deliveries", ["recipient_id", "status"]
    )


def downgrade() -> None:
    op.drop_table("outreach_deliveries")
    op.drop_table("outreach_alerts")
    op.drop_table("outreach_subscriptions")
    op.drop_table("outreach_recipients")
