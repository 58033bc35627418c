"""Wire formats: websocket client frames and REST bodies (kept apart from ORM models)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

MAX_TEXT_BYTES = 8 * 1024  # docs/protocol.md: a chat message is at most 8 KB of UTF-8
MAX_FRAME_BYTES = 16 * 1024  # a whole frame; anything bigger is refused before parsing
ClientMsgId = Annotated[str, Field(min_length=1, max_length=64)]
PositiveSeq = Annotated[int, Field(ge=0)]


class Frame(BaseModel):
    model_config = ConfigDict(extra="ignore")


class IdentityClaim(BaseModel):
    """A logged-in user as the embedding site's server signed it (see app/identity.py)."""

    model_config = ConfigDict(extra="ignore")

    user_id: Annotated[str, Field(min_length=1, max_length=200)]
    name: Annotated[str, Field(max_length=200)] | None = None
    email: Annotated[str, Field(max_length=320)] | None = None
    expires: int  # Unix seconds
    signature: Annotated[str, Field(max_length=128)]


class Hello(Frame):
    type: Literal["hello"]
    token: str | None = None
    conversation_id: int | None = None
    last_seq: PositiveSeq = 0
    name: Annotated[str, Field(max_length=200)] | None = None
    locale: Annotated[str, Field(max_length=35)] | None = None
    page_url: Annotated[str, Field(max_length=2048)] | None = None
    identity: IdentityClaim | None = None  # visitors only; ignored unless the signature verifies


class Ping(Frame):
    type: Literal["ping"]


class SendMessage(Frame):
    type: Literal["message"]
    client_msg_id: ClientMsgId
    text: str
    conversation_id: int | None = None  # agents name the conversation; visitors have one


class Note(Frame):
    type: Literal["note"]
    client_msg_id: ClientMsgId
    text: str
    conversation_id: int


class Choice(Frame):
    type: Literal["choice"]
    client_msg_id: ClientMsgId
    entry_id: str | None  # None means "none of these"


class Handoff(Frame):
    type: Literal["handoff"]
    client_msg_id: ClientMsgId


class LeaveEmail(Frame):
    type: Literal["email"]
    email: Annotated[str, Field(max_length=320)]


class Feedback(Frame):
    """ "Was this helpful?" on a bot answer."""

    type: Literal["feedback"]
    seq: Annotated[int, Field(ge=1)]
    helpful: bool


class Rate(Frame):
    type: Literal["rating"]
    stars: Annotated[int, Field(ge=1, le=5)]
    comment: Annotated[str, Field(max_length=2000)] | None = None


class RequestTicket(Frame):
    """ "E-mail me instead" while waiting in the queue."""

    type: Literal["request_ticket"]
    client_msg_id: ClientMsgId


class Transcript(Frame):
    type: Literal["transcript"]
    email: Annotated[str, Field(max_length=320)]


class Typing(Frame):
    type: Literal["typing"]
    draft: Annotated[str, Field(max_length=MAX_TEXT_BYTES)] | None = None
    conversation_id: int | None = None


class SetStatus(Frame):
    """The agent's own status: away agents get no new chats (offline is closing the tab)."""

    type: Literal["status"]
    status: Literal["online", "away"]


class Watch(Frame):
    type: Literal["watch"]
    conversation_id: int
    last_seq: PositiveSeq = 0


class Unwatch(Frame):
    type: Literal["unwatch"]
    conversation_id: int


VisitorFrame = Annotated[
    Hello
    | Ping
    | SendMessage
    | Choice
    | Handoff
    | LeaveEmail
    | Typing
    | Feedback
    | Rate
    | RequestTicket
    | Transcript,
    Field(discriminator="type"),
]
AgentFrame = Annotated[
    Hello | Ping | SendMessage | Note | Typing | Watch | Unwatch | SetStatus,
    Field(discriminator="type"),
]
visitor_frames: TypeAdapter[Any] = TypeAdapter(VisitorFrame)
agent_frames: TypeAdapter[Any] = TypeAdapter(AgentFrame)


# --- REST --------------------------------------------------------------------------------


class LoginIn(BaseModel):
    email: str
    password: str


class AgentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    avatar_url: str | None
    is_admin: bool
    capacity: int
    status: str


class LoginOut(BaseModel):
    token: str
    agent: AgentOut


class VisitorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str | None
    email: str | None
    locale: str | None
    page_url: str | None
    created_at: datetime


class ConversationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    visitor_id: int
    state: str
    assigned_agent_id: int | None
    escalation_reason: str | None
    last_seq: int
    created_at: datetime
    queued_at: datetime | None
    assigned_at: datetime | None
    closed_at: datetime | None
    preview: str | None = None


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    sender: str
    text: str
    agent_id: int | None
    client_msg_id: str | None
    meta: dict[str, Any] | None
    created_at: datetime


class TranscriptOut(BaseModel):
    conversation: ConversationOut
    visitor: VisitorOut
    messages: list[MessageOut]


class TicketOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    conversation_id: int
    status: str
    email: str | None
    created_at: datetime
    updated_at: datetime
