"""Agents: accounts, password checks, presence.

Presence is kept per socket, not per agent, so that several replicas agree on it: every live
agent socket has a row in `agent_presence` (socket id, agent, replica, last_seen_at) that its
heartbeat refreshes. An agent is online while their status is online and at least one of
their rows was seen within the presence timeout (settings.presence_timeout_s, 60 s: two
missed 25 s heartbeats). A socket that closes deletes its row; a replica that dies leaves
rows that simply go stale, so its agents stop counting as online after at most the timeout
(their sockets reconnect to another replica long before that and write fresh rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.errors import Conflict, Invalid
from handoff.models import Agent, AgentPresence, AgentStatus, utcnow

_hasher = PasswordHasher()
MIN_PASSWORD_LEN = 8
# An agent with no heartbeat for this long is offline: two missed 25 s console heartbeats
# and a bit. The default of Settings.presence_timeout_s (and so of Routing).
PRESENCE_TIMEOUT_S = 60
STALE_PRESENCE_S = 3600  # rows of dead replicas are deleted after this; harmless until then


def _default_socket(agent_id: int) -> str:
    # Callers that do not name a socket (scripts, tests) share one pseudo-socket per agent.
    return f"agent-{agent_id}"


async def create_agent(
    *,
    session: AsyncSession,
    email: str,
    name: str,
    password: str,
    is_admin: bool = False,
    capacity: int = 3,
) -> Agent:
    """Create an agent account with an argon2-hashed password."""
    if len(password) < MIN_PASSWORD_LEN:
        raise Invalid(f"password must be at least {MIN_PASSWORD_LEN} characters")
    agent = Agent(
        email=email.strip().lower(),
        name=name.strip(),
        password_hash=_hasher.hash(password),
        is_admin=is_admin,
        capacity=capacity,
    )
    session.add(agent)
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise Conflict(f"an agent with e-mail {email!r} already exists") from exc
    return agent


async def authenticate(*, session: AsyncSession, email: str, password: str) -> Agent | None:
    """The agent with these credentials, or None."""
    agent = await session.scalar(select(Agent).where(Agent.email == email.strip().lower()))
    if agent is None:
        # Same work either way, so response time does not reveal which e-mails exist.
        _hasher.hash(password)
        return None
    try:
        _hasher.verify(agent.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(agent.password_hash):
        agent.password_hash = _hasher.hash(password)
        await session.commit()
    return agent


async def set_presence(
    *,
    session: AsyncSession,
    agent_id: int,
    status: AgentStatus | None,
    now: datetime | None = None,
    socket_id: str | None = None,
    replica_id: str | None = None,
    presence_timeout_s: int = PRESENCE_TIMEOUT_S,
) -> AgentStatus:
    """Record one socket's heartbeat (online) or goodbye (offline); the caller commits.

    `status=None` is a plain heartbeat: the agent's chosen status is kept (away stays away).

    Returns the agent's status as the cluster now sees it: an offline socket leaves the
    agent online while another of their sockets (on any replica) is alive.
    """
    now = now or utcnow()
    socket_id = socket_id or _default_socket(agent_id)
    agent = await session.get(Agent, agent_id)
    if agent is None:
        return AgentStatus.OFFLINE
    if status is None:
        status = AgentStatus.AWAY if agent.status == AgentStatus.AWAY else AgentStatus.ONLINE
    row = await session.get(AgentPresence, socket_id)
    if status == AgentStatus.OFFLINE:
        if row is not None:
            await session.delete(row)
        await session.execute(
            delete(AgentPresence).where(
                AgentPresence.last_seen_at < now - timedelta(seconds=STALE_PRESENCE_S)
            )
        )
        await session.flush()
        if await _has_live_socket(
            session=session, agent_id=agent_id, cutoff=now - timedelta(seconds=presence_timeout_s)
        ):
            return AgentStatus(agent.status)
    elif row is None:
        session.add(
            AgentPresence(
                socket_id=socket_id, agent_id=agent_id, replica_id=replica_id, last_seen_at=now
            )
        )
    else:
        row.last_seen_at = now
        if agent.status == status:
            # A plain heartbeat: leave the agents row alone, so a console's pings never
            # queue behind (or deadlock with) routing, which locks agent rows.
            return status
    agent.status = status
    agent.last_seen_at = now
    return status


async def _has_live_socket(*, session: AsyncSession, agent_id: int, cutoff: datetime) -> bool:
    return bool(
        await session.scalar(
            select(
                exists().where(
                    AgentPresence.agent_id == agent_id, AgentPresence.last_seen_at >= cutoff
                )
            )
        )
    )


async def online_agents(
    *, session: AsyncSession, presence_timeout_s: int, now: datetime | None = None
) -> Sequence[Agent]:
    """Agents that are online with a socket somewhere that heartbeated recently enough."""
    cutoff = (now or utcnow()) - timedelta(seconds=presence_timeout_s)
    live = exists().where(AgentPresence.agent_id == Agent.id, AgentPresence.last_seen_at >= cutoff)
    return (
        await session.scalars(select(Agent).where(Agent.status == AgentStatus.ONLINE, live))
    ).all()
