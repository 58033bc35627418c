"""ORM models. The schema itself only changes through Alembic migrations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from handoff.states import ConversationState, check_transition

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
CLIENT_MSG_ID_MAX = 64  # a UUID is 36; leave room for client prefixes
MESSAGE_TEXT_MAX = 8 * 1024  # the protocol's limit on a chat message (docs/protocol.md)
ROW_ID_MAX = 2**31 - 1  # ids and seqs are INTEGER (32 bits on PostgreSQL): no row has more


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Sender(StrEnum):
    VISITOR = "visitor"
    BOT = "bot"
    AGENT = "agent"
    SYSTEM = "system"
    NOTE = "note"  # private agent note: never sent to the visitor


class AgentStatus(StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


class TicketStatus(StrEnum):
    OPEN = "open"
    PENDING = "pending"
    SOLVED = "solved"


class Visitor(Base):
    """Someone in the chat bubble: what they typed themselves, and what the site vouched for.

    `name`/`email` are visitor-supplied (hello.name, the `email` frame): anyone can type
    anything. `user_id`/`verified_name`/`verified_email` come only from an identity the
    embedding site signed (app/identity.py); nothing the visitor types ever writes them.
    """

    __tablename__ = "visitors"
    # A token names a visitor's id: never hand a deleted visitor's id to someone else.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    # The site's own id for its signed-in user: one visitor per user, on every device.
    user_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    verified_name: Mapped[str | None] = mapped_column(String(200))
    verified_email: Mapped[str | None] = mapped_column(String(320))
    locale: Mapped[str | None] = mapped_column(String(35))
    page_url: Mapped[str | None] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    avatar_url: Mapped[str | None] = mapped_column(String(2048))
    is_admin: Mapped[bool] = mapped_column(default=False)
    capacity: Mapped[int] = mapped_column(Integer, default=3)
    status: Mapped[AgentStatus] = mapped_column(String(16), default=AgentStatus.OFFLINE)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set by an admin: the agent cannot log in, their tokens and open consoles end at once.
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Login tokens issued before this are refused (set by a password reset and by disabling).
    tokens_valid_after: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AgentAvatar(Base):
    """An agent's uploaded picture, kept by the server (no remote URL is ever fetched)."""

    __tablename__ = "agent_avatars"

    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    content_type: Mapped[str] = mapped_column(String(40))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ServiceSetting(Base):
    """A setting an admin changed in the console (business hours, the widget's look, ...).

    One row per group (`key`), its value a JSON object. The environment's settings are the
    initial values; a row here overrides them on every replica.
    """

    __tablename__ = "service_settings"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(Integer)


