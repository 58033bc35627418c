"""verified identity beside what visitors type; mail visitors asked for (transcript limits)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("visitors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("user_id", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("verified_name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("verified_email", sa.String(length=320), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_visitors_user_id"), ["user_id"])
    op.create_table(
        "sent_mail",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_sent_mail_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sent_mail")),
    )
    with op.batch_alter_table("sent_mail", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sent_mail_conversation_id"), ["conversation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sent_mail_sent_at"), ["sent_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sent_mail", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sent_mail_sent_at"))
        batch_op.drop_index(batch_op.f("ix_sent_mail_conversation_id"))
    op.drop_table("sent_mail")
    with op.batch_alter_table("visitors", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_visitors_user_id"), type_="unique")
        batch_op.drop_column("verified_email")
        batch_op.drop_column("verified_name")
        batch_op.drop_column("user_id")
