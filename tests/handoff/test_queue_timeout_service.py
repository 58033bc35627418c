"""Queue timeouts (issue 16): the ticket offer and the automatic ticket, on the real database."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from app.db import make_engine, make_sessionmaker
from bot import Reason
from handoff import routing
from handoff.conversations import get_conversation
from handoff.escalation import escalate
from handoff.events import QUEUE_CHANNEL
from handoff.models import Conversation, Ticket, utcnow
from handoff.queue_timeout import QueueTimeouts, offer_tickets, ticket_timed_out
from handoff.routing import Routing
from handoff.states import ConversationState as S
from handoff.visitor_state import visitor_state

MANUAL = Routing(auto_assign=False)
TIMEOUTS = QueueTimeouts(offer_after_s=300, ticket_after_s=1200)


async def queue_up(session, bus, new_chat, n: int) -> list[int]:
    """`n` new chats escalated into the queue one after another; their ids."""
    chats = []
    for _ in range(n):
        conv = await new_chat()
        chats.append(conv.id)
        await escalate(
            session=session, bus=bus, conv=conv, reason=Reason.ASKED_FOR_HUMAN, routing=MANUAL
        )
    return chats


async def fresh(session, conversation_id: int) -> Conversation:
    conv = await get_conversation(session=session, conversation_id=conversation_id)
    await session.refresh(conv)
    return conv


async def test_an_offer_after_the_wait_once_per_stay(session, bus, new_agent, new_chat, listen):
    await new_agent("Ann")
    first, second = await queue_up(session, bus, new_chat, 2)
    line = listen(QUEUE_CHANNEL)
    assert await offer_tickets(session=session, bus=bus, timeouts=TIMEOUTS) == []
    assert line.events() == [], "nobody waited long enough: nothing published"

    later = (await fresh(session, first)).queued_at + timedelta(seconds=300)
    assert await offer_tickets(session=session, bus=bus, timeouts=TIMEOUTS, now=later) == [first]
    [change] = line.events()
    assert (change["queued"], change["offered"]) == ([first, second], [first])
    state = await visitor_state(session=session, conv=await fresh(session, first))
    assert state["ticket_offer"] is True and state["queue_position"] == 1
    assert await offer_tickets(session=session, bus=bus, timeouts=TIMEOUTS, now=later) == [], (
        "offered once per stay in the queue"
    )


async def test_a_long_expected_wait_is_offered_at_once(session, bus, new_agent, new_chat):
    ann = await new_agent("Ann")
    [picked] = await queue_up(session, bus, new_chat, 1)
    # History: the last pickup took 400 s, longer than the 300 s the offer waits for.
    (await fresh(session, picked)).queued_at = utcnow() - timedelta(seconds=400)
    await session.commit()
    await routing.assign(session=session, bus=bus, conversation_id=picked, agent=ann)
    [waiting] = await queue_up(session, bus, new_chat, 1)

    assert await offer_tickets(session=session, bus=bus, timeouts=TIMEOUTS) == [waiting]


async def test_overdue_chats_become_tickets_once_across_replicas(
    session, bus, new_agent, new_chat, database_url
):
    await new_agent("Ann", capacity=1)
    busy, *overdue = await queue_up(session, bus, new_chat, 4)
    ann = (await routing.roster(session=session, presence_timeout_s=60))[0].agent
    await routing.assign(session=session, bus=bus, conversation_id=busy, agent=ann)
    late = utcnow() + timedelta(seconds=1200)
    await session.commit()  # SQLite: let go of the write lock the last read took

    # Two replicas sweep at the same moment, each on its own connection.
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)

    async def sweep() -> list[int]:
        async with sessions() as s:
            return await ticket_timed_out(
                session=s, bus=bus, routing=MANUAL, timeouts=TIMEOUTS, now=late
            )

    try:
        mine, theirs = await asyncio.gather(sweep(), sweep())
    finally:
        await engine.dispose()

    assert sorted(mine + theirs) == sorted(overdue), "each converted exactly once"
    for cid in overdue:
        assert (await fresh(session, cid)).state == S.TICKET
    tickets = await session.scalar(select(func.count()).select_from(Ticket))
    assert tickets == len(overdue)


async def test_no_automatic_ticket_while_an_agent_is_free(session, bus, new_agent, new_chat):
    await new_agent("Ann")
    await queue_up(session, bus, new_chat, 1)
    late = utcnow() + timedelta(seconds=1200)
    assert await ticket_timed_out(
        session=session, bus=bus, routing=MANUAL, timeouts=TIMEOUTS, now=late
    ) == [], "Ann has free slots: the chat waits for her"
