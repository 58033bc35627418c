"""Escalation: the bot hands a chat to a person, or to a ticket when nobody can answer now.

A chat goes to the agent queue while we are open (business hours, holidays) and an agent is
online; otherwise it becomes a ticket and the visitor is told when a person will reply.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import Reason
from handoff import misses, texts, webhooks
from handoff.agents import online_agents
from handoff.bus import Bus
from handoff.conversations import get_conversation, visitor_locale
from handoff.errors import Invalid
from handoff.messages import Posted, announce, append_message, store_client_message
from handoff.models import Conversation, Sender, utcnow
from handoff.queue import queue_joined
from handoff.routing import Routing, drain_queue
from handoff.states import ConversationState
from handoff.team_models import Team
from handoff.team_routing import route_to_team
from handoff.tickets import Why, open_ticket, promise

S = ConversationState


async def escalate(
    *,
    session: AsyncSession,
    bus: Bus,
    conv: Conversation,
    reason: Reason,
    routing: Routing,
    bot_meta: dict[str, Any] | None = None,
    team_id: int | None = None,
) -> None:
    """Hand the chat to the agent queue (and maybe an agent), or open a ticket; with a team,
    to that team's queue first (handoff/team_routing.py)."""
    now = utcnow()
    is_open = routing.hours.is_open(now)
    agents = (
        await online_agents(session=session, presence_timeout_s=routing.presence_timeout_s)
        if is_open
        else []
    )
    conv.escalation_reason = str(reason)
    locale = await visitor_locale(session=session, visitor_id=conv.visitor_id)
    if agents:
        conv.move_to(S.QUEUED)
        conv.queued_at = now
        await session.flush()
        if team_id is not None:
            await route_to_team(session=session, conversation_id=conv.id, team_id=team_id, now=now)
        said = await queue_joined(session=session, conv=conv, locale=locale)
    else:
        conv.move_to(S.TICKET)
        ticket = await open_ticket(session=session, conv=conv, routing=routing, now=now)
        why = Why.NOBODY_ONLINE if is_open else Why.CLOSED_NOW
        said = promise(routing=routing, ticket=ticket, why=why, locale=locale)
    meta = dict(bot_meta or {}, kind="escalate", reason=str(reason))
    if team_id is not None:
        meta["team_id"] = team_id
    msg = await append_message(
        session=session, conversation_id=conv.id, sender=Sender.SYSTEM, text=said, meta=meta
    )
    await webhooks.emit(session, "conversation.escalated", lambda: webhooks.conversation_data(
        conv, reason=str(reason), to=str(conv.state)))
    await session.commit()
    await announce(session=session, bus=bus, conv=conv, messages=[msg])
    if conv.state == S.QUEUED:
        await drain_queue(session=session, bus=bus, routing=routing)


async def request_human(
    *,
    session: AsyncSession,
    bus: Bus,
    conversation_id: int,
    client_msg_id: str,
    routing: Routing,
    team_id: int | None = None,
) -> Posted:
    """The visitor pressed "Talk to a person" (after picking a team's topic: team_id)."""
    if team_id is not None and await session.get(Team, team_id) is None:
        raise Invalid(f"no topic {team_id}: pick one of the welcome's topics")
    conv = await get_conversation(session=session, conversation_id=conversation_id)
    posted = await store_client_message(
        session=session,
        bus=bus,
        conv=conv,
        sender=Sender.VISITOR,
        text=texts.text(
            "visitor.asked_for_human",
            await visitor_locale(session=session, visitor_id=conv.visitor_id),
        ),
        client_msg_id=client_msg_id,
        meta={"kind": "handoff"},
    )
    # Also on a resend: the first attempt may have been stored by a replica that died (or
    # hit a deadlock) before escalating; the request is still with the bot until we do.
    if conv.state == S.BOT:
        # Right after an answer, the answer did not do (issue 15): its question is collected.
        await misses.record_answered(
            session=session, conversation_id=conv.id, bot_seq=None, reason=misses.ASKED_FOR_HUMAN
        )
        await escalate(
            session=session,
            bus=bus,
            conv=conv,
            reason=Reason.ASKED_FOR_HUMAN,
            routing=routing,
            team_id=team_id,
        )
    return posted
