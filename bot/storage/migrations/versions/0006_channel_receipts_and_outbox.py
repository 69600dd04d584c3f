"""message ids and nonces the WeChat/WeCom channels accepted; messages waiting for a recipient

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "channel_receipts",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("expires_at", TZ, nullable=False),
    )
    op.create_index("ix_channel_receipts_expires_at", "channel_receipts", ["expires_at"])
    op.create_table(
        "channel_outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("recipient", sa.String(128), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_index("ix_channel_outbox_created_at", "channel_outbox", ["created_at"])
    op.create_index("ix_channel_outbox_recipient", "channel_outbox", ["channel", "recipient"])


def downgrade() -> None:
    op.drop_table("channel_outbox")
    op.drop_table("channel_receipts")
