"""ORM model of re-routing (handoff/reroute.py): one row per conversation it has acted on.

Kept apart from handoff/models.py, which is near the module size limit; the table shares its
`Base` (migrations/env.py imports this module so that Alembic sees it). Migration 0013.

- `warned_seq`: the visitor message the assigned agent was last warned about (silent agent);
  a conditional upsert on it makes exactly one replica warn once per unanswered message;
- `from_agent_id`: the agent the chat was last taken from, so that routing gives it to
  someone else when anyone else is free.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from handoff.models import Base, UTCDateTime


class ConversationReroute(Base):
    """What re-routing remembers about one conversation."""

    __tablename__ = "conversation_reroutes"

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    warned_seq: Mapped[int | None] = mapped_column(Integer)
    from_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    rerouted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
