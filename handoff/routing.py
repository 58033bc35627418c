"""Routing: who gets the next waiting chat, and assigning it.

The choice: among agents that are online (not away, heartbeat fresh) and below their capacity,
the one with the most free slots; ties go to whoever has waited longest since their last
assignment. The queue itself is served oldest first (`drain_queue`); `assign` is the one way a
waiting chat (queued or a ticket) gets its agent, by hand (take) or automatically.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import texts, webhooks
from handoff.agents import PRESENCE_TIMEOUT_S, online_agents
from handoff.bus import Bus
from handoff.conversations import get_conversation, visitor_locale
from handoff.errors import Conflict
from handoff.events import author
from handoff.hours import BusinessHours, LiveHours
from handoff.messages import announce, append_message
from handoff.models import Agent, AgentStatus, Conversation, Sender, utcnow
from handoff.queue import publish_queue_positions
from handoff.reroute_models import ConversationReroute
from handoff.states import ConversationState, check_transition
from handoff.team_routing import allowed_agents

S = ConversationState
NEVER = datetime.min.replace(tzinfo=UTC)  # an agent never assigned has been idle the longest


class DrainGate:
    """One queue drain at a time in a process; a drain asked for meanwhile makes the running
    one look at the queue once more. A burst of escalations then costs one drainer per
    process, not one per escalation all queueing for the same agent rows (and connections).
    """

    def __init__(self) -> None:
        self.running = False
        self.again = False


@dataclass(frozen=True)
class Routing:
    """How escalations are routed; built from the settings by the app, once per process."""

    presence_timeout_s: int = PRESENCE_TIMEOUT_S
    auto_assign: bool = True
    hours: BusinessHours | LiveHours = field(default_factory=BusinessHours)  # the app: LiveHours
    ticket_reply_within_s: int = 4 * 3600
    team_fallback_s: float = 120.0  # a team's chat goes to anyone after this (team_routing)
    gate: DrainGate = field(default_factory=DrainGate, compare=False, repr=False)


@dataclass(frozen=True)
class Load:
    agent: Agent
    active: int
    last_assigned_at: datetime | None

    @property
    def free(self) -> int:
        return self.agent.capacity - self.active


async def agent_loads(*, session: AsyncSession, agents: Sequence[Agent]) -> list[Load]:
    """Each agent's number of assigned chats and time of their latest assignment."""
    if not agents:
        return []
    ids = [a.id for a in agents]
    active: dict[int | None, int] = dict(
        (
            await session.execute(
                select(Conversation.assigned_agent_id, func.count())
                .where(
                    Conversation.assigned_agent_id.in_(ids),
                    Conversation.state == S.ASSIGNED,
                )
                .group_by(Conversation.assigned_agent_id)
            )
        ).all()
    )
    latest: dict[int | None, datetime | None] = dict(
        (
            await session.execute(
                select(Conversation.assigned_agent_id, func.max(Conversation.assigned_at))
                .where(Conversation.assigned_agent_id.in_(ids))
                .group_by(Conversation.assigned_agent_id)
            )
        ).all()
    )
    return [Load(a, int(active.get(a.id, 0)), _aware(latest.get(a.id))) for a in agents]


def _aware(value: datetime | None) -> datetime | None:
    # Aggregates bypass the column type, so SQLite hands back naive UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def best(loads: Sequence[Load], avoid: int | None = None) -> Agent | None:
    """Most free capacity, then longest idle, then lowest id (stable); `avoid` (the agent a
    chat was re-routed from, handoff/reroute.py) only when nobody else is free."""
    candidates = [load for load in loads if load.free > 0]
    candidates = [ld for ld in candidates if ld.agent.id != avoid] or candidates
    if not candidates:
        return None
    chosen = min(candidates, key=lambda ld: (-ld.free, ld.last_assigned_at or NEVER, ld.agent.id))
    return chosen.agent


async def pick_agent(
    *,
    session: AsyncSession,
    presence_timeout_s: int,
    avoid: int | None = None,
    among: frozenset[int] | None = None,
) -> Agent | None:
    """The agent the next queued chat should go to, or None when everyone is full or away.

    `among`: only these agents (a team's), unless none of them is online at all: then nobody
    is worth waiting for and anyone may have it (handoff/team_routing.py).

    Locks the online agents' rows (PostgreSQL) until the caller commits, so two replicas
    assigning at once cannot both fill an agent's last free slot. FOR NO KEY UPDATE: rows
    that merely point at an agent (a reply being stored) need not wait for it.
    """
    online = await online_agents(session=session, presence_timeout_s=presence_timeout_s)
    if among is not None and any(a.id in among for a in online):
        online = [a for a in online if a.id in among]
    if not online:
        return None
    ids = sorted(a.id for a in online)
    locked = (
        await session.scalars(
            select(Agent)
            .where(Agent.id.in_(ids))
            .order_by(Agent.id)
            .with_for_update(key_share=True)
        )
    ).all()
    return best(await agent_loads(session=session, agents=locked), avoid)


