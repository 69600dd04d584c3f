"""an index for the queue's filters: ``rumor_claims (status, merged_into, harm, last_seen)``

Revision ID: 0018
Revises: 0017

The queue counts its claims with a filter on harm or on the date of the latest
report from this index alone; with ``(status, merged_into)`` SQLite read every
claim of the status to check them (14,000 rows of about 900 bytes for "pending,
health, last 30 days": 47 ms at 100,000 claims, docs/benchmarks.md). Merged
claims stay in it: the queue asks for ``merged_into IS NULL``.
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_rumor_claims_queue_filters",
        "rumor_claims",
        ["status", "merged_into", "harm", "last_seen"],
    )


def downgrade() -> None:
    op.drop_index("ix_rumor_claims_queue_filters", table_name="rumor_claims")
