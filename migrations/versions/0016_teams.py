"""teams: agents in teams, FAQ entries naming a team, chats routed to a team (issue 16)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

WHEN = sa.DateTime(timezone=True)

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "teams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint("name", name=op.f("uq_teams_name")),
    )
    op.create_table(
        "team_members",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_team_members_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_team_members_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("team_id", "agent_id", name=op.f("pk_team_members")),
    )
    op.create_index(op.f("ix_team_members_agent_id"), "team_members", ["agent_id"])
    op.create_table(
        "faq_entry_teams",
        sa.Column("entry_id", sa.String(length=100), nullable=False),
        sa.Column("team", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["faq_entries.id"], name=op.f("fk_faq_entry_teams_entry_id_faq_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_faq_entry_teams")),
    )
    op.create_table(
        "conversation_teams",
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("since", WHEN, nullable=False),
        sa.Column("from_agent_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["from_agent_id"], ["agents.id"],
            name=op.f("fk_conversation_teams_from_agent_id_agents"), ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"], ["conversations.id"],
            name=op.f("fk_conversation_teams_conversation_id_conversations"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_conversation_teams_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_conversation_teams")),
    )
    op.create_index(op.f("ix_conversation_teams_team_id"), "conversation_teams", ["team_id"])
    op.create_index(op.f("ix_conversation_teams_since"), "conversation_teams", ["since"])


def downgrade() -> None:
    op.drop_table("conversation_teams")
    op.drop_table("faq_entry_teams")
    op.drop_table("team_members")
    op.drop_table("teams")
