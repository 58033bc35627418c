"""What an agent does with a chat: take, reply (or note), type, transfer, reopen, close."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import canned_stats, texts, webhooks
from handoff.bus import Bus
from handoff.conversations import current_conversation, get_conversation, visitor_locale
from handoff.errors import Conflict, Forbidden, Invalid, NotFound
from handoff.events import author, conversation_channel
from handoff.messages import announce, append_message
from handoff.models import Agent, Conversation, Sender, utcnow
from handoff.queue import publish_queue_positions
from handoff.routing import Routing, assign, drain_queue
from handoff.states import ConversationState, check_transition
from handoff.team_transfer import transfer_messages, transfer_to_team
from handoff.tickets import solve_with_conversation
from handoff.writer import Guard, MessageWriter, NewMessage, Stored

S = ConversationState


async def take(
    *, session: AsyncSession, bus: Bus, conversation_id: int, agent: Agent
) -> Conversation:
    """Pick up a queued conversation (or a ticket); exactly one agent wins a race."""
    return await assign(session=session, bus=bus, conversation_id=conversation_id, agent=agent)


def _holds(conv: Conversation, agent: Agent) -> bool:
    return conv.state == S.ASSIGNED and conv.assigned_agent_id == agent.id


def may_reply(conv: Conversation, agent: Agent) -> bool:
    """Where an agent writes to the visitor: a chat they hold, or a ticket (anyone answers)."""
    return _holds(conv, agent) or conv.state == S.TICKET


def agent_message(
    *, conversation_id: int, agent: Agent, client_msg_id: str, text: str, note: bool = False
) -> NewMessage:
    """An agent's reply (only in a conversation they hold) or private note (in any)."""
    return NewMessage(
        conversation_id=conversation_id,
        sender=Sender.NOTE if note else Sender.AGENT,
        text=text,
        client_msg_id=client_msg_id,
        guard=Guard.NONE if note else Guard.HELD_BY_AGENT,
        agent_id=agent.id,
        meta={"author": author(agent)},
    )


async def accepted(*, session: AsyncSession, stored: Stored | None, conversation_id: int) -> Stored:
    """The stored reply, or why the writer refused it (NotFound, Forbidden)."""
    if stored is None:
        await get_conversation(session=session, conversation_id=conversation_id)  # NotFound
        raise Forbidden("take the conversation before replying")
    return stored


async def post_agent_message(
    *,
    session: AsyncSession,
    writer: MessageWriter,
    conversation_id: int,
    agent: Agent,
    client_msg_id: str,
    text: str,
    note: bool = False,
    canned_reply_id: int | None = None,
) -> Stored:
    """An agent's reply in a conversation they hold, or a private note in any; a reply's
    canned reply (if it used one) is counted."""
    new = agent_message(
        conversation_id=conversation_id,
        agent=agent,
        client_msg_id=client_msg_id,
        text=text,
        note=note,
    )
    stored = await accepted(
        session=session, stored=await writer.store(new), conversation_id=conversation_id
    )
    if canned_reply_id is not None and not note:
        await canned_stats.record_use(
            session=session, canned_reply_id=canned_reply_id, message=stored.message
        )
    return stored


async def agent_typing(
    *, session: AsyncSession, bus: Bus, conversation_id: int, agent: Agent
) -> None:
    """Tell the visitor (and other agents watching) that this agent is typing a reply.

    Only where they may reply (`may_reply`): nobody else's visitor sees them typing.
    """
    conv = await get_conversation(session=session, conversation_id=conversation_id)
    if not may_reply(conv, agent):
        raise Forbidden("take the conversation before typing to the visitor")
    await bus.publish_after_commit(
        conversation_channel(conversation_id),
        {
            "type": "typing",
            "conversation_id": conversation_id,
            "sender": "agent",
            "name": agent.name,
        },
    )


