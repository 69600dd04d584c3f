"""WeCom alerts of service orders: the volunteer's WeCom account, when the
assigned volunteer was told, and when the admins were alerted of an urgent order

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("volunteers") as batch:
        batch.add_column(sa.Column("wecom_user", sa.String(64), nullable=True))
    with op.batch_alter_table("service_orders") as batch:
        batch.add_column(sa.Column("notified_at", TZ, nullable=True))
        batch.add_column(sa.Column("alerted_at", TZ, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("service_orders") as batch:
        batch.drop_column("alerted_at")
        batch.drop_column("notified_at")
    with op.batch_alter_table("volunteers") as batch:
        batch.drop_column("wecom_user")
