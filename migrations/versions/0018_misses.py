"""the misses inbox: missed questions, admin-collected out-of-scope examples, inbox actions,
variants learnt from misses (issue 15)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

WHEN = sa.DateTime(timezone=True)

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "misses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("entry_id", sa.String(length=100), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_misses_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_misses")),
        sa.UniqueConstraint("conversation_id", "seq", name="uq_misses_conversation_seq"),
    )
    op.create_index("ix_misses_status_id", "misses", ["status", "id"], unique=False)
    op.create_table(
        "oos_examples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oos_examples")),
    )
    op.create_index(
        op.f("ix_oos_examples_action_id"), "oos_examples", ["action_id"], unique=False
    )
    op.create_table(
        "miss_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("entry_id", sa.String(length=100), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("undone_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_miss_actions")),
    )


    # A visitor's question an admin added from the inbox (bot Entry.learned): calibration
    # trains on it but never scores it. Existing variants are the authors' own.
    with op.batch_alter_table("faq_variants", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("learned", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("faq_variants", schema=None) as batch_op:
        batch_op.drop_column("learned")
    op.drop_table("miss_actions")
    op.drop_index(op.f("ix_oos_examples_action_id"), table_name="oos_examples")
    op.drop_table("oos_examples")
    op.drop_index("ix_misses_status_id", table_name="misses")
    op.drop_table("misses")
