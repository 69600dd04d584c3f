"""volunteer service orders: volunteers, orders and their events, ratings, hours; handled marks

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "volunteers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(32), nullable=False, unique=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("skills", sa.JSON, nullable=False),
        sa.Column("towns", sa.JSON, nullable=False),
        sa.Column("availability", sa.String(200), nullable=False),
        sa.Column("available", sa.Boolean, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("console_user", sa.String(64), unique=True),
        sa.Column("id_checked_by", sa.String(64)),
        sa.Column("id_document", sa.String(32)),
        sa.Column("id_checked_at", TZ),
        sa.Column("minutes_served", sa.Integer, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_table(
        "service_orders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("public_id", sa.String(16), nullable=False, unique=True),
        sa.Column("sender_hash", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("recipient", sa.String(128)),
        sa.Column("service", sa.String(32), nullable=False),
        sa.Column("town", sa.String(32), nullable=False),
        sa.Column("village", sa.String(64), nullable=False),
        sa.Column("convenient_time", sa.String(100), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("phone", sa.String(32)),
        sa.Column("urgent", sa.Boolean, nullable=False),
        sa.Column("flagged", sa.Boolean, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("volunteer_id", sa.Integer, sa.ForeignKey("volunteers.id")),
        sa.Column("declined_by", sa.JSON, nullable=False),
        sa.Column("reason", sa.String(200)),
        sa.Column("verify_code", sa.String(4)),
        sa.Column("entered", sa.JSON, nullable=False),
        sa.Column("state_at", TZ, nullable=False),
        sa.Column("reminded_at", TZ),
        sa.Column("resident_notice", sa.String(16)),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_index("ix_service_orders_sender_hash", "service_orders", ["sender_hash"])
    op.create_index("ix_service_orders_created_at", "service_orders", ["created_at"])
    op.create_index("ix_service_orders_resident_notice", "service_orders", ["resident_notice"])
    op.create_index("ix_service_orders_queue", "service_orders", ["state", "urgent", "created_at"])
    op.create_index(
        "ix_service_orders_volunteer_state", "service_orders", ["volunteer_id", "state"]
    )
    op.create_table(
        "order_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("order_id", sa.Integer, sa.ForeignKey("service_orders.id"), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("from_state", sa.String(16)),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("volunteer_id", sa.Integer, sa.ForeignKey("volunteers.id")),
        sa.Column("reason", sa.String(200)),
        sa.Column("at", TZ, nullable=False),
    )
    op.create_index("ix_order_events_order_at", "order_events", ["order_id", "at", "id"])
    op.create_table(
        "order_ratings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "order_id", sa.Integer, sa.ForeignKey("service_orders.id"), nullable=False, unique=True
        ),
        sa.Column("volunteer_id", sa.Integer, sa.ForeignKey("volunteers.id")),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_index("ix_order_ratings_volunteer_id", "order_ratings", ["volunteer_id"])
    op.create_index("ix_order_ratings_created_at", "order_ratings", ["created_at"])
    op.create_table(
        "service_hours",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("volunteer_id", sa.Integer, sa.ForeignKey("volunteers.id"), nullable=False),
        sa.Column(
            "order_id", sa.Integer, sa.ForeignKey("service_orders.id"), nullable=False, unique=True
        ),
        sa.Column("minutes", sa.Integer, nullable=False),
        sa.Column("at", TZ, nullable=False),
    )
    op.create_index("ix_service_hours_volunteer_id", "service_hours", ["volunteer_id"])
    op.create_table(
        "handled_marks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("item_id", sa.Integer, nullable=False),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("note", sa.String(200), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.UniqueConstraint("kind", "item_id"),
    )


def downgrade() -> None:
    for table in (
        "handled_marks",
        "service_hours",
        "order_ratings",
        "order_events",
        "service_orders",
        "volunteers",
    ):
        op.drop_table(table)
