"""Storing messages and announcing them.

Every message gets the conversation's next seq inside the transaction that stores it; a
client's message is stored once per client_msg_id (a resend gets the original back).
`announce` is the one way services tell sockets what changed: always after the commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import webhooks
from handoff.bus import Bus
from handoff.events import AGENTS_CHANNEL, conversation_channel, message_event, queue_event
from handoff.metrics import MESSAGES_STORED
from handoff.models import Conversation, Message, MessageRow, Sender
from handoff.visitor_state import visitor_state


@dataclass(frozen=True)
class Posted:
    """A stored message (a snapshot, read right after the commit) and whether it was a resend
    of one stored earlier."""

    message: MessageRow
    duplicate: bool


async def find_by_client_msg_id(
    *, session: AsyncSession, conversation_id: int, sender: Sender, client_msg_id: str
) -> Message | None:
    """The message a client already sent with this id, if any."""
    return await session.scalar(
        select(Message).where(
            Message.conversation_id == conversation_id,
            Message.sender == sender,
            Message.client_msg_id == client_msg_id,
        )
    )


async def append_message(
    *,
    session: AsyncSession,
    conversation_id: int,
    sender: Sender,
    text: str,
    client_msg_id: str | None = None,
    agent_id: int | None = None,
    meta: dict[str, Any] | None = None,
) -> Message:
    """Add a message with the next seq; the caller commits. Flushes so seq/id are known."""
    # UPDATE ... RETURNING takes the conversation row lock (PostgreSQL) or the write lock
    # (SQLite), so concurrent writers to one conversation get consecutive seqs, never equal.
    seq = await session.scalar(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(last_seq=Conversation.last_seq + 1)
        .returning(Conversation.last_seq)
    )
    if seq is None:
        raise LookupError(f"conversation {conversation_id} does not exist")
    msg = Message(
        conversation_id=conversation_id,
        seq=seq,
        sender=sender,
        text=text,
        client_msg_id=client_msg_id,
        agent_id=agent_id,
        meta=meta,
    )
    session.add(msg)
    await session.flush()
    if sender in webhooks.MESSAGE_SENDERS:
        await webhooks.emit(session, "message.created", lambda: webhooks.message_data(msg))
    return msg


async def store_client_message(
    *,
    session: AsyncSession,
    bus: Bus,
    conv: Conversation,
    sender: Sender,
    text: str,
    client_msg_id: str | None,
    agent_id: int | None = None,
    meta: dict[str, Any] | None = None,
) -> Posted:
    """Store a client's message once per client_msg_id, commit, then publish it."""
    if client_msg_id is not None:
        existing = await find_by_client_msg_id(
            session=session, conversation_id=conv.id, sender=sender, client_msg_id=client_msg_id
        )
        if existing is not None:
            return Posted(MessageRow.of(existing), duplicate=True)
    try:
        msg = await append_message(
            session=session,
            conversation_id=conv.id,
            sender=sender,
            text=text,
            client_msg_id=client_msg_id,
            agent_id=agent_id,
            meta=meta,
        )
        await session.commit()
    except IntegrityError:
        # The same resend raced us on another connection: theirs won, ours is the duplicate.
        await session.rollback()
        await session.refresh(conv)
        if client_msg_id is None:
            raise
        existing = await find_by_client_msg_id(
            session=session, conversation_id=conv.id, sender=sender, client_msg_id=client_msg_id
        )
        if existing is None:
            raise
        return Posted(MessageRow.of(existing), duplicate=True)
    await announce(session=session, bus=bus, conv=conv, messages=[msg], state=False, queue=False)
    return Posted(MessageRow.of(msg), duplicate=False)


async def messages_after(
    *,
    session: AsyncSession,
    conversation_id: int,
    after_seq: int,
    include_notes: bool,
    limit: int | None = None,
) -> Sequence[Message]:
    """Messages with seq > after_seq in order; notes only for agents."""
    query = (
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.seq > after_seq)
        .order_by(Message.seq)
    )
    if not include_notes:
        query = query.where(Message.sender != Sender.NOTE)
    if limit is not None:
        query = query.limit(limit)
    return (await session.scalars(query)).all()


async def announce(
    *,
    session: AsyncSession,
    bus: Bus,
    conv: Conversation,
    messages: Sequence[Message] = (),
    state: bool = True,
    queue: bool = True,
) -> None:
    """After the commit: publish the new messages, the visitor's state and the queue change."""
    channel = conversation_channel(conv.id)
    for msg in messages:
        MESSAGES_STORED.labels(msg.sender).inc()
        await bus.publish_after_commit(channel, message_event(msg))
    if state:
        await bus.publish_after_commit(channel, await visitor_state(session=session, conv=conv))
    if queue:
        await bus.publish_after_commit(AGENTS_CHANNEL, queue_event(conv))
