"""Tickets: the chat a person answers later, in the widget and by e-mail.

Every ticket state change lives here: opened (by escalation or at the visitor's request),
pending when an agent replied, open again when the customer writes, solved on close or by
hand; and the one promise of when a person replies.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import cast

from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from handoff import canned_stats, sla_clocks, texts, webhooks
from handoff.bus import Bus
from handoff.conversations import get_conversation, ticket_for, visitor_locale
from handoff.errors import Conflict, Invalid, NotFound
from handoff.events import author
from handoff.hours import LiveHours
from handoff.mail import MailConfig, send_mail
from handoff.messages import (
    Posted,
    announce,
    append_message,
    find_by_client_msg_id,
    store_client_message,
)
from handoff.models import (
    Agent,
    Conversation,
    MessageRow,
    Sender,
    Ticket,
    TicketStatus,
    Visitor,
    utcnow,
)
from handoff.queue import publish_queue_positions
from handoff.reply_address import reply_to_for
from handoff.routing import Routing
from handoff.states import ConversationState, check_transition
from handoff.writer import Stored

S = ConversationState


class Why(StrEnum):
    """Why a chat became a ticket: the first words of the promise (texts `ticket.why.*`)."""

    NOBODY_ONLINE = "nobody_online"
    CLOSED_NOW = "closed_now"
    AS_ASKED = "as_asked"
    QUEUE_TIMEOUT = "queue_timeout"  # queued too long with nobody free (handoff/queue_timeout)


def promised_reply(*, routing: Routing, now: datetime) -> datetime:
    """When a new ticket will be answered: the next opening, or soon if we are open now."""
    opening = routing.hours.next_opening(now)
    if opening is None or opening == now:
        # Open now (or never open, e.g. every day closed): promise the usual delay.
        return now + timedelta(seconds=routing.ticket_reply_within_s)
    return opening


def promise(*, routing: Routing, ticket: Ticket, why: Why, locale: str | None = None) -> str:
    """The honest promise the visitor reads when their chat becomes a ticket, in their locale
    (in the admin's wording when they saved one, its time still formatted for the visitor)."""
    wording = routing.hours.promise if isinstance(routing.hours, LiveHours) else None
    return texts.custom_text(
        "ticket.opened",
        wording,
        locale,
        why=texts.text(f"ticket.why.{why}", locale),
        ticket_id=ticket.id,
        when=ticket.promised_when or promised_words(routing=routing, ticket=ticket, locale=locale),
    )


def promised_words(*, routing: Routing, ticket: Ticket, locale: str | None) -> str:
    """The one wording of a ticket's promised time: the sentence, the state frame's
    `reply_by_text` and so the widget's line all show exactly these words (issue 16)."""
    assert ticket.reply_by is not None
    return texts.local_time(ticket.reply_by, routing.hours.timezone, locale)


async def open_ticket(
    *, session: AsyncSession, conv: Conversation, routing: Routing, now: datetime
) -> Ticket:
    """A new ticket for the conversation, to the visitor's e-mail if known; the caller commits."""
    visitor = await session.get(Visitor, conv.visitor_id)
    ticket = Ticket(
        conversation_id=conv.id,
        # The address the site vouched for first; else the one the visitor typed.
        email=(visitor.verified_email or visitor.email) if visitor else None,
        reply_by=promised_reply(routing=routing, now=now),
    )
    # Worded once, in the visitor's language and the business's time zone, and kept: the
    # promise sentence and the widget's ticket line then cannot disagree (a browser in another
    # time zone would otherwise show another clock time for the same promise).
    ticket.promised_when = promised_words(
        routing=routing,
        ticket=ticket,
        locale=await visitor_locale(session=session, visitor_id=conv.visitor_id),
    )
    session.add(ticket)
    await session.flush()
    await webhooks.emit(session, "ticket.created", lambda: webhooks.ticket_data(ticket))
    return ticket


async def reopen_on_customer_message(conn: AsyncConnection, stored: Sequence[Stored]) -> None:
    """Customers wrote in their tickets: the ball is ours again (open); in their transaction."""
    in_tickets = [s.message.conversation_id for s in stored if s.state == S.TICKET]
    if in_tickets:
        tickets = cast(Table, Ticket.__table__)
        reopened = await conn.execute(
            update(tickets)
            .where(tickets.c.conversation_id.in_(in_tickets))
            .where(tickets.c.status != TicketStatus.OPEN)
            .values(status=TicketStatus.OPEN)
            .returning(tickets.c.id, tickets.c.conversation_id, tickets.c.status,
                       tickets.c.email, tickets.c.reply_by)
        )
        rows = reopened.all()
        updated = [("ticket.updated", webhooks.ticket_data(r)) for r in rows]
        await webhooks.emit_many(conn, updated)
        # The customer wrote: a pending ticket's SLA pause ends (none reopened: no statement).
        ended = [r.conversation_id for r in rows]
        await sla_clocks.resume(conn, conversation_ids=ended, now=utcnow())


async def solve_with_conversation(*, session: AsyncSession, conversation_id: int) -> None:
    """Closing the conversation solves its ticket; the caller commits."""
    ticket = await ticket_for(session=session, conversation_id=conversation_id)
    if ticket is not None and ticket.status != TicketStatus.SOLVED:
        ticket.status = TicketStatus.SOLVED
        await sla_clocks.resume(session, conversation_ids=[conversation_id], now=utcnow())
        await webhooks.emit(session, "ticket.updated", lambda: webhooks.ticket_data(ticket))


async def remember_email(*, session: AsyncSession, conversation_id: int, email: str) -> None:
    """Replies to the conversation's ticket (if any) go to this address; the caller commits."""
    ticket = await ticket_for(session=session, conversation_id=conversation_id)
    if ticket is not None:
        ticket.email = email


async def request_ticket(
    *,
    session: AsyncSession,
    bus: Bus,
    conversation_id: int,
    client_msg_id: str,
    routing: Routing,
) -> Posted:
    """The queued visitor gives up waiting: "e-mail me instead" turns the chat into a ticket."""
    conv = await get_conversation(session=session, conversation_id=conversation_id)
    earlier = await find_by_client_msg_id(
        session=session, conversation_id=conv.id, sender=Sender.VISITOR, client_msg_id=client_msg_id
    )
    if earlier is not None:
        return Posted(MessageRow.of(earlier), duplicate=True)
    if conv.state != S.QUEUED:
        raise Conflict(f"conversation {conversation_id} is {conv.state}, not waiting in the queue")
    locale = await visitor_locale(session=session, visitor_id=conv.visitor_id)
    posted = await store_client_message(
        session=session,
        bus=bus,
        conv=conv,
        sender=Sender.VISITOR,
        text=texts.text("visitor.email_instead", locale),
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
    conv = await get_conversation(session=session, conversation_id=conversation_id)
    ticket = await open_ticket(session=session, conv=conv, routing=routing, now=utcnow())
    msg = await append_message(
        session=session,
        conversation_id=conv.id,
        sender=Sender.SYSTEM,
        text=promise(routing=routing, ticket=ticket, why=Why.AS_ASKED, locale=locale),
        meta={"kind": "ticket", "ticket_id": ticket.id},
    )
    await session.commit()
    await announce(session=session, bus=bus, conv=conv, messages=[msg])
    await publish_queue_positions(session=session, bus=bus)
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
    canned_reply_id: int | None = None,
) -> Posted:
    """An agent answers a ticket: the visitor sees it in the widget, and by e-mail if known."""
    if not text.strip():
        raise Invalid("text: a reply must not be blank")
    conv = await get_conversation(session=session, conversation_id=conversation_id)
    ticket = await ticket_for(session=session, conversation_id=conversation_id)
    if conv.state != S.TICKET or ticket is None:
        raise Conflict(f"conversation {conversation_id} is not an open ticket")
    posted = await store_client_message(
        session=session,
        bus=bus,
        conv=conv,
        sender=Sender.AGENT,
        text=text,
        client_msg_id=client_msg_id,
        agent_id=agent.id,
        meta={"author": author(agent)},
    )
    if canned_reply_id is not None:  # the reply is committed; a resend is counted once
        await canned_stats.record_use(
            session=session, canned_reply_id=canned_reply_id, message=posted.message
        )
    if posted.duplicate:
        return posted
    ticket = await ticket_for(session=session, conversation_id=conversation_id)
    assert ticket is not None
    if ticket.status != TicketStatus.PENDING:
        ticket.status = TicketStatus.PENDING  # waiting on the customer now
        await sla_clocks.pause(session=session, conversation_id=conversation_id, now=utcnow())
        await webhooks.emit(session, "ticket.updated", lambda: webhooks.ticket_data(ticket))
    email = ticket.email
    ticket_id = ticket.id
    locale = await visitor_locale(session=session, visitor_id=conv.visitor_id) if email else None
    await session.commit()
    await announce(session=session, bus=bus, conv=conv, state=False)
    if email:
        await send_mail(
            config=mail,
            to=email,
            reply_to=await reply_to_for(
                session=session, domain=mail.reply_domain, ticket_id=ticket_id
            ),
            subject=texts.text("mail.ticket_reply.subject", locale, ticket_id=ticket_id),
            body=texts.text(
                "mail.ticket_reply.body", locale, agent=agent.name, ticket_id=ticket_id, text=text
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
    # Pending: waiting on the customer, the SLA clock pauses; open or solved: it resumes.
    cid, now = ticket.conversation_id, utcnow()
    if status == TicketStatus.PENDING:
        await sla_clocks.pause(session=session, conversation_id=cid, now=now)
    else:
        await sla_clocks.resume(session, conversation_ids=[cid], now=now)
    await webhooks.emit(session, "ticket.updated", lambda: webhooks.ticket_data(ticket))
    await session.commit()
    conv = await get_conversation(session=session, conversation_id=ticket.conversation_id)
    await announce(session=session, bus=bus, conv=conv, state=False)
    return ticket


async def list_tickets(
    *, session: AsyncSession, status: TicketStatus | None = None
) -> Sequence[Ticket]:
    """Tickets, newest first, optionally of one status."""
    query = select(Ticket).order_by(Ticket.id.desc())
    if status is not None:
        query = query.where(Ticket.status == status)
    return (await session.scalars(query)).all()
