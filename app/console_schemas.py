"""REST bodies of the agent console (kept apart from ORM models and from app/schemas.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.schemas import MAX_TEXT_BYTES, ClientMsgId, ConversationOut, TicketOut


class AgentSummary(BaseModel):
    id: int
    name: str
    avatar_url: str | None
    status: str
    capacity: int
    active: int


class TransferIn(BaseModel):
    to_agent_id: int
    note: Annotated[str, Field(max_length=MAX_TEXT_BYTES)] | None = None


class TicketReplyIn(BaseModel):
    client_msg_id: ClientMsgId
    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT_BYTES)]


class TicketStatusIn(BaseModel):
    status: Literal["open", "pending", "solved"]


class TicketDetail(TicketOut):
    reply_by: datetime | None


class CannedIn(BaseModel):
    shortcut: Annotated[str, Field(min_length=1, max_length=41)]
    title: Annotated[str, Field(min_length=1, max_length=200)]
    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT_BYTES)]


class CannedOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    shortcut: str
    title: str
    text: str


class RatingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    stars: int
    comment: str | None
    created_at: datetime


class FeedbackOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    helpful: bool


class ContextOut(BaseModel):
    """What the console shows beside a transcript: ticket, rating, feedback, earlier chats."""

    ticket: TicketDetail | None
    rating: RatingOut | None
    feedback: list[FeedbackOut]
    earlier_conversations: list[ConversationOut]
    tickets: list[TicketDetail]


class HoursOut(BaseModel):
    open_now: bool
    next_opening: datetime | None
    timezone: str
    routing_mode: str
