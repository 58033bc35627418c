"""ORM models of the SLA timers (handoff/sla_clocks.py; the time arithmetic: handoff/sla.py).

Kept apart from handoff/models.py, which is near the module size limit; the tables share its
`Base` (migrations/env.py imports this module so that Alembic sees them). Migration 0015.

- `sla_clocks`: one row per conversation a person owes a reply: the clock running now (or
  paused, or stopped), when it is due, when it breached (set once, by one replica), and the
  first response's business seconds, for reports;
- `sla_pauses`: the periods a ticket was pending (waiting on the customer): they do not count;
- `sla_breaches`: every breach ever recorded, one row per clock (the reports count them).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from handoff.models import Base, UTCDateTime, utcnow


class SlaClock(Base):
    """A conversation's SLA clock as the sweep last computed it."""

    __tablename__ = "sla_clocks"

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # chat, ticket (handoff/sla.py Kind)
    metric: Mapped[str] = mapped_column(String(20))  # first_response, next_response
    status: Mapped[str] = mapped_column(String(16))  # running, paused, stopped
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    target_s: Mapped[int | None] = mapped_column(Integer)
    # When it breaches if nothing changes; None: paused, stopped or no target. Indexed: the
    # reports read what breached, the sweep what is due.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    first_response_s: Mapped[float | None] = mapped_column(Float)  # business seconds
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SlaPause(Base):
    """A period the conversation's ticket was pending; `ended_at` None: still pending."""

    __tablename__ = "sla_pauses"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SlaBreach(Base):
    """A clock that went past its target; one per clock (a conversation, a metric, a start)."""

    __tablename__ = "sla_breaches"
    __table_args__ = (UniqueConstraint("conversation_id", "metric", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    metric: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    target_s: Mapped[int] = mapped_column(Integer)
    breached_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
