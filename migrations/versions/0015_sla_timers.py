"""SLA timers: each conversation's clock (due, breached, first response), pauses, breaches

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sla_clocks",
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("metric", sa.String(20), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("target_s", sa.Integer(), nullable=True),
        sa.Column("due_at", WHEN, nullable=True),
        sa.Column("breached_at", WHEN, nullable=True),
        sa.Column("first_response_s", sa.Float(), nullable=True),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"], ["conversations.id"],
            name="fk_sla_clocks_conversation_id_conversations", ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", name="pk_sla_clocks"),
    )
    op.create_index("ix_sla_clocks_due_at", "sla_clocks", ["due_at"])
    op.create_index("ix_sla_clocks_breached_at", "sla_clocks", ["breached_at"])
    op.create_table(
        "sla_pauses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("ended_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"], ["conversations.id"],
            name="fk_sla_pauses_conversation_id_conversations", ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_sla_pauses"),
    )
    op.create_index("ix_sla_pauses_conversation_id", "sla_pauses", ["conversation_id"])
    op.create_table(
        "sla_breaches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("metric", sa.String(20), nullable=False),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("target_s", sa.Integer(), nullable=False),
        sa.Column("breached_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"], ["conversations.id"],
            name="fk_sla_breaches_conversation_id_conversations", ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_sla_breaches"),
        sa.UniqueConstraint(
            "conversation_id", "metric", "started_at",
            name="uq_sla_breaches_conversation_id",
        ),
    )
    op.create_index("ix_sla_breaches_conversation_id", "sla_breaches", ["conversation_id"])
    op.create_index("ix_sla_breaches_breached_at", "sla_breaches", ["breached_at"])


def downgrade() -> None:
    op.drop_index("ix_sla_breaches_breached_at", table_name="sla_breaches")
    op.drop_index("ix_sla_breaches_conversation_id", table_name="sla_breaches")
    op.drop_table("sla_breaches")
    op.drop_index("ix_sla_pauses_conversation_id", table_name="sla_pauses")
    op.drop_table("sla_pauses")
    op.drop_index("ix_sla_clocks_breached_at", table_name="sla_clocks")
    op.drop_index("ix_sla_clocks_due_at", table_name="sla_clocks")
    op.drop_table("sla_clocks")
