"""re-routing: what was warned about and whom a chat was taken from (issue 16)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 15:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversation_reroutes",
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("warned_seq", sa.Integer(), nullable=True),
        sa.Column("from_agent_id", sa.Integer(), nullable=True),
        sa.Column("rerouted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_reroutes_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["from_agent_id"],
            ["agents.id"],
            name=op.f("fk_conversation_reroutes_from_agent_id_agents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_conversation_reroutes")),
    )


def downgrade() -> None:
    op.drop_table("conversation_reroutes")
