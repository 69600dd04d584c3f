"""PostgreSQL: an index for a search's count, ``rumor_claims (status, id)`` of unmerged claims

Revision ID: 0020
Revises: 0019

The queue's count of a search (``bot.rumors.console``) hashes the full-text
matches and probes them with the claims of the statuses asked for. Through
``(status, merged_into)`` PostgreSQL read each of those claims' rows for its id
(a common word, open claims: 24 ms at 100,000 claims); from this index alone,
which holds the id, 11 ms, most of it finding the matches (docs/benchmarks.md).

Partial (unmerged claims only: the queue never shows merged ones). SQLite counts
a search from its matches instead, through its own index (migration 0019).
"""

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

INDEX = "ix_rumor_claims_unmerged_status_id"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"CREATE INDEX {INDEX} ON rumor_claims (status, id) WHERE merged_into IS NULL")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP INDEX {INDEX}")
