"""the admin console: disabled agents, uploaded avatars, settings changed in the console

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN on both databases: SQLite need not rebuild the table.
    op.add_column("agents", sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "agent_avatars",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(40), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name="fk_agent_avatars_agent_id_agents",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("agent_id", name="pk_agent_avatars"),
    )
    op.create_table(
        "service_settings",
        sa.Column("key", sa.String(40), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("key", name="pk_service_settings"),
    )


def downgrade() -> None:
    op.drop_table("service_settings")
    op.drop_table("agent_avatars")
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("disabled_at")
