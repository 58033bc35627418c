"""multilingual knowledge base: an FAQ entry's translations, and their variants (issue 17)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "faq_translations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.String(length=100), nullable=False),
        sa.Column("lang", sa.String(length=35), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["faq_entries.id"],
            name=op.f("fk_faq_translations_entry_id_faq_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_translations")),
        sa.UniqueConstraint("entry_id", "lang", name=op.f("uq_faq_translations_entry_id")),
    )
    with op.batch_alter_table("faq_translations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_faq_translations_entry_id"), ["entry_id"], unique=False
        )
    # Existing variants keep translation_id NULL: they are in the knowledge base's language.
    # On SQLite the batch copies the table (its rows kept) to add the foreign key.
    with op.batch_alter_table("faq_variants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("translation_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_faq_variants_translation_id_faq_translations"),
            "faq_translations",
            ["translation_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_index(
            batch_op.f("ix_faq_variants_translation_id"), ["translation_id"], unique=False
        )


def downgrade() -> None:
    op.execute("DELETE FROM faq_variants WHERE translation_id IS NOT NULL")
    with op.batch_alter_table("faq_variants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_faq_variants_translation_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_faq_variants_translation_id_faq_translations"), type_="foreignkey"
        )
        batch_op.drop_column("translation_id")
    with op.batch_alter_table("faq_translations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_faq_translations_entry_id"))
    op.drop_table("faq_translations")
