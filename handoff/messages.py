"""Storing messages: per-conversation seq allocated in the storing transaction, idempotent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.models import Conversation, Message, Sender


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
    return msg


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
