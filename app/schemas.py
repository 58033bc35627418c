"""REST bodies, kept apart from the ORM models; websocket frames are in app/ws/frames.py.

Every response model reads its ORM row with `model_validate(row)` (from_attributes).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from annotated_types import Interval
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from handoff import agents, knowledge
from handoff.models import CLIENT_MSG_ID_MAX, MESSAGE_TEXT_MAX, ROW_ID_MAX

RowId = Annotated[int, Interval(ge=0, le=ROW_ID_MAX)]  # ids are INTEGER: none is bigger
ClientMsgId = Annotated[str, Field(min_length=1, max_length=CLIENT_MSG_ID_MAX)]
MessageText = Annotated[str, Field(min_length=1, max_length=MESSAGE_TEXT_MAX)]
KBText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=8192)]
EntryId = Annotated[str, StringConstraints(pattern=knowledge.ENTRY_ID_PATTERN)]
MAX_VARIANTS = 500  # far beyond a real FAQ; bounds one request's encoding work


class Orm(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class IdentityClaim(BaseModel):
    """A logged-in user as the embedding site's server signed it (see app/identity.py)."""

    model_config = ConfigDict(extra="ignore")

    user_id: Annotated[str, Field(min_length=1, max_length=200)]
    name: Annotated[str, Field(max_length=200)] | None = None
    email: Annotated[str, Field(max_length=320)] | None = None
    expires: int  # Unix seconds
    signature: Annotated[str, Field(max_length=128)]


# --- agents and conversations ------------------------------------------------------------
class LoginIn(BaseModel):
    # Bounded before anything is hashed: a 4 MB "password" is a 422, not a second of argon2.
    email: str = Field(max_length=agents.EMAIL_MAX)
    password: str = Field(max_length=agents.PASSWORD_MAX)


class AgentOut(Orm):
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


class VisitorOut(Orm):
    """The visitor's profile: `verified_*` and `user_id` from the site's signed identity only;
    `name` and `email` are what the visitor typed (unverified)."""

    id: int
    user_id: str | None
    verified_name: str | None
    verified_email: str | None
    name: str | None
    email: str | None
    locale: str | None
    page_url: str | None
    created_at: datetime


class ConversationOut(Orm):
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
    # The SLA clock running now (handoff/sla_clocks.py clock_data); None: nobody waits on us.
    sla: dict[str, Any] | None = None
    team: str | None = None  # queued for this team's members first (issue 16)


class MessageOut(Orm):
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


class TicketOut(Orm):
    id: int
    conversation_id: int
    status: str
    email: str | None
    created_at: datetime
    updated_at: datetime


# --- the console ------------------------------------------------------------------------


class AuditEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    action: str
    agent_id: int | None
    ip: str | None
    detail: dict[str, Any] | None


class AgentSummary(BaseModel):
    id: int
    name: str
    avatar_url: str | None
    status: str
    capacity: int
    active: int


class TransferIn(BaseModel):
    """To a person (to_agent_id) or to a team's queue (to_team_id): exactly one of them."""

    to_agent_id: RowId | None = None
    to_team_id: RowId | None = None
    note: Annotated[str, Field(max_length=MESSAGE_TEXT_MAX)] | None = None


class TicketReplyIn(BaseModel):
    client_msg_id: ClientMsgId
    text: MessageText
    canned_reply_id: RowId | None = None  # the canned reply it came from (issue 15)


class TicketStatusIn(BaseModel):
    status: Literal["open", "pending", "solved"]


class TicketDetail(TicketOut):
    reply_by: datetime | None


class CannedIn(BaseModel):
    shortcut: Annotated[str, Field(min_length=1, max_length=41)]
    title: Annotated[str, Field(min_length=1, max_length=200)]
    text: MessageText


class CannedOut(Orm):
    id: int
    shortcut: str
    title: str
    text: str


class RatingOut(Orm):
    stars: int
    comment: str | None
    created_at: datetime


class FeedbackOut(Orm):
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


# --- the knowledge base -----------------------------------------------------------------


class VariantOut(Orm):
    id: int
    text: str


class EntryOut(Orm):
    id: str
    question: str
    answer: str
    variants: list[VariantOut]


class EntryIn(BaseModel):
    id: EntryId
    question: KBText
    answer: KBText
    variants: Annotated[list[KBText], Field(max_length=MAX_VARIANTS)] = []


class EntryUpdate(BaseModel):
    question: KBText
    answer: KBText
    variants: Annotated[list[KBText], Field(max_length=MAX_VARIANTS)] | None = None


class VariantIn(BaseModel):
    text: KBText


# --- issue 14, agents and roles: the team in /admin, and every agent's own profile ---------
class TeamMemberOut(BaseModel):
    """An agent as admins manage them: role, capacity, live status and load, disabled or not."""

    id: int
    email: str
    name: str
    avatar_url: str | None
    is_admin: bool
    capacity: int
    status: str  # online / away / offline, as routing sees it (handoff/routing.py `roster`)
    active: int  # chats held now
    disabled_at: datetime | None
    created_at: datetime
    last_seen_at: datetime | None


class TeamMemberIn(BaseModel):
    # Lengths and ranges are the services' rules (a clear 422 `detail`); these only bound input.
    email: str = Field(max_length=agents.EMAIL_MAX)
    name: str = Field(max_length=agents.NAME_MAX)
    password: str = Field(max_length=agents.PASSWORD_MAX)
    capacity: Annotated[int, Interval(ge=-1000, le=1000)] = 3
    is_admin: bool = False


class TeamMemberPatch(BaseModel):
    """Only the fields given change."""

    capacity: Annotated[int, Interval(ge=-1000, le=1000)] | None = None
    is_admin: bool | None = None


class PasswordResetIn(BaseModel):
    password: str = Field(max_length=agents.PASSWORD_MAX)


class ProfileIn(BaseModel):
    """Only the fields given change."""

    name: str | None = Field(None, max_length=agents.NAME_MAX)


class PasswordChangeIn(BaseModel):
    current_password: str = Field(max_length=agents.PASSWORD_MAX)
    new_password: str = Field(max_length=agents.PASSWORD_MAX)


class TeamIn(BaseModel):
    """A team's name (handoff/teams.py checks it: 1-100 characters, unique in any case)."""

    name: Annotated[str, Field(max_length=1000)]


class TeamOut(BaseModel):
    id: int
    name: str
    member_ids: list[int]
    created_at: datetime
