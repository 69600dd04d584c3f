"""the service orders' queue order as an index: the "all orders" view a page at a time

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_service_orders_all_queue",
        "service_orders",
        [sa.text("urgent DESC"), sa.text("flagged DESC"), "created_at", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_service_orders_all_queue", table_name="service_orders")
