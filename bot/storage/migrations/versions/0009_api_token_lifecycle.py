"""API tokens get a name, an expiry and a revocation time

Revision ID: 0009
Revises: 0008

Tokens made before this revision were valid for ever: they are named
"旧令牌 <id>" and expire 90 days after they were made, but not sooner than
30 days from the upgrade, so that scripts using them have time to get new ones.
"""

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
OLD_TOKEN_DAYS = 90
NOTICE_DAYS = 30


def upgrade() -> None:
    bind = op.get_bind()
    op.add_column("api_tokens", sa.Column("name", sa.String(64)))
    op.add_column("api_tokens", sa.Column("expires_at", TZ))
    op.add_column("api_tokens", sa.Column("revoked_at", TZ))
    tokens = sa.table(
        "api_tokens",
        sa.column("id", sa.Integer),
        sa.column("created_at", TZ),
        sa.column("name", sa.String(64)),
        sa.column("expires_at", TZ),
    )
    now = datetime.now(timezone.utc)
    rows = bind.execute(sa.select(tokens.c.id, tokens.c.created_at)).all()
    if rows:
        bind.execute(
            tokens.update()
            .where(tokens.c.id == sa.bindparam("token_id"))
            .values(name=sa.bindparam("token_name"), expires_at=sa.bindparam("expiry")),
            [
                {
                    "token_id": token_id,
                    "token_name": f"旧令牌 {token_id}",
                    "expiry": max(
                        _aware(created) + timedelta(days=OLD_TOKEN_DAYS),
                        now + timedelta(days=NOTICE_DAYS),
                    ),
                }
                for token_id, created in rows
            ],
        )
    with op.batch_alter_table("api_tokens") as batch:
        batch.alter_column("name", existing_type=sa.String(64), nullable=False)
        batch.alter_column("expires_at", existing_type=TZ, nullable=False)
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_api_tokens_user_id", table_name="api_tokens")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("revoked_at")
        batch.drop_column("expires_at")
        batch.drop_column("name")


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
