"""counts of fraud checks by day, risk and type (never the text)

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fraud_check_counts",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("risk", sa.String(8), primary_key=True),
        sa.Column("fraud_type", sa.String(32), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("fraud_check_counts")
