"""Tickets: the chat a person answers later, by the widget and by e-mail."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import conversations as chat
from handoff.bus import Bus
from handoff.errors import Conflict, NotFound
from handoff.events import AGENTS_CHANNEL, conversation_channel, message_event, queue_event
from handoff.mail import MailConfig, send_mail
from handoff.messages import append_message, find_by_client_msg_id
from handoff.models import Agent, Conversation, Sender, Ticket, TicketStatus, Visitor, utcnow
from handoff.routing import Routing
from handoff.states import ConversationState, check_transition

S = ConversationState


async def ticket_for(*, session: AsyncSession, conversation_id: int) -> Ticket | None:
    return await session.scalar(select(Ticket).where(Ticket.conversation_id == conversation_id))


async def request_ticket(
    *,
    session: AsyncSession,
    bus: Bus,
    conversation_id: int,
    client_msg_id: str,
    routing: Routing,
) -> chat.Posted:
    """The queued visitor gives up waiting: "e-mail me instead" turns the chat into a ticket."""
    conv = await chat.get_conversation(session=session, conversation_id=conversation_id)
    earlier = await find_by_client_msg_id(
        session=session, conversation_id=conv.id, sender=Sender.VISITOR, client_msg_id=client_msg_id
    )
    if earlier is not None:
        return chat.Posted(earlier, duplicate=True)
    if conv.state != S.QUEUED:
        raise Conflict(f"conversation {conversation_id} is {conv.state}, not waiting in the queue")
    posted = await chat._post(
        session=session,
        bus=bus,
        conv=conv,
        sender=Sender.VISITOR,
        text=chat.EMAIL_INSTEAD_TEXT,
        client_msg_id=client_msg_id,
        meta={"kind": "request_ticket"},
    )
    if posted.duplicate:
        return posted
    check_transition(S.QUEUED, S.TICKET)
    # Compare-and-set: an agent may be taking this chat at this very moment.
    moved = await session.scalar(
        update(Conversation)
        .where(Conversation.id == conv.id, Conversation.state == S.QUEUED)
        .values(state=S.TICKET)
        .returning(Conversation.id)
    )
    if moved is None:
        await session.rollback()
        return posted  # an agent took it meanwhile: the chat goes on live
    conv = await chat.get_conversation(session=session, conversation_id=conversation_id)
    visitor = await session.get(Visitor, conv.visitor_id)
    now = utcnow()
    ticket = Ticket(
        conversation_id=conv.id,
        email=visitor.email if visitor else None,
        reply_by=chat.promised_reply(routing=routing, now=now),
    )
    session.add(ticket)
    await session.flush()
    msg = await append_message(
        session=session,
        conversation_id=conv.id,
        sender=Sender.SYSTEM,
        text=chat.ticket_text(routing=routing, ticket=ticket, why=chat.AS_ASKED),
        meta={"kind": "ticket", "ticket_id": ticket.id},
    )
    await session.commit()
    await bus.publish_after_commit(conversation_channel(conv.id), message_event(msg))
    await bus.publish_after_commit(
        conversation_channel(conv.id), await chat.visitor_state(session=session, conv=conv)
    )
    await bus.publish_after_commit(AGENTS_CHANNEL, queue_event(conv))
    await chat.publish_queue_positions(session=session, bus=bus)
    return posted


async def reply_to_ticket(
    *,
    session: AsyncSession,
    bus: Bus,
    mail: MailConfig,
    conversation_id: int,
    agent: Agent,
    client_msg_id: str,
    text: str,
) -> chat.Posted:
    """An agent answers a ticket: the visitor sees it in the widget, and by e-mail if known."""
    conv = await chat.get_conversation(session=session, conversation_id=conversation_id)
    ticket = await ticket_for(session=session, conversation_id=conversation_id)
    if conv.state != S.TICKET or ticket is None:
        raise Conflict(f"conversation {conversation_id} is not an open ticket")
    posted = await chat._post(
        session=session,
        bus=bus,
        conv=conv,
        sender=Sender.AGENT,
        text=text,
        client_msg_id=client_msg_id,
        agent_id=agent.id,
        meta={"author": {"name": agent.name, "avatar_url": agent.avatar_url}},
    )
    if posted.duplicate:
        return posted
    ticket = await ticket_for(session=session, conversation_id=conversation_id)
    assert ticket is not None
    ticket.status = TicketStatus.PENDING  # waiting on the customer now
    email = ticket.email
    ticket_id = ticket.id
    await session.commit()
    await bus.publish_after_commit(AGENTS_CHANNEL, queue_event(conv))
    if email:
        await send_mail(
            config=mail,
            to=email,
            subject=f"Re: your ticket #{ticket_id}",
            body=(
                f"{agent.name} replied to your ticket #{ticket_id}:\n\n{text}\n\n"
                "You can answer in the chat on our website, where the whole conversation is "
                "waiting for you.\n"
            ),
        )
    return posted


async def set_status(
    *, session: AsyncSession, bus: Bus, ticket_id: int, status: TicketStatus
) -> Ticket:
    """Mark a ticket open, pending (waiting on the customer) or solved."""
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"ticket {ticket_id} not found")
    ticket.status = status
    await session.commit()
    conv = await chat.get_conversation(session=session, conversation_id=ticket.conversation_id)
    await bus.publish_after_commit(AGENTS_CHANNEL, queue_event(conv))
    return ticket


async def list_tickets(
    *, session: AsyncSession, status: TicketStatus | None = None
) -> Sequence[Ticket]:
    """Tickets, newest first, optionally of one status."""
    query = select(Ticket).order_by(Ticket.id.desc())
    if status is not None:
        query = query.where(Ticket.status == status)
    return (await session.scalars(query)).all()
