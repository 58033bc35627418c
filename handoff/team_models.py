"""ORM models of teams (handoff/teams.py, handoff/team_routing.py); apart from handoff/models.py,
which is at the module size limit. Migration 0016.

- `teams`: a named group of agents ("Orders", "Returns");
- `team_members`: which agents are in which team (many-to-many);
- `faq_entry_teams`: the team an FAQ entry's topic belongs to, by the team's name (a KB file
  names it so; a name no team has routes to everyone);
- `conversation_teams`: the team a waiting chat is for, since when (its fallback clock), and who
  transferred it there (not offered it back).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from handoff.models import Base, UTCDateTime, utcnow

TEAM_NAME_MAX = 100  # a button label in the widget and a column in the console


class Team(Base):
    """A group of agents that takes one kind of question first."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(TEAM_NAME_MAX), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TeamMember(Base):
    """One agent in one team."""

    __tablename__ = "team_members"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class FaqEntryTeam(Base):
    """The team an FAQ entry's topic goes to when the bot hands that topic to a person."""

    __tablename__ = "faq_entry_teams"

    entry_id: Mapped[str] = mapped_column(
        ForeignKey("faq_entries.id", ondelete="CASCADE"), primary_key=True
    )
    team: Mapped[str] = mapped_column(String(TEAM_NAME_MAX))


class ConversationTeam(Base):
    """The team a chat was routed to; only its members get it until `since` + the fallback."""

    __tablename__ = "conversation_teams"

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), index=True
    )
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # A transfer to a team is to a colleague: the agent who transferred it is not offered it.
    from_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL")
    )
