"""What an agent sees of a conversation: the transcript; beside it history, ticket, rating."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.conversations import get_conversation, ticket_for
from handoff.messages import messages_after
from handoff.models import Conversation, Message, MessageFeedback, Rating, Ticket, Visitor

HISTORY_LIMIT = 50  # earlier conversations listed; older ones are rarely what an agent needs


@dataclass(frozen=True)
class Transcript:
    conversation: Conversation
    visitor: Visitor | None
    messages: Sequence[Message]


async def transcript(*, session: AsyncSession, conversation_id: int) -> Transcript:
    """The whole conversation as agents see it: every message, private notes included."""
    conv = await get_conversation(session=session, conversation_id=conversation_id)
    visitor = await session.get(Visitor, conv.visitor_id)
    messages = await messages_after(
        session=session, conversation_id=conv.id, after_seq=0, include_notes=True
    )
    return Transcript(conv, visitor, messages)


@dataclass(frozen=True)
class Context:
    ticket: Ticket | None
    rating: Rating | None
    feedback: Sequence[MessageFeedback]
    earlier_conversations: Sequence[Conversation]
    tickets: Sequence[Ticket]


async def conversation_context(*, session: AsyncSession, conversation_id: int) -> Context:
    """Ticket, rating and feedback of a conversation, and the visitor's other conversations."""
    conv = await get_conversation(session=session, conversation_id=conversation_id)
    ticket = await ticket_for(session=session, conversation_id=conv.id)
    rating = await session.scalar(select(Rating).where(Rating.conversation_id == conv.id))
    feedback = (
        await session.scalars(
            select(MessageFeedback)
            .where(MessageFeedback.conversation_id == conv.id)
            .order_by(MessageFeedback.seq)
        )
    ).all()
    earlier = (
        await session.scalars(
            select(Conversation)
            .where(Conversation.visitor_id == conv.visitor_id, Conversation.id != conv.id)
            .order_by(Conversation.id.desc())
            .limit(HISTORY_LIMIT)
        )
    ).all()
    tickets = (
        await session.scalars(
            select(Ticket)
            .join(Conversation, Conversation.id == Ticket.conversation_id)
            .where(Conversation.visitor_id == conv.visitor_id)
            .order_by(Ticket.id.desc())
        )
    ).all()
    return Context(ticket, rating, feedback, earlier, tickets)
