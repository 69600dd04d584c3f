"""PostgreSQL: a claim's queue status beside its search document; open claims' documents indexed

Revision ID: 0021
Revises: 0020

A search of the queue found every claim that matched (a common word: about
12,000 of 95,000) and only then left out the statuses not asked for, twice: once
for the count and once for the page. Finding them reads one heap page of
``claim_search`` for about every two matches (8 ms each time at 1M reports).
The queue shows open claims unless asked otherwise, and a fifth of the claims
are open.

- ``claim_search.queue_status``: the claim's status while the queue shows it,
  NULL once it is merged into another. Triggers keep it: a claim's document
  takes its claim's status when written, and a change of a claim's status or
  ``merged_into`` is copied to its document in the same statement, so no code
  path can forget it.
- ``ix_claim_search_open_document``: the documents of open claims (the
  statuses of ``bot.rumors.reports.OPEN_STATUSES``) under a GIN index of their
  own: the default view's search reads those matches only.

The search then narrows its matches by status itself, and a search with no
filter but the status is counted from ``claim_search`` alone
(``bot.rumors.console``). SQLite keeps its FTS5 table as it is (an FTS5 table
has no partial index); its count reads the matches in id order instead
(migration 0019).
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

INDEX = "ix_claim_search_open_document"
FILL_BATCH = 2000  # claims a statement
OPEN_STATUSES = ("pending", "verifying")  # bot.rumors.reports.OPEN_STATUSES, as of this revision
QUEUE_STATUS = "CASE WHEN {row}.merged_into IS NULL THEN {row}.status END"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE claim_search ADD COLUMN queue_status varchar(16)")
    # In batches: each row is written again (with its full-text index entries), and
    # one statement over every claim could outlast the statement timeout
    # (bot.storage.db: 30 s; about 40 s at 95,000 claims on 2 cores).
    low, high = bind.execute(sa.text("SELECT min(claim_id), max(claim_id) FROM claim_search")).one()
    fill = sa.text(
        "UPDATE claim_search SET queue_status = rumor_claims.status FROM rumor_claims"
        " WHERE rumor_claims.id = claim_search.claim_id AND rumor_claims.merged_into IS NULL"
        " AND claim_search.claim_id >= :low AND claim_search.claim_id < :high"
    )
    for start in range(low or 0, (high or -1) + 1, FILL_BATCH):
        bind.execute(fill, {"low": start, "high": start + FILL_BATCH})
    statuses = ", ".join(f"'{s}'" for s in OPEN_STATUSES)
    op.execute(
        f"CREATE INDEX {INDEX} ON claim_search USING gin (document)"
        f" WHERE queue_status IN ({statuses})"
    )
    # A document written takes its claim's status (a new claim's, a split's).
    op.execute(
        "CREATE FUNCTION claim_search_take_status() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN"
        f" NEW.queue_status := (SELECT {QUEUE_STATUS.format(row='c')}"
        " FROM rumor_claims c WHERE c.id = NEW.claim_id);"
        " RETURN NEW;"
        " END $$"
    )
    op.execute(
        "CREATE TRIGGER claim_search_take_status BEFORE INSERT ON claim_search"
        " FOR EACH ROW EXECUTE FUNCTION claim_search_take_status()"
    )
    # A claim's status or merge changes: its document follows.
    op.execute(
        "CREATE FUNCTION rumor_claims_give_status() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN"
        f" UPDATE claim_search SET queue_status = {QUEUE_STATUS.format(row='NEW')}"
        " WHERE claim_id = NEW.id;"
        " RETURN NULL;"
        " END $$"
    )
    op.execute(
        "CREATE TRIGGER rumor_claims_give_status AFTER UPDATE OF status, merged_into"
        " ON rumor_claims FOR EACH ROW"
        " WHEN (OLD.status IS DISTINCT FROM NEW.status"
        " OR OLD.merged_into IS DISTINCT FROM NEW.merged_into)"
        " EXECUTE FUNCTION rumor_claims_give_status()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER rumor_claims_give_status ON rumor_claims")
    op.execute("DROP FUNCTION rumor_claims_give_status()")
    op.execute("DROP TRIGGER claim_search_take_status ON claim_search")
    op.execute("DROP FUNCTION claim_search_take_status()")
    op.execute(f"DROP INDEX {INDEX}")
    op.execute("ALTER TABLE claim_search DROP COLUMN queue_status")
