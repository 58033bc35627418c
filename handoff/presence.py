"""An agent's consoles: coming online, status changes, heartbeats, going offline.

The presence rows themselves (one per socket, shared by every replica) are kept by
handoff.agents; each function here commits them, tells every console the agent's status as
the cluster sees it, and lets routing hand out waiting chats when the agent is available.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from handoff.agents import set_presence
from handoff.bus import Bus
from handoff.events import AGENTS_CHANNEL
from handoff.models import AgentStatus
from handoff.routing import Routing, drain_queue


async def _record(
    *,
    session: AsyncSession,
    bus: Bus,
    agent_id: int,
    status: AgentStatus | None,
    socket_id: str,
    replica_id: str,
    routing: Routing,
    announce: bool = True,
) -> AgentStatus:
    effective = await set_presence(
        session=session,
        agent_id=agent_id,
        status=status,
        socket_id=socket_id,
        replica_id=replica_id,
        presence_timeout_s=routing.presence_timeout_s,
    )
    await session.commit()
    if announce:
        await bus.publish_after_commit(
            AGENTS_CHANNEL, {"type": "presence", "agent_id": agent_id, "status": str(effective)}
        )
    return effective


async def connected(
    *,
    session: AsyncSession,
    bus: Bus,
    agent_id: int,
    socket_id: str,
    replica_id: str,
    routing: Routing,
) -> None:
    """A console opened: the agent is online (unless away elsewhere) and takes waiting chats."""
    # A plain heartbeat, not "online": a new tab must not bring an away agent back.
    await _record(
        session=session,
        bus=bus,
        agent_id=agent_id,
        status=None,
        socket_id=socket_id,
        replica_id=replica_id,
        routing=routing,
    )
    await drain_queue(session=session, bus=bus, routing=routing)


async def heartbeat(
    *, session: AsyncSession, agent_id: int, socket_id: str, replica_id: str, routing: Routing
) -> None:
    """A console's ping keeps the agent present; nothing changes, so nothing is announced."""
    await set_presence(
        session=session,
        agent_id=agent_id,
        status=None,
        socket_id=socket_id,
        replica_id=replica_id,
        presence_timeout_s=routing.presence_timeout_s,
    )
    await session.commit()


async def set_status(
    *,
    session: AsyncSession,
    bus: Bus,
    agent_id: int,
    status: AgentStatus,
    socket_id: str,
    replica_id: str,
    routing: Routing,
) -> None:
    """The agent chose online or away; back online, they take waiting chats."""
    await _record(
        session=session,
        bus=bus,
        agent_id=agent_id,
        status=status,
        socket_id=socket_id,
        replica_id=replica_id,
        routing=routing,
    )
    if status == AgentStatus.ONLINE:
        await drain_queue(session=session, bus=bus, routing=routing)


async def disconnected(
    *,
    session: AsyncSession,
    bus: Bus,
    agent_id: int,
    socket_id: str,
    replica_id: str,
    routing: Routing,
) -> None:
    """A console closed: the agent is offline unless another of their consoles is alive."""
    await _record(
        session=session,
        bus=bus,
        agent_id=agent_id,
        status=AgentStatus.OFFLINE,
        socket_id=socket_id,
        replica_id=replica_id,
        routing=routing,
    )
