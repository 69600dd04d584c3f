"""SQLite: an index for a search's count, ``rumor_claims (id, status)`` of unmerged claims

Revision ID: 0019
Revises: 0018

The queue's count of a search with no filter but the status
(``bot.rumors.console``) reads the full-text matches in id order and looks each
one up here: one seek per match, and it stops at the count's cap. Through
``(status, merged_into)`` SQLite first listed every match (about 12,000 for a
common word) and then sought each once per status asked for (9 ms at 100,000
claims; with this index 4 ms, over every status 5 ms -> 1 ms; docs/benchmarks.md).

Partial (unmerged claims only: the queue never shows merged ones), and only the
count names it (``INDEXED BY``): with ``id`` first in a plain index, SQLite's
planner read whole rows by id for other queue statements. PostgreSQL counts
differently (``bot.rumors.search``) and gets no such index.
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

INDEX = "ix_rumor_claims_unmerged_id_status"


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(f"CREATE INDEX {INDEX} ON rumor_claims (id, status) WHERE merged_into IS NULL")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(f"DROP INDEX {INDEX}")
