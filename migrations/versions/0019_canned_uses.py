"""canned replies that earn automation: each use of a canned reply, and what it answered

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "canned_uses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("canned_reply_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("reply_seq", sa.Integer(), nullable=False),
        sa.Column("answered_after_seq", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["canned_reply_id"], ["canned_replies.id"],
            name="fk_canned_uses_canned_reply_id_canned_replies", ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"], ["conversations.id"],
            name="fk_canned_uses_conversation_id_conversations",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name="fk_canned_uses_message_id_messages"
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name="fk_canned_uses_agent_id_agents"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_canned_uses"),
        sa.UniqueConstraint("message_id", name="uq_canned_uses_message_id"),
    )
    op.create_index("ix_canned_uses_canned_reply_id", "canned_uses", ["canned_reply_id"])
    op.create_index("ix_canned_uses_conversation_id", "canned_uses", ["conversation_id"])


def downgrade() -> None:
    op.drop_table("canned_uses")
