"""Queue timeouts: nobody waits forever (issue 16).

A visitor queued longer than `offer_after_s`, or whose expected wait is longer than that, is
offered a ticket instead (the `ticket_offer` field of their `state` frame; the widget asks for
an e-mail or lets them keep waiting). After `ticket_after_s` in the queue with no online agent
free, the chat becomes a ticket by itself, with the usual promise. The ticket is the same
conversation, so it carries everything the visitor wrote. Each step is one conditional UPDATE:
of several replicas sweeping at once, exactly one offers or converts a given chat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.agents import online_agents
from handoff.bus import Bus
from handoff.conversations import get_conversation, visitor_locale
from handoff.messages import announce, append_message
from handoff.models import Conversation, Sender, utcnow
from handoff.periodic import every
from handoff.queue import estimated_wait_s, publish_queue_positions, recent_wait_s
from handoff.routing import Routing, agent_loads
from handoff.states import ConversationState, check_transition
from handoff.tickets import Why, open_ticket, promise

S = ConversationState


@dataclass(frozen=True)
class QueueTimeouts:
    """When a queued visitor is offered a ticket, and when the chat becomes one (None: never)."""

    offer_after_s: float | None = 300.0
    ticket_after_s: float | None = 1200.0
    sweep_s: float = 5.0  # how often each replica looks; the offer comes at most this late


def _not_offered_this_stay() -> ColumnElement[bool]:
    # Offered before an earlier stay in the queue (re-queued since) counts as not offered.
    return or_(
        Conversation.ticket_offered_at.is_(None),
        Conversation.ticket_offered_at < Conversation.queued_at,
    )


async def _due_offers(
    *, session: AsyncSession, timeouts: QueueTimeouts, now: datetime
) -> list[int]:
    """Queued chats not offered a ticket yet that waited long enough or face too long a wait."""
    if timeouts.offer_after_s is None:
        return []
    limit = timedelta(seconds=timeouts.offer_after_s)
    rows = (
        await session.execute(
            select(Conversation.id, Conversation.queued_at)
            .where(Conversation.state == S.QUEUED, _not_offered_this_stay())
            .order_by(Conversation.queued_at, Conversation.id)
        )
    ).all()
    if not rows:
        return []
    # Places count everyone queued (offered or not): the not-yet-offered are a subset, in order.
    everyone = (
        await session.scalars(
            select(Conversation.id)
            .where(Conversation.state == S.QUEUED)
            .order_by(Conversation.queued_at, Conversation.id)
        )
    ).all()
    place = {cid: n for n, cid in enumerate(everyone, start=1)}
    median = await recent_wait_s(session=session)
    return [
        cid
        for cid, queued_at in rows
        if queued_at is not None
        and (
            now - queued_at >= limit
            or (estimated_wait_s(median, place.get(cid)) or 0) > timeouts.offer_after_s
        )
    ]


async def offer_tickets(
    *, session: AsyncSession, bus: Bus, timeouts: QueueTimeouts, now: datetime | None = None
) -> list[int]:
    """Offer a ticket to everyone queued too long or facing too long a wait; their ids."""
    now = now or utcnow()
    due = await _due_offers(session=session, timeouts=timeouts, now=now)
    if not due:
        await session.rollback()
        return []
    won = list(
        (
            await session.scalars(
                update(Conversation)
                .where(
                    # Rows another replica's sweep holds are skipped, never waited for: two
                    # sweeps locking overlapping sets in different orders cannot deadlock.
                    Conversation.id.in_(
                        select(Conversation.id)
                        .where(Conversation.id.in_(due))
                        .order_by(Conversation.id)
                        .with_for_update(skip_locked=True)
                    ),
                    Conversation.state == S.QUEUED,
                    _not_offered_this_stay(),
                )
                .values(ticket_offered_at=now)
                .returning(Conversation.id)
            )
        ).all()
    )
    await session.commit()
    if won:
        await publish_queue_positions(session=session, bus=bus)  # carries who was offered
    return won


async def _overdue(*, session: AsyncSession, timeouts: QueueTimeouts, now: datetime) -> list[int]:
    """Chats queued longer than `ticket_after_s`, oldest first."""
    if timeouts.ticket_after_s is None:
        return []
    cutoff = now - timedelta(seconds=timeouts.ticket_after_s)
    return list(
        (
            await session.scalars(
                select(Conversation.id)
                .where(Conversation.state == S.QUEUED, Conversation.queued_at <= cutoff)
                .order_by(Conversation.queued_at, Conversation.id)
            )
        ).all()
    )


async def _somebody_free(*, session: AsyncSession, routing: Routing) -> bool:
    online = await online_agents(session=session, presence_timeout_s=routing.presence_timeout_s)
    return any(load.free > 0 for load in await agent_loads(session=session, agents=online))


async def ticket_timed_out(
    *,
    session: AsyncSession,
    bus: Bus,
    routing: Routing,
    timeouts: QueueTimeouts,
    now: datetime | None = None,
) -> list[int]:
    """Turn every chat queued longer than `ticket_after_s` into a ticket while no online agent
    has a free slot; the ids this replica converted."""
    if timeouts.ticket_after_s is None:
        return []
    now = now or utcnow()
    cutoff = now - timedelta(seconds=timeouts.ticket_after_s)
    overdue = await _overdue(session=session, timeouts=timeouts, now=now)
    if not overdue or await _somebody_free(session=session, routing=routing):
        await session.rollback()
        return []  # a free agent will take the oldest first (routing's drain)
    check_transition(S.QUEUED, S.TICKET)
    converted: list[int] = []
    for cid in overdue:
        # Compare-and-set: another replica's sweep, an agent's take or the visitor's own
        # "e-mail me instead" may get there first; then this UPDATE matches no row.
        moved = await session.scalar(
            update(Conversation)
            .where(
                Conversation.id == cid,
                Conversation.state == S.QUEUED,
                Conversation.queued_at <= cutoff,
            )
            .values(state=S.TICKET)
            .returning(Conversation.id)
        )
        if moved is None:
            await session.rollback()
            continue
        conv = await get_conversation(session=session, conversation_id=cid)
        await session.refresh(conv)
        ticket = await open_ticket(session=session, conv=conv, routing=routing, now=now)
        locale = await visitor_locale(session=session, visitor_id=conv.visitor_id)
        msg = await append_message(
            session=session,
            conversation_id=cid,
            sender=Sender.SYSTEM,
            text=promise(routing=routing, ticket=ticket, why=Why.QUEUE_TIMEOUT, locale=locale),
            meta={"kind": "ticket", "ticket_id": ticket.id, "reason": "queue_timeout"},
        )
        await session.commit()
        await announce(session=session, bus=bus, conv=conv, messages=[msg])
        converted.append(cid)
    if converted:
        await publish_queue_positions(session=session, bus=bus)
    return converted


async def sweep_forever(
    *,
    sessions: async_sessionmaker[AsyncSession],
    read_sessions: async_sessionmaker[AsyncSession],
    bus: Bus,
    routing: Routing,
    timeouts: QueueTimeouts,
) -> None:
    """Every `sweep_s`: offer tickets, then convert the chats that waited far too long."""
    await every(
        timeouts.sweep_s,
        "queue timeout sweep",
        lambda: sweep_once(
            sessions=sessions, read_sessions=read_sessions, bus=bus, routing=routing,
            timeouts=timeouts,
        ),
    )


async def sweep_once(
    *,
    sessions: async_sessionmaker[AsyncSession],
    read_sessions: async_sessionmaker[AsyncSession],
    bus: Bus,
    routing: Routing,
    timeouts: QueueTimeouts,
) -> None:
    """One sweep. It looks in a read-only session first: on SQLite the write lock is taken
    only when someone is due, not every few seconds by every replica."""
    now = utcnow()
    async with read_sessions() as session:
        offers = await _due_offers(session=session, timeouts=timeouts, now=now)
        overdue = await _overdue(session=session, timeouts=timeouts, now=now)
    if not (offers or overdue):
        return
    async with sessions() as session:
        if offers:
            await offer_tickets(session=session, bus=bus, timeouts=timeouts, now=now)
        if overdue:
            await ticket_timed_out(
                session=session, bus=bus, routing=routing, timeouts=timeouts, now=now
            )
