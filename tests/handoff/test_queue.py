"""The queue: places in arrival order, draining oldest first into free capacity, races to assign."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from app.db import make_engine, make_sessionmaker
from bot import Reason
from handoff import agent_actions, routing, tickets
from handoff.conversations import get_conversation
from handoff.errors import Conflict
from handoff.escalation import escalate
from handoff.events import QUEUE_CHANNEL, conversation_channel
from handoff.messages import messages_after
from handoff.models import Agent, Conversation
from handoff.queue import queue_position, recent_wait_s
from handoff.routing import Routing, drain_queue
from handoff.states import ConversationState as S
from handoff.visitor_state import visitor_state

MANUAL = Routing(auto_assign=False)  # escalations wait; the test decides when to drain
AUTO = Routing()


@pytest.fixture
def queued(session, bus, new_chat):
    """`n` new chats escalated one after another into the queue (an agent must be online)."""

    async def make(n: int) -> list[Conversation]:
        chats = []
        for _ in range(n):
            conv = await new_chat()
            await escalate(
                session=session, bus=bus, conv=conv, reason=Reason.ASKED_FOR_HUMAN, routing=MANUAL
            )
            chats.append(conv)
        return chats

    return make


async def places(session, chats: list[Conversation]) -> list[int | None]:
    out = []
    for conv in chats:
        fresh = await get_conversation(session=session, conversation_id=conv.id)
        out.append(await queue_position(session=session, conv=fresh))
    return out


async def joined(session, conversation_id: int) -> list[str]:
    messages = await messages_after(
        session=session, conversation_id=conversation_id, after_seq=0, include_notes=True
    )
    return [m.text for m in messages if (m.meta or {}).get("kind") == "assigned"]


async def test_places_follow_arrival_order(session, bus, new_agent, queued) -> None:
    ann = await new_agent("Ann")
    chats = await queued(4)
    assert await places(session, chats) == [1, 2, 3, 4]
    state = await visitor_state(session=session, conv=chats[2])
    assert (state["state"], state["queue_position"]) == ("queued", 3)

    await agent_actions.close(session=session, bus=bus, conversation_id=chats[1].id, agent=ann)
    assert await places(session, chats) == [1, None, 2, 3]


async def test_drain_assigns_oldest_first_until_capacity_is_full(
    session, bus, new_agent, queued
) -> None:
    ann = await new_agent("Ann", capacity=2)
    bob = await new_agent("Bob", capacity=1)
    chats = await queued(4)
    assert await drain_queue(session=session, bus=bus, routing=MANUAL) == []

    assigned = await drain_queue(session=session, bus=bus, routing=AUTO)

    assert assigned == [c.id for c in chats[:3]], "oldest first, and only three free slots"
    owners = [(await get_conversation(session=session, conversation_id=c.id)) for c in chats]
    assert [c.assigned_agent_id for c in owners] == [ann.id, bob.id, ann.id, None]
    assert owners[3].state == S.QUEUED
    assert await places(session, chats) == [None, None, None, 1]
    assert await drain_queue(session=session, bus=bus, routing=AUTO) == [], "everyone is full"

    await agent_actions.close(
        session=session, bus=bus, conversation_id=chats[1].id, agent=bob, routing=AUTO
    )
    last = await get_conversation(session=session, conversation_id=chats[3].id)
    assert (last.state, last.assigned_agent_id) == (S.ASSIGNED, bob.id), "the freed slot drains"


async def test_waiting_visitors_hear_their_new_place(session, bus, new_agent, queued, listen):
    ann = await new_agent("Ann")
    chats = await queued(3)
    ears = [listen(conversation_channel(c.id)) for c in chats]
    line = listen(QUEUE_CHANNEL)  # what every visitor socket hears (app/ws/queue_view.py)

    await routing.assign(session=session, bus=bus, conversation_id=chats[0].id, agent=ann)

    taken = ears[0].events("state")
    assert taken[-1]["state"] == "assigned" and taken[-1]["agent"]["name"] == "Ann"
    # Issue 16: one broadcast for the whole queue, not one state event per queued visitor.
    assert [ear.events("state") for ear in ears[1:]] == [[], []]
    [change] = line.events()
    assert change["queued"] == [chats[1].id, chats[2].id]
    assert change["median_wait_s"] is not None, "one pickup is history enough"

    # Leaving the line ("e-mail me instead") moves the one behind up too.
    await tickets.request_ticket(
        session=session, bus=bus, conversation_id=chats[1].id, client_msg_id="r1", routing=AUTO
    )
    assert ears[1].events("state")[-1]["state"] == "ticket"
    assert line.events()[-1]["queued"] == [chats[2].id]


async def test_a_chat_already_taken_cannot_be_assigned_again(
    session, bus, new_agent, queued
) -> None:
    ann, bob = await new_agent("Ann"), await new_agent("Bob")
    [conv] = await queued(1)
    await routing.assign(session=session, bus=bus, conversation_id=conv.id, agent=ann)

    with pytest.raises(Conflict):
        await routing.assign(session=session, bus=bus, conversation_id=conv.id, agent=bob)

    conv = await get_conversation(session=session, conversation_id=conv.id)
    assert conv.assigned_agent_id == ann.id
    assert await joined(session, conv.id) == ["Ann joined the conversation."]


async def test_of_two_agents_taking_a_chat_at_once_exactly_one_wins(
    session, bus, database_url, new_agent, queued
) -> None:
    ann, bob = await new_agent("Ann"), await new_agent("Bob")
    [conv] = await queued(1)
    await session.commit()  # SQLite: this session must not hold the write lock meanwhile
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)

    async def take(agent_id: int) -> int:
        # Each agent on their own connection, as two consoles (or replicas) would be.
        async with sessions() as s:
            agent = await s.get(Agent, agent_id)
            assert agent is not None
            await agent_actions.take(session=s, bus=bus, conversation_id=conv.id, agent=agent)
            return agent_id

    try:
        results = await asyncio.gather(take(ann.id), take(bob.id), return_exceptions=True)
    finally:
        await engine.dispose()

    winners = [r for r in results if isinstance(r, int)]
    assert len(winners) == 1, results
    assert [type(r) for r in results if not isinstance(r, int)] == [Conflict]
    conv = await get_conversation(session=session, conversation_id=conv.id)
    assert conv.assigned_agent_id == winners[0]
    assert len(await joined(session, conv.id)) == 1, "the visitor is told once who joined"


async def test_a_burst_of_drains_is_served_by_one_drainer_that_goes_round_again(
    session, bus, database_url, new_agent, queued
) -> None:
    await new_agent("Ann", capacity=10)
    chats = await queued(6)
    await session.commit()  # SQLite: this session must not hold the write lock meanwhile
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    auto = Routing()  # one process: one gate

    async def drain() -> list[int]:
        async with sessions() as s:
            return await drain_queue(session=s, bus=bus, routing=auto)

    try:
        results = await asyncio.gather(*(drain() for _ in range(5)))
    finally:
        await engine.dispose()

    assert sorted(len(r) for r in results) == [0, 0, 0, 0, 6], "one drainer assigned them all"
    for conv in chats:
        fresh = await get_conversation(session=session, conversation_id=conv.id)
        assert fresh.state == S.ASSIGNED
    assert not auto.gate.running


async def test_a_ticket_taken_later_is_no_queue_pickup_in_the_expected_wait(
    session, bus, new_agent, queued
) -> None:
    ann = await new_agent("Ann")
    picked, gave_up = await queued(2)
    await agent_actions.take(session=session, bus=bus, conversation_id=picked.id, agent=ann)
    await tickets.request_ticket(
        session=session, bus=bus, conversation_id=gave_up.id, client_msg_id="t1", routing=MANUAL
    )
    # A day later an agent takes the ticket: that day is not a queue wait.
    conv = await get_conversation(session=session, conversation_id=gave_up.id)
    conv.queued_at = conv.queued_at - timedelta(days=1)
    await session.commit()
    await agent_actions.take(session=session, bus=bus, conversation_id=gave_up.id, agent=ann)
    wait = await recent_wait_s(session=session)
    assert wait is not None and wait < 60