async def transfer(
    *,
    session: AsyncSession,
    bus: Bus,
    conversation_id: int,
    agent: Agent,
    to_agent_id: int | None,
    note: str | None,
    routing: Routing,
    to_team_id: int | None = None,
) -> Conversation:
    """Hand a chat you hold to another agent, or to a team's queue (to_team_id), with a
    private note for them (or none: "")."""
    if note and not note.strip():
        raise Invalid("note: must not be blank (leave it empty for no note)")
    if (to_agent_id is None) == (to_team_id is None):
        raise Invalid("transfer to an agent (to_agent_id) or to a team (to_team_id), one of them")
    conv = await get_conversation(session=session, conversation_id=conversation_id)
    if not _holds(conv, agent):
        raise Forbidden("only the agent holding a conversation can transfer it")
    if to_team_id is not None:
        return await transfer_to_team(
            session=session, bus=bus, conv=conv, agent=agent, team_id=to_team_id, note=note,
            routing=routing,
        )
    if to_agent_id == agent.id:
        raise Invalid("pick another agent to transfer to")
    target = await session.get(Agent, to_agent_id)
    if target is None:
        raise NotFound(f"agent {to_agent_id} not found")
    if target.disabled_at is not None:
        raise Invalid(f"{target.name}'s account is disabled: pick another agent")
    check_transition(conv.state, S.ASSIGNED)
    moved = await session.scalar(
        update(Conversation)
        .where(
            Conversation.id == conv.id,
            Conversation.state == S.ASSIGNED,
            Conversation.assigned_agent_id == agent.id,
        )
        .values(assigned_agent_id=target.id)
        .returning(Conversation.id)
    )
    if moved is None:
        await session.rollback()
        raise Conflict(f"conversation {conversation_id} changed meanwhile")
    said = texts.text(
        "agent.transferred",
        await visitor_locale(session=session, visitor_id=conv.visitor_id),
        agent=agent.name,
        target=target.name,
    )
    messages = await transfer_messages(
        session=session,
        conv=conv,
        agent=agent,
        note=note,
        to={"to_agent_id": target.id},
        said=said,
        shown={"author": author(target)},  # the visitor's line shows who takes over
    )
    await webhooks.emit(session, "conversation.assigned", lambda: webhooks.conversation_data(
        conv, now={"assigned_agent_id": target.id},
        agent={"id": target.id, "name": target.name}, previous_agent_id=agent.id))
    await session.commit()
    conv = await get_conversation(session=session, conversation_id=conversation_id)
    await announce(session=session, bus=bus, conv=conv, messages=messages)
    await drain_queue(session=session, bus=bus, routing=routing)  # a slot freed up
    return await get_conversation(session=session, conversation_id=conversation_id)


async def reopen(
    *, session: AsyncSession, bus: Bus, conversation_id: int, agent: Agent
) -> Conversation:
    """Take a closed conversation back (only the visitor's latest one)."""
    conv = await get_conversation(session=session, conversation_id=conversation_id)
    check_transition(conv.state, S.ASSIGNED)
    latest = await current_conversation(session=session, visitor_id=conv.visitor_id)
    if latest is None or latest.id != conv.id:
        raise Conflict("the visitor has started a newer conversation; answer there")
    won = await session.scalar(
        update(Conversation)
        .where(Conversation.id == conv.id, Conversation.state == S.CLOSED)
        .values(state=S.ASSIGNED, assigned_agent_id=agent.id, closed_at=None)
        .returning(Conversation.id)
    )
    if won is None:
        await session.rollback()
        raise Conflict(f"conversation {conversation_id} was reopened by someone else")
    msg = await append_message(
        session=session,
        conversation_id=conv.id,
        sender=Sender.SYSTEM,
        text=texts.text(
            "agent.reopened",
            await visitor_locale(session=session, visitor_id=conv.visitor_id),
            agent=agent.name,
        ),
        meta={"kind": "reopened", "author": author(agent)},
    )
    await session.commit()
    conv = await get_conversation(session=session, conversation_id=conversation_id)
    await announce(session=session, bus=bus, conv=conv, messages=[msg])
    return conv


async def close(
    *,
    session: AsyncSession,
    bus: Bus,
    conversation_id: int,
    agent: Agent,
    routing: Routing | None = None,
) -> Conversation:
    """Close the conversation and ask for a rating; the next message starts a new one."""
    conv = await get_conversation(session=session, conversation_id=conversation_id)
    if conv.state == S.ASSIGNED and conv.assigned_agent_id != agent.id:
        raise Forbidden("only the assigned agent can close this conversation")
    was_queued = conv.state == S.QUEUED
    was_assigned = conv.state == S.ASSIGNED
    conv.move_to(S.CLOSED)
    conv.closed_at = utcnow()
    await solve_with_conversation(session=session, conversation_id=conv.id)
    locale = await visitor_locale(session=session, visitor_id=conv.visitor_id)
    closed = await append_message(
        session=session,
        conversation_id=conv.id,
        sender=Sender.SYSTEM,
        text=texts.text("agent.closed", locale, agent=agent.name),
        meta={"kind": "closed"},
    )
    rating_request = await append_message(
        session=session,
        conversation_id=conv.id,
        sender=Sender.SYSTEM,
        text=texts.text("rating.request", locale),
        meta={"kind": "rating_request"},
    )
    await webhooks.emit(session, "conversation.closed", lambda: webhooks.conversation_data(
        conv, closed_by_agent_id=agent.id))
    await session.commit()
    await announce(session=session, bus=bus, conv=conv, messages=[closed, rating_request])
    if was_queued:
        await publish_queue_positions(session=session, bus=bus)
    if was_assigned and routing is not None:
        await drain_queue(session=session, bus=bus, routing=routing)  # a slot freed up
        conv = await get_conversation(session=session, conversation_id=conversation_id)
    return conv
