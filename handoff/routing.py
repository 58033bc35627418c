"""Routing: who gets the next queued chat, and how long a visitor should expect to wait.

The choice: among agents that are online (not away, heartbeat fresh) and below their capacity,
the one with the most free slots; ties go to whoever has waited longest since their last
assignment. The queue itself is served in arrival order (see conversations.drain_queue).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.agents import online_agents
from handoff.hours import BusinessHours
from handoff.models import Agent, AgentStatus, Conversation
from handoff.states import ConversationState

WAIT_SAMPLE = 20  # recent pickups averaged for the estimate: recent enough to follow the day
NEVER = datetime.min.replace(tzinfo=UTC)  # an agent never assigned has been idle the longest


@dataclass(frozen=True)
class Routing:
    """How escalations are routed; built from the settings by the app."""

    presence_timeout_s: int = 60
    auto_assign: bool = True
    hours: BusinessHours = field(default_factory=BusinessHours)
    ticket_reply_within_s: int = 4 * 3600


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
                    Conversation.state == ConversationState.ASSIGNED,
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


def best(loads: Sequence[Load]) -> Agent | None:
    """Most free capacity, then longest idle, then lowest id (stable)."""
    candidates = [load for load in loads if load.free > 0]
    if not candidates:
        return None
    chosen = min(candidates, key=lambda ld: (-ld.free, ld.last_assigned_at or NEVER, ld.agent.id))
    return chosen.agent


async def pick_agent(*, session: AsyncSession, presence_timeout_s: int) -> Agent | None:
    """The agent the next queued chat should go to, or None when everyone is full or away.

    Locks the online agents' rows (PostgreSQL) until the caller commits, so two replicas
    assigning at once cannot both fill an agent's last free slot.
    """
    online = await online_agents(session=session, presence_timeout_s=presence_timeout_s)
    if not online:
        return None
    ids = sorted(a.id for a in online)
    locked = (
        await session.scalars(
            select(Agent).where(Agent.id.in_(ids)).order_by(Agent.id).with_for_update()
        )
    ).all()
    return best(await agent_loads(session=session, agents=locked))


async def recent_wait_s(*, session: AsyncSession) -> float | None:
    """Median seconds from queued to picked up over the latest pickups, None without history."""
    rows = (
        await session.execute(
            select(Conversation.queued_at, Conversation.assigned_at)
            .where(Conversation.queued_at.is_not(None), Conversation.assigned_at.is_not(None))
            .order_by(Conversation.assigned_at.desc())
            .limit(WAIT_SAMPLE)
        )
    ).all()
    waits = [
        max(0.0, (assigned - queued).total_seconds())
        for queued, assigned in rows
        if queued is not None and assigned is not None and assigned >= queued
    ]
    return statistics.median(waits) if waits else None


def estimated_wait_s(median_wait_s: float | None, position: int | None) -> int | None:
    """Whole seconds a visitor at `position` should expect to wait."""
    if median_wait_s is None or position is None:
        return None
    # Everyone ahead was waiting too: each place in the line costs about one median pickup.
    return round(median_wait_s * position)


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
