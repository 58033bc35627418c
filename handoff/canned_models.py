"""ORM model of canned-reply uses (handoff/canned_stats.py): which reply answered what.

Kept apart from handoff/models.py, which is near the module size limit; the table shares its
`Base` (migrations/env.py imports this module so that Alembic sees it). Migration 0019.

One row per agent reply sent with a canned reply: the reply's message and seq, and the seq of
the agent's previous reply in that conversation (0 if none). The visitor messages it answered
are the conversation's visitor messages between the two seqs, so nothing is copied.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from handoff.models import Base, UTCDateTime, utcnow


class CannedUse(Base):
    """An agent reply that used a canned reply, and where the question it answered began."""

    __tablename__ = "canned_uses"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Deleting a canned reply forgets its uses; the chat messages stay.
    canned_reply_id: Mapped[int] = mapped_column(
        ForeignKey("canned_replies.id", ondelete="CASCADE"), index=True
    )
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    # Unique: a resent reply (same client_msg_id) is recorded once.
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), unique=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    reply_seq: Mapped[int] = mapped_column(Integer)
    answered_after_seq: Mapped[int] = mapped_column(Integer)  # the agent's previous reply
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