class AuditEvent(Base):
    """One admin or security event (login, failed login, KB or team change, export, deletion)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(40), index=True)
    # Who did it, if anyone signed in; kept as a plain id so the log outlives the account.
    agent_id: Mapped[int | None] = mapped_column(Integer)
    ip: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (
        # The login throttle counts recent failures per IP and per account (handoff/logins.py).
        Index("ix_audit_events_action_ip_at", "action", "ip", "at"),
        Index("ix_audit_events_action_at", "action", "at"),
    )


class ServerKey(Base):
    """A key the server made itself (the token signing key): kept so replicas and restarts agree."""

    __tablename__ = "server_keys"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RevokedToken(Base):
    """An agent login token ended by logging out; kept until it would have expired anyway."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(32), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class AgentPresence(Base):
    """One live agent socket somewhere in the cluster, refreshed by its heartbeat."""

    __tablename__ = "agent_presence"

    socket_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    replica_id: Mapped[str | None] = mapped_column(String(64))
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(primary_key=True)
    visitor_id: Mapped[int] = mapped_column(ForeignKey("visitors.id"), index=True)
    state: Mapped[ConversationState] = mapped_column(String(16), default=ConversationState.BOT)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    assigned_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), index=True)
    bot_misses: Mapped[int] = mapped_column(Integer, default=0)
    escalation_reason: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ticket_offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # queue_timeout.py
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    visitor: Mapped[Visitor] = relationship(lazy="raise")
    agent: Mapped[Agent | None] = relationship(lazy="raise")

    def move_to(self, target: ConversationState) -> None:
        """Change state along an allowed edge; IllegalTransition otherwise."""
        check_transition(ConversationState(self.state), target)
        self.state = target


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq", name="uq_messages_conversation_seq"),
        UniqueConstraint(
            "conversation_id", "sender", "client_msg_id", name="uq_messages_client_msg_id"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    seq: Mapped[int] = mapped_column(Integer)
    sender: Mapped[Sender] = mapped_column(String(16))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    client_msg_id: Mapped[str | None] = mapped_column(String(CLIENT_MSG_ID_MAX))
    text: Mapped[str] = mapped_column(Text)
    meta: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@dataclass(frozen=True, slots=True)
class MessageRow:
    """A messages row as the hot path reads and writes it: SQLAlchemy Core, no ORM object."""

    id: int
    conversation_id: int
    seq: int
    sender: str
    agent_id: int | None
    client_msg_id: str | None
    text: str
    meta: dict[str, Any] | None
    created_at: datetime

    @classmethod
    def of(cls, msg: Message) -> MessageRow:
        """A snapshot of an ORM message: still readable after its session rolled back."""
        return cls(
            msg.id,
            msg.conversation_id,
            msg.seq,
            str(msg.sender),
            msg.agent_id,
            msg.client_msg_id,
            msg.text,
            msg.meta,
            msg.created_at,
        )


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), unique=True)
    status: Mapped[TicketStatus] = mapped_column(String(16), default=TicketStatus.OPEN)
    email: Mapped[str | None] = mapped_column(String(320))
    # When we promised the visitor a reply (the next opening time); shown in the widget.
    reply_by: Mapped[datetime | None] = mapped_column(UTCDateTime)
    promised_when: Mapped[str | None] = mapped_column(String(200))  # reply_by as worded to them
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SentMail(Base):
    """One e-mail a visitor asked us to send (a transcript): the per-address and hourly limits."""

    __tablename__ = "sent_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    address: Mapped[str] = mapped_column(String(320))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class MessageFeedback(Base):
    """The visitor's "Was this helpful?" answer to one bot message."""

    __tablename__ = "message_feedback"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq", name="uq_message_feedback_conversation_seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    seq: Mapped[int] = mapped_column(Integer)
    helpful: Mapped[bool] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Rating(Base):
    """The visitor's after-chat rating: 1-5 stars and an optional comment."""

    __tablename__ = "ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), unique=True)
    stars: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CannedReply(Base):
    """A prepared answer agents insert with `/shortcut`; managed by admins."""

    __tablename__ = "canned_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    shortcut: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class FaqEntry(Base):
    __tablename__ = "faq_entries"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    variants: Mapped[list[FaqVariant]] = relationship(  # the KB language's (issue 17)
        cascade="all, delete-orphan", order_by="FaqVariant.id", lazy="selectin",
        primaryjoin="and_(FaqEntry.id == FaqVariant.entry_id, FaqVariant.translation_id.is_(None))",
    )
    translations: Mapped[list[FaqTranslation]] = relationship(
        cascade="all, delete-orphan", order_by="FaqTranslation.lang", lazy="selectin"
    )


class FaqVariant(Base):
    __tablename__ = "faq_variants"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[str] = mapped_column(
        ForeignKey("faq_entries.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    # Set for a variant of a translation (issue 17); NULL: the knowledge base's language.
    translation_id: Mapped[int | None] = mapped_column(
        ForeignKey("faq_translations.id", ondelete="CASCADE"), index=True
    )
    learned: Mapped[bool] = mapped_column(default=False)  # Entry.learned: from the misses inbox


# --- issue 17: multilingual knowledge base ----------------------------------------------
class FaqTranslation(Base):
    """An FAQ entry's question and answer in one more language (its variants: faq_variants)."""

    __tablename__ = "faq_translations"
    __table_args__ = (UniqueConstraint("entry_id", "lang"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[str] = mapped_column(
        ForeignKey("faq_entries.id", ondelete="CASCADE"), index=True
    )
    lang: Mapped[str] = mapped_column(String(35))  # a language tag: "cs", "zh-Hant"
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)

    variants: Mapped[list[FaqVariant]] = relationship(
        cascade="all, delete-orphan", order_by="FaqVariant.id", lazy="selectin"
    )
