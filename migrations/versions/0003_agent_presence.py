"""agent presence per socket, so replicas agree and a dead replica's agents expire

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agent_presence",
        sa.Column("socket_id", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("replica_id", sa.String(length=64), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_agent_presence_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("socket_id", name=op.f("pk_agent_presence")),
    )
    with op.batch_alter_table("agent_presence", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agent_presence_agent_id"), ["agent_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_agent_presence_last_seen_at"), ["last_seen_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("agent_presence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agent_presence_last_seen_at"))
        batch_op.drop_index(batch_op.f("ix_agent_presence_agent_id"))
    op.drop_table("agent_presence")
