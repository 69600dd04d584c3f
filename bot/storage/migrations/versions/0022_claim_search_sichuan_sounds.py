"""claim search: every document written again with the new Chongqing/Sichuan sound folding

Revision ID: 0022
Revises: 0021

A claim's search document holds the fuzzy pinyin of its words
(``bot.text.search_terms``), folded as ``bot.text.pinyin.fuzzy_syllable`` folds
them. That folding now also merges "hu" before a vowel with f (化肥 and 发肥 are
one sound), 风 with 哄 (feng with hong) and ü with u, so a query folded today
would no longer find a document folded before: 化肥 typed as "huafei" is "hahei"
now, but stored as "huahei".

Each claim's document is written again, as ``bot.rumors.search.rebuild`` writes
it (the title and the first reports), with the folding of the code that runs
this migration. PostgreSQL's ``document`` column is generated from ``terms``, and
``queue_status`` is left as it is (its trigger fires on INSERT only).

Downgrading changes nothing: the documents are then folded as the newer code
folds them, and the older code's searches by pinyin miss the merged sounds
until its own documents are written again.
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    key = "rowid" if bind.dialect.name == "sqlite" else "claim_id"
    claims = bind.execute(
        sa.text(
            f"SELECT c.id, c.title FROM claim_search s JOIN rumor_claims c ON c.id = s.{key}"
            " ORDER BY c.id"
        )
    ).all()
    if not claims:
        return  # a new database: nothing to read, no tokenizer to load
    from bot.rumors.search import stored_document_terms

    write = sa.text(f"UPDATE claim_search SET terms = :terms WHERE {key} = :id")
    for claim_id, title in claims:
        terms = stored_document_terms(bind, claim_id, title)
        bind.execute(write, {"id": claim_id, "terms": " ".join(terms)})


def downgrade() -> None:
    pass  # see the module docstring
