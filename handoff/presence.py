"""An agent's consoles: coming online, status changes, heartbeats, going offline.

The presence rows themselves (one per socket, shared by every replica) are kept by
handoff.agents; each function here commits them, tells every console the agent's status as
the cluster sees it, and lets routing hand out waiting chats when the agent is available.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from handoff.agents import set_presence
from handoff.bus import Bus
from handoff.events import AGENTS_CHANNEL
from handoff.models import AgentStatus
from handoff.routing import Routing, drain_queue


@dataclass(frozen=True)
class Console:
    """One agent console socket, named cluster-wide by its socket and replica ids."""

    agent_id: int
    socket_id: str
    replica_id: str


async def _record(
    *,
    session: AsyncSession,
    bus: Bus | None,
    console: Console,
    status: AgentStatus | None,
    routing: Routing,
) -> None:
    """Commit this socket's presence; with a bus, announce the agent's cluster-wide status."""
    effective = await set_presence(
        session=session,
        agent_id=console.agent_id,
        status=status,
        socket_id=console.socket_id,
        replica_id=console.replica_id,
        presence_timeout_s=routing.presence_timeout_s,
    )
    await session.commit()
    if bus is not None:
        await bus.publish_after_commit(
            AGENTS_CHANNEL,
            {"type": "presence", "agent_id": console.agent_id, "status": str(effective)},
        )


async def connected(*, session: AsyncSession, bus: Bus, console: Console, routing: Routing) -> None:
    """A console opened: the agent is online (unless away elsewhere) and takes waiting chats."""
    # A plain heartbeat, not "online": a new tab must not bring an away agent back.
    await _record(session=session, bus=bus, console=console, status=None, routing=routing)
    await drain_queue(session=session, bus=bus, routing=routing)


async def heartbeat(*, session: AsyncSession, console: Console, routing: Routing) -> None:
    """A console's ping keeps the agent present; nothing changes, so nothing is announced."""
    await _record(session=session, bus=None, console=console, status=None, routing=routing)


async def set_status(
    *, session: AsyncSession, bus: Bus, console: Console, status: AgentStatus, routing: Routing
) -> None:
    """The agent chose online or away; back online, they take waiting chats."""
    await _record(session=session, bus=bus, console=console, status=status, routing=routing)
    if status == AgentStatus.ONLINE:
        await drain_queue(session=session, bus=bus, routing=routing)


async def disconnected(
    *, session: AsyncSession, bus: Bus, console: Console, routing: Routing
) -> None:
    """A console closed: the agent is offline unless another of their consoles is alive."""
    await _record(
        session=session, bus=bus, console=console, status=AgentStatus.OFFLINE, routing=routing
    )
