"""Reading conversations: one by id, a visitor's latest, the console's lists, a chat's ticket."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.errors import NotFound
from handoff.models import Conversation, Ticket, Visitor
from handoff.states import ConversationState


async def get_conversation(*, session: AsyncSession, conversation_id: int) -> Conversation:
    """The conversation as the database has it now (never a stale identity-map copy)."""
    conv = await session.get(Conversation, conversation_id, populate_existing=True)
    if conv is None:
        raise NotFound(f"conversation {conversation_id} not found")
    return conv


async def current_conversation(*, session: AsyncSession, visitor_id: int) -> Conversation | None:
    """The visitor's most recent conversation, open or closed."""
    return await session.scalar(
        select(Conversation)
        .where(Conversation.visitor_id == visitor_id)
        .order_by(Conversation.id.desc())
        .limit(1)
    )


async def ticket_for(*, session: AsyncSession, conversation_id: int) -> Ticket | None:
    """The conversation's ticket, if it ever became one."""
    return await session.scalar(select(Ticket).where(Ticket.conversation_id == conversation_id))


async def list_conversations(
    *, session: AsyncSession, states: Sequence[ConversationState], agent_id: int | None = None
) -> Sequence[Conversation]:
    """Conversations in the given states (optionally only one agent's), oldest first."""
    query = select(Conversation).where(Conversation.state.in_(states))
    if agent_id is not None:
        query = query.where(Conversation.assigned_agent_id == agent_id)
    return (await session.scalars(query.order_by(Conversation.queued_at, Conversation.id))).all()


async def remember_locale(*, session: AsyncSession, visitor_id: int, locale: str) -> None:
    """A returning visitor's widget now speaks another language: later sentences use it."""
    await session.execute(update(Visitor).where(Visitor.id == visitor_id).values(locale=locale))
    await session.commit()


async def visitor_locale(*, session: AsyncSession, visitor_id: int) -> str | None:
    """The locale the visitor's widget said in its hello (what handoff/texts.py writes in)."""
    return await session.scalar(select(Visitor.locale).where(Visitor.id == visitor_id))