@dataclass(frozen=True)
class RosterEntry:
    agent: Agent
    status: AgentStatus
    active: int


async def roster(*, session: AsyncSession, presence_timeout_s: int) -> list[RosterEntry]:
    """Every agent by name with the status the cluster sees and their number of open chats."""
    everyone = (await session.scalars(select(Agent).order_by(Agent.name))).all()
    online = {
        a.id for a in await online_agents(session=session, presence_timeout_s=presence_timeout_s)
    }
    out = []
    for load in await agent_loads(session=session, agents=everyone):
        a = load.agent
        if a.id in online:
            shown = AgentStatus.ONLINE
        elif a.status == AgentStatus.AWAY:
            shown = AgentStatus.AWAY
        else:
            shown = AgentStatus.OFFLINE  # offline, or "online" with a stale heartbeat
        out.append(RosterEntry(a, shown, load.active))
    return out


async def assign(
    *, session: AsyncSession, bus: Bus, conversation_id: int, agent: Agent
) -> Conversation:
    """Give a waiting conversation (queued, or a ticket) to the agent; one agent wins a race."""
    conv = await get_conversation(session=session, conversation_id=conversation_id)
    if conv.state not in (S.QUEUED, S.TICKET):
        raise Conflict(f"conversation {conversation_id} is {conv.state}, not waiting")
    check_transition(conv.state, S.ASSIGNED)
    # Compare-and-set on the state we saw: of two agents racing, one UPDATE matches no row.
    won = await session.scalar(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.state == conv.state)
        .values(state=S.ASSIGNED, assigned_agent_id=agent.id, assigned_at=utcnow())
        .returning(Conversation.id)
    )
    if won is None:
        await session.rollback()
        raise Conflict(f"conversation {conversation_id} was taken by someone else")
    msg = await append_message(
        session=session,
        conversation_id=conversation_id,
        sender=Sender.SYSTEM,
        text=texts.text(
            "agent.joined",
            await visitor_locale(session=session, visitor_id=conv.visitor_id),
            agent=agent.name,
        ),
        meta={"kind": "assigned", "author": author(agent)},
    )
    await webhooks.emit(session, "conversation.assigned", lambda: webhooks.conversation_data(
        conv, now={"state": "assigned", "assigned_agent_id": agent.id},
        agent={"id": agent.id, "name": agent.name}, previous_agent_id=None))
    await session.commit()
    conv = await get_conversation(session=session, conversation_id=conversation_id)
    await announce(session=session, bus=bus, conv=conv, messages=[msg])
    await publish_queue_positions(session=session, bus=bus)
    return conv


async def drain_queue(*, session: AsyncSession, bus: Bus, routing: Routing) -> list[int]:
    """Auto-assign waiting chats oldest first while an online agent has a free slot.

    If this process is draining already, that drain goes round once more instead (DrainGate).
    """
    gate = routing.gate
    if not routing.auto_assign:
        return []
    if gate.running:
        gate.again = True
        return []
    gate.running = True
    assigned: list[int] = []
    try:
        while True:
            gate.again = False
            assigned += await _drain(session=session, bus=bus, routing=routing)
            if not gate.again:
                return assigned
    finally:
        gate.running = False


async def _drain(*, session: AsyncSession, bus: Bus, routing: Routing) -> list[int]:
    assigned: list[int] = []
    waiting_for_team: list[int] = []  # oldest first, but their team is full: look further
    while True:
        head = (
            await session.execute(
                select(Conversation.id, ConversationReroute.from_agent_id)
                .outerjoin(ConversationReroute)
                .where(Conversation.state == S.QUEUED, Conversation.id.notin_(waiting_for_team))
                .order_by(Conversation.queued_at, Conversation.id)
                .limit(1)
            )
        ).first()
        if head is None:
            break
        first, avoid = head
        among = await allowed_agents(
            session=session, conversation_id=first, fallback_s=routing.team_fallback_s
        )
        agent = await pick_agent(
            session=session,
            presence_timeout_s=routing.presence_timeout_s,
            avoid=avoid,
            among=among,
        )
        if agent is None:
            await session.commit()  # nothing written: just release the agent row locks
            if among is None:
                break  # nobody at all has a free slot
            waiting_for_team.append(first)
            continue
        try:
            await assign(session=session, bus=bus, conversation_id=first, agent=agent)
        except Conflict:
            continue  # another replica or agent got it first: look at the queue again
        assigned.append(first)
    return assigned
