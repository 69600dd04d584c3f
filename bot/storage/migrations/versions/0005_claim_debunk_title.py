"""the title of a claim's debunk, drafted in the console before it is published

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("rumor_claims", sa.Column("debunk_title", sa.String(60)))


def downgrade() -> None:
    with op.batch_alter_table("rumor_claims") as batch:
        batch.drop_column("debunk_title")
