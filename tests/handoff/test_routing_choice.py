"""Who gets the next chat: most free capacity, then longest idle; never away, offline or full."""

from __future__ import annotations

from datetime import timedelta

from bot import Reason
from handoff import agent_actions, agents, routing
from handoff.escalation import escalate
from handoff.models import Agent, AgentStatus, utcnow
from handoff.routing import Load, Routing, best, pick_agent

MANUAL = Routing(auto_assign=False)  # chats wait in the queue until the test assigns them
TIMEOUT_S = Routing().presence_timeout_s


def load(agent_id: int, capacity: int, active: int, idle_min: float | None = None) -> Load:
    """An agent's load; `idle_min` minutes since their last assignment (None: never assigned)."""
    last = None if idle_min is None else utcnow() - timedelta(minutes=idle_min)
    return Load(Agent(id=agent_id, name=f"agent {agent_id}", capacity=capacity), active, last)


def chosen(*loads: Load) -> int | None:
    agent = best(loads)
    return agent.id if agent else None


def test_most_free_capacity_wins_over_idle_time() -> None:
    busy_but_idle = load(1, capacity=3, active=2, idle_min=60)
    roomy = load(2, capacity=3, active=0, idle_min=1)
    assert chosen(busy_but_idle, roomy) == 2


def test_equal_room_goes_to_whoever_was_idle_longest() -> None:
    recent = load(1, capacity=2, active=1, idle_min=1)
    longer = load(2, capacity=2, active=1, idle_min=10)
    assert chosen(recent, longer) == 2
    never = load(3, capacity=2, active=1, idle_min=None)
    assert chosen(recent, longer, never) == 3, "never assigned counts as the longest idle"


def test_full_agents_are_never_chosen() -> None:
    assert chosen(load(1, capacity=2, active=2), load(2, capacity=1, active=1)) is None
    assert chosen(load(1, capacity=2, active=2, idle_min=60), load(2, capacity=3, active=2)) == 2
    assert chosen() is None


async def test_only_agents_online_with_a_fresh_heartbeat_are_chosen(session, new_agent) -> None:
    await new_agent("Ann", status=AgentStatus.AWAY)
    await new_agent("Bob", status=AgentStatus.OFFLINE)
    await new_agent("Cid", seen_ago_s=TIMEOUT_S + 30)  # "online", but the console went silent
    gone = await new_agent("Dan")
    await agents.set_presence(session=session, agent_id=gone.id, status=AgentStatus.OFFLINE)
    await session.commit()
    assert await pick_agent(session=session, presence_timeout_s=TIMEOUT_S) is None

    await new_agent("Eve", capacity=1)
    picked = await pick_agent(session=session, presence_timeout_s=TIMEOUT_S)
    assert picked is not None and picked.name == "Eve"
    await session.commit()
    online = await agents.online_agents(session=session, presence_timeout_s=TIMEOUT_S)
    assert [a.name for a in online] == ["Eve"]


async def test_pick_agent_follows_load_and_idle_time(session, bus, new_agent, new_chat) -> None:
    ann = await new_agent("Ann", capacity=2)
    bob = await new_agent("Bob", capacity=2)
    chats = []
    for _ in range(4):
        conv = await new_chat()
        await escalate(
            session=session, bus=bus, conv=conv, reason=Reason.ASKED_FOR_HUMAN, routing=MANUAL
        )
        chats.append(conv.id)

    async def next_agent() -> str | None:
        agent = await pick_agent(session=session, presence_timeout_s=TIMEOUT_S)
        await session.commit()  # release the agent rows, as drain_queue does
        return agent.name if agent else None

    # Equal room, nobody assigned yet: the lowest id, deterministically.
    assert await next_agent() == "Ann"
    await routing.assign(session=session, bus=bus, conversation_id=chats[0], agent=ann)
    assert await next_agent() == "Bob", "Bob has two free slots, Ann one"
    await routing.assign(session=session, bus=bus, conversation_id=chats[1], agent=bob)
    assert await next_agent() == "Ann", "one slot each: Ann has waited longer since her last chat"
    await routing.assign(session=session, bus=bus, conversation_id=chats[2], agent=ann)
    assert await next_agent() == "Bob", "Ann is full"
    await routing.assign(session=session, bus=bus, conversation_id=chats[3], agent=bob)
    assert await next_agent() is None, "everyone is full"

    await agent_actions.close(session=session, bus=bus, conversation_id=chats[0], agent=ann)
    assert await next_agent() == "Ann", "closing a chat frees a slot"
