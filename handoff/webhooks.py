"""Outgoing webhooks, the services' side: the event types, `emit`, and who subscribes to what.

A service that changes something calls `emit(session, type, data)` (or, on the hot path's
connection, `emit_many` / `emit_writes`) before its commit: the event row goes into the outbox
table in the same transaction as the change, so it is never lost once the change is committed.
`handoff/webhook_delivery.py` fans each event out to the endpoints that want it and delivers.

Which event types any enabled endpoint wants is cached per process (`SUBSCRIBED`): an event
nobody wants costs no statement at all. An admin's change applies at once in its process, then
on every replica by a bus event, and every POLL_S anyway (a replica that missed the event).
The endpoints themselves are managed in `handoff/webhook_admin.py`.
"""

from __future__ import annotations

import ipaddress
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from handoff.bus import Bus, follow
from handoff.models import Sender, utcnow
from handoff.webhook_models import WebhookEndpoint, WebhookEvent

log = logging.getLogger(__name__)

# Every event type an endpoint can subscribe to, and what it means (docs/integrations.md).
EVENT_TYPES: dict[str, str] = {
    "conversation.created": "a visitor started a conversation (with the bot)",
    "conversation.escalated": "the bot handed the chat to the agent queue or to a ticket",
    "conversation.assigned": "an agent got the chat (took it, auto-assigned or transferred)",
    "message.created": "a visitor, bot or agent message was stored (not notes or system lines)",
    "conversation.closed": "an agent closed the conversation",
    "conversation.rated": "the visitor rated the closed conversation (again: the new rating)",
    "ticket.created": "a chat became a ticket",
    "ticket.updated": "a ticket's status changed (open, pending, solved)",
    "sla.breached": "a first or next reply took longer than its SLA target (business time)",
}
NOT_EMITTED_YET: frozenset[str] = frozenset()  # defined and subscribable; nothing emits it yet
TEST_TYPE = "webhook.test"  # "send test event": to one endpoint, whatever it subscribes to
CHANNEL = "webhooks"  # bus channel: an admin changed the endpoints, every replica re-reads
POLL_S = 10.0  # a replica that missed the change's bus event applies it this much later at most
EVENTS = cast(Table, WebhookEvent.__table__)
MESSAGE_SENDERS = frozenset({Sender.VISITOR, Sender.BOT, Sender.AGENT})  # message.created

Data = Mapping[str, Any] | Callable[[], Mapping[str, Any]]


@dataclass
class Subscriptions:
    """This process's copy of what the enabled endpoints want."""

    types: frozenset[str] = frozenset()
    endpoints: int = 0  # enabled ones: with none, the delivery worker does not even poll
    seen: tuple[Any, ...] = ()

    def wants(self, event_type: str) -> bool:
        return event_type in self.types

    def forget(self) -> None:
        """Nobody subscribed: a process's state before its first `refresh` (and a test's)."""
        self.types, self.endpoints, self.seen = frozenset(), 0, ()


SUBSCRIBED = Subscriptions()


async def refresh(*, session: AsyncSession | AsyncConnection) -> bool:
    """Re-read the endpoints (one statement) into SUBSCRIBED; True if anything changed."""
    rows = (
        await session.execute(
            select(
                WebhookEndpoint.id,
                WebhookEndpoint.event_types,
                WebhookEndpoint.enabled,
                WebhookEndpoint.updated_at,
            ).order_by(WebhookEndpoint.id)
        )
    ).all()
    seen = tuple(tuple(r) for r in rows)
    if seen == SUBSCRIBED.seen:
        return False
    enabled = [r for r in rows if r.enabled]
    SUBSCRIBED.types = frozenset(t for r in enabled for t in r.event_types)
    SUBSCRIBED.endpoints = len(enabled)
    SUBSCRIBED.seen = seen
    return True


async def follow_forever(*, sessions: async_sessionmaker[AsyncSession], bus: Bus) -> None:
    """Keep SUBSCRIBED in step with the endpoints: on every change event, and every POLL_S."""

    async def reread() -> None:
        async with sessions() as session:
            if await refresh(session=session):
                log.info("webhook endpoints changed: %d enabled", SUBSCRIBED.endpoints)

    await follow(bus, CHANNEL, every_s=POLL_S, reread=reread, what="webhook endpoints")


def _row(
    event_type: str, data: Mapping[str, Any], endpoint_id: int | None = None
) -> dict[str, Any]:
    return {
        "uuid": str(uuid.uuid4()),
        "type": event_type,
        "data": dict(data),
        "created_at": utcnow(),
        "fanned_out_at": None,
        "endpoint_id": endpoint_id,
    }


