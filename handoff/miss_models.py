"""The misses inbox's tables (issue 15): questions the bot missed, the out-of-scope examples
admins collected from them, and each inbox action (for undo); apart from handoff/models.py."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from handoff.models import Base, UTCDateTime, utcnow


class MissStatus(StrEnum):
    """Where a missed question stands: in the inbox, or what an admin did with it."""

    OPEN = "open"
    VARIANT = "variant"  # added as a variant of an existing entry
    CREATED = "created"  # a new entry was made from it
    OUT_OF_SCOPE = "out_of_scope"
    DISMISSED = "dismissed"


class Miss(Base):
    """A visitor question the bot did not answer, or answered unhelpfully, in its conversation."""

    __tablename__ = "misses"
    __table_args__ = (
        # One question is one miss, however many ways it was missed (escalated, then "no").
        UniqueConstraint("conversation_id", "seq", name="uq_misses_conversation_seq"),
        Index("ix_misses_status_id", "status", "id"),  # the inbox reads the open ones
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    seq: Mapped[int] = mapped_column(Integer)  # the visitor's message
    text: Mapped[str] = mapped_column(Text)
    # low_confidence, repeated_misses, none_of_these, language, unhelpful, asked_for_human
    reason: Mapped[str] = mapped_column(String(40))
    entry_id: Mapped[str | None] = mapped_column(String(100))  # the answer it got, if any
    score: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default=MissStatus.OPEN)
    action_id: Mapped[int | None] = mapped_column(Integer)  # the inbox action that took it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OosExample(Base):
    """A question an admin marked out of scope: calibration keeps the bot from answering such."""

    __tablename__ = "oos_examples"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    action_id: Mapped[int | None] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MissAction(Base):
    """One inbox action, with what undoing it needs (`detail`: the variant ids it added...)."""

    __tablename__ = "miss_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # a MissStatus other than open
    entry_id: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    agent_id: Mapped[int | None] = mapped_column(Integer)  # a plain id: outlives the account
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
