"""The NPS answers table (issue 15); apart from handoff/models.py to keep that module short."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from handoff.models import Base, UTCDateTime, utcnow

NPS_MAX = 10  # "How likely are you to recommend us?" is answered 0-10


class NpsAnswer(Base):
    """The visitor's answer to the optional second post-chat question, 0-10."""

    __tablename__ = "nps_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), unique=True
    )
    score: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
