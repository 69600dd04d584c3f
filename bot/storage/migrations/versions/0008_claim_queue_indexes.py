"""indexes for a large queue: the queue's order, changed claims, a claim's reports

Revision ID: 0008
Revises: 0007

- ``rumor_claims.priority_log`` (ln of the stored priority) and an index on the
  queue's order, ln(priority) + last_seen in hours / 72 (the expressions are
  ``bot.storage.models.CLAIM_STANDING_SQL``, copied here as they were);
- ``rumor_claims.updated_at`` (other processes read back the claims that changed),
  ``merged_into`` (a claim's family; merged claims only) and ``(status,
  merged_into)`` (the queue's count; replaces the index on ``status`` alone);
- ``rumor_reports (claim_id, created_at, id)`` (a claim's reports, a page at a
  time; replaces the index on ``claim_id`` alone) and ``(claim_id, sender_hash)``
  (whether a report's sender is new to its claim).
"""

import math

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

STANDING = {
    "sqlite": "(priority_log + julianday(last_seen) / 3.0)",
    "postgresql": (
        "(priority_log + extract(epoch from (last_seen - timestamptz '1970-01-01 00:00:00+00'))"
        " / 259200.0)"
    ),
}
MIN_PRIORITY = 1e-9


def upgrade() -> None:
    bind = op.get_bind()
    op.add_column(
        "rumor_claims", sa.Column("priority_log", sa.Float, nullable=False, server_default="0")
    )
    claims = sa.table(
        "rumor_claims",
        sa.column("id", sa.Integer),
        sa.column("priority", sa.Float),
        sa.column("priority_log", sa.Float),
    )
    # In Python: SQLite's ln() exists only where it was compiled with math functions.
    rows = bind.execute(sa.select(claims.c.id, claims.c.priority)).all()
    if rows:
        bind.execute(
            claims.update()
            .where(claims.c.id == sa.bindparam("claim_id"))
            .values(priority_log=sa.bindparam("log")),
            [{"claim_id": i, "log": math.log(max(p or 0.0, MIN_PRIORITY))} for i, p in rows],
        )
    op.create_index(
        "ix_rumor_claims_standing", "rumor_claims", [sa.text(STANDING[bind.dialect.name])]
    )
    op.create_index("ix_rumor_claims_updated_at", "rumor_claims", ["updated_at"])
    # Only the merged claims: "merged_into IS NULL" must not look selective to SQLite.
    only_merged = sa.text("merged_into IS NOT NULL")
    op.create_index(
        "ix_rumor_claims_merged_into",
        "rumor_claims",
        ["merged_into"],
        sqlite_where=only_merged,
        postgresql_where=only_merged,
    )
    op.create_index("ix_rumor_claims_status_merged", "rumor_claims", ["status", "merged_into"])
    op.drop_index("ix_rumor_claims_status", table_name="rumor_claims")
    op.create_index(
        "ix_rumor_reports_claim_created", "rumor_reports", ["claim_id", "created_at", "id"]
    )
    op.create_index("ix_rumor_reports_claim_sender", "rumor_reports", ["claim_id", "sender_hash"])
    op.drop_index("ix_rumor_reports_claim_id", table_name="rumor_reports")


def downgrade() -> None:
    op.create_index("ix_rumor_reports_claim_id", "rumor_reports", ["claim_id"])
    op.create_index("ix_rumor_claims_status", "rumor_claims", ["status"])
    op.drop_index("ix_rumor_claims_status_merged", table_name="rumor_claims")
    op.drop_index("ix_rumor_reports_claim_sender", table_name="rumor_reports")
    op.drop_index("ix_rumor_reports_claim_created", table_name="rumor_reports")
    op.drop_index("ix_rumor_claims_merged_into", table_name="rumor_claims")
    op.drop_index("ix_rumor_claims_updated_at", table_name="rumor_claims")
    op.drop_index("ix_rumor_claims_standing", table_name="rumor_claims")
    with op.batch_alter_table("rumor_claims") as batch:
        batch.drop_column("priority_log")
