"""The `state` frame: what a visitor is told of their conversation (place, wait, agent, ticket)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handoff.conversations import ticket_for
from handoff.events import author, state_event
from handoff.models import Agent, Conversation, Ticket
from handoff.queue import estimated_wait_s, queue_position, recent_wait_s, ticket_offered
from handoff.states import ConversationState

S = ConversationState


async def visitor_state(
    *, session: AsyncSession, conv: Conversation, ticket: Ticket | None = None
) -> dict[str, Any]:
    """The `state` frame for the visitor, with queue position, agent and ticket (read unless
    the caller read it with the conversation)."""
    position = await queue_position(session=session, conv=conv)
    extra: dict[str, Any] = {"queue_position": position}
    if position is not None:
        extra["estimated_wait_s"] = estimated_wait_s(await recent_wait_s(session=session), position)
        # Issue 16: queued too long (or too long a wait ahead): offer a ticket instead.
        extra["ticket_offer"] = ticket_offered(
            queued_at=conv.queued_at, offered_at=conv.ticket_offered_at
        )
    if conv.assigned_agent_id is not None and conv.state == S.ASSIGNED:
        agent = await session.get(Agent, conv.assigned_agent_id)
        if agent is not None:
            extra["agent"] = author(agent)
    if conv.state == S.TICKET:
        if ticket is None:
            ticket = await ticket_for(session=session, conversation_id=conv.id)
        if ticket is not None:
            extra["ticket"] = {
                "id": ticket.id,
                "email": ticket.email,
                "reply_by": ticket.reply_by.isoformat() if ticket.reply_by else None,
                # The promised time in the words of the promise (handoff/tickets.py).
                "reply_by_text": ticket.promised_when,
                "status": str(ticket.status),
            }
    return state_event(conv, **extra)
