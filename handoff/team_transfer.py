"""An agent's transfer of a chat they hold to a team: back to the queue, for that team first
(handoff/team_routing.py), with a private note for whoever takes it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import texts
from handoff.bus import Bus
from handoff.conversations import get_conversation, visitor_locale
from handoff.errors import Conflict
from handoff.events import author
from handoff.messages import announce, append_message
from handoff.models import Agent, Conversation, Message, Sender, utcnow
from handoff.routing import Routing, drain_queue
from handoff.states import ConversationState, check_transition
from handoff.team_routing import route_to_team
from handoff.teams import get_team

S = ConversationState


async def transfer_messages(
    *,
    session: AsyncSession,
    conv: Conversation,
    agent: Agent,
    note: str | None,
    to: dict[str, Any],
    said: str,
    shown: dict[str, Any] | None = None,
) -> list[Message]:
    """A transfer's messages (the caller commits): the agent's private note, if any, and the
    system line the visitor reads (`said`, with `shown` in its meta); `to` names where it went
    (agent or team)."""
    messages = []
    if note:
        messages.append(
            await append_message(
                session=session,
                conversation_id=conv.id,
                sender=Sender.NOTE,
                text=note.strip(),
                agent_id=agent.id,
                meta={"author": author(agent), "kind": "transfer", **to},
            )
        )
    messages.append(
        await append_message(
            session=session,
            conversation_id=conv.id,
            sender=Sender.SYSTEM,
            text=said,
            meta={"kind": "transferred", "from_agent_id": agent.id, **to, **(shown or {})},
        )
    )
    return messages


async def transfer_to_team(
    *,
    session: AsyncSession,
    bus: Bus,
    conv: Conversation,
    agent: Agent,
    team_id: int,
    note: str | None,
    routing: Routing,
) -> Conversation:
    """Put a chat the agent holds in the team's queue (its old place kept: it waited already)."""
    team = await get_team(session=session, team_id=team_id)
    check_transition(conv.state, S.QUEUED)
    now = utcnow()
    moved = await session.scalar(
        update(Conversation)
        .where(
            Conversation.id == conv.id,
            Conversation.state == S.ASSIGNED,
            Conversation.assigned_agent_id == agent.id,
        )
        .values(
            state=S.QUEUED,
            assigned_agent_id=None,
            queued_at=func.coalesce(Conversation.queued_at, now),
        )
        .returning(Conversation.id)
    )
    if moved is None:
        await session.rollback()
        raise Conflict(f"conversation {conv.id} changed meanwhile")
    await route_to_team(
        session=session, conversation_id=conv.id, team_id=team.id, now=now, from_agent_id=agent.id
    )
    said = texts.text(
        "agent.transferred_team",
        await visitor_locale(session=session, visitor_id=conv.visitor_id),
        agent=agent.name,
        team=team.name,
    )
    messages = await transfer_messages(
        session=session, conv=conv, agent=agent, note=note, to={"to_team_id": team.id}, said=said
    )
    await session.commit()
    conv = await get_conversation(session=session, conversation_id=conv.id)
    await announce(session=session, bus=bus, conv=conv, messages=messages)
    await drain_queue(session=session, bus=bus, routing=routing)
    return await get_conversation(session=session, conversation_id=conv.id)