async def emit(session: AsyncSession, event_type: str, data: Data) -> None:
    """Put an event in the outbox, in the caller's transaction (the caller commits).

    Nothing happens, not even a statement, when no enabled endpoint wants `event_type`. `data`
    may be a function: it is called only then (after a flush, so new rows have their ids).
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    if not SUBSCRIBED.wants(event_type):
        return
    if callable(data):
        await session.flush()
        data = data()
    session.add(WebhookEvent(**_row(event_type, data)))


async def emit_many(
    conn: AsyncConnection, events: Iterable[tuple[str, Mapping[str, Any]]]
) -> None:
    """The wanted ones of `events` into the outbox in one multi-row INSERT, on `conn`'s
    transaction (the hot path's Core connection); nothing when none is wanted."""
    rows = [_row(t, data) for t, data in events if SUBSCRIBED.wants(t)]
    if rows:
        await conn.execute(insert(EVENTS), rows)


async def emit_writes(
    conn: AsyncConnection, *, opened: Sequence[tuple[int, int]], stored: Sequence[Any]
) -> None:
    """The group commit's events: conversations opened ((visitor id, conversation id) pairs)
    and messages stored (`Stored` or None, duplicates skipped); one INSERT at most."""
    events: list[tuple[str, Mapping[str, Any]]] = []
    if SUBSCRIBED.wants("conversation.created"):
        events += [("conversation.created", opened_data(v, c)) for v, c in opened]
    if SUBSCRIBED.wants("message.created"):
        events += [
            ("message.created", message_data(s.message))
            for s in stored
            if s is not None and not s.duplicate and s.message.sender in MESSAGE_SENDERS
        ]
    await emit_many(conn, events)


def test_event_row(endpoint_id: int) -> dict[str, Any]:
    """The outbox row of a "send test event" to one endpoint."""
    return _row(TEST_TYPE, {"message": "a test event from chatdesk"}, endpoint_id)


# --- payloads: what receivers get in "data" ----------------------------------------------


class ConversationLike(Protocol):
    id: int
    visitor_id: int
    state: Any
    escalation_reason: str | None
    assigned_agent_id: int | None


class MessageLike(Protocol):
    id: int
    conversation_id: int
    seq: int
    sender: Any
    agent_id: int | None
    text: str
    created_at: Any


def conversation_data(
    conv: ConversationLike, *, now: Mapping[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    """{"conversation": {...}, **extra}: the conversation as it stands after the change (`now`:
    the fields a Core UPDATE changed that the ORM object does not know yet)."""
    conversation = {
        "id": conv.id,
        "visitor_id": conv.visitor_id,
        "state": str(conv.state),
        "escalation_reason": conv.escalation_reason,
        "assigned_agent_id": conv.assigned_agent_id,
    }
    return {"conversation": {**conversation, **(now or {})}, **extra}


def opened_data(visitor_id: int, conversation_id: int) -> dict[str, Any]:
    """A conversation the group commit just opened: with the bot, nobody assigned."""
    conversation = {
        "id": conversation_id,
        "visitor_id": visitor_id,
        "state": "bot",
        "escalation_reason": None,
        "assigned_agent_id": None,
    }
    return {"conversation": conversation}


def message_data(msg: MessageLike) -> dict[str, Any]:
    return {
        "message": {
            "id": msg.id,
            "conversation_id": msg.conversation_id,
            "seq": msg.seq,
            "sender": str(msg.sender),
            "agent_id": msg.agent_id,
            "text": msg.text,
            "created_at": msg.created_at.isoformat(),
        }
    }


def ticket_data(ticket: Any) -> dict[str, Any]:
    """{"ticket": {...}} of a Ticket or a tickets row."""
    reply_by = ticket.reply_by
    return {
        "ticket": {
            "id": ticket.id,
            "conversation_id": ticket.conversation_id,
            "status": str(ticket.status),
            "email": ticket.email,
            "reply_by": reply_by.isoformat() if reply_by is not None else None,
        }
    }


# --- where webhooks may go (SSRF) ----------------------------------------------------------


@dataclass(frozen=True)
class Targets:
    """Which URLs endpoints may have. Production: https to public addresses only, unless the
    operator allows internal receivers (CHATDESK_WEBHOOK_ALLOW_INTERNAL)."""

    allow_http: bool = True
    allow_private: bool = True


def public_address(address: str) -> bool:
    """A globally routable address: not private, loopback, link-local, multicast, reserved."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_addresses(host: str, addresses: Sequence[str], targets: Targets) -> None:
    """Refuse a host that resolves to an internal address (when the targets forbid them)."""
    if targets.allow_private:
        return
    for address in addresses:
        if not public_address(address):
            raise PermissionError(f"{host} resolves to {address}, an internal address")
