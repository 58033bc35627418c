"""The team as admins run it: create agents, disable and re-enable them, reset passwords, set
capacity and the admin role. Every change is audited in the transaction that makes it.

Ending an agent's logins (disable, password reset) is one column, `agents.tokens_valid_after`:
every token issued before it is refused on REST and /ws/agent (app/security.py), and the event
`logins_ended` makes every replica close that agent's open consoles at once (app/ws/hub.py).
There is always an enabled admin: the last one can neither lose the role nor be disabled.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import agents, audit, reroute
from handoff.bus import Bus
from handoff.errors import Conflict, Invalid, NotFound
from handoff.events import AGENTS_CHANNEL, LOGINS_CHANNEL, logins_ended_event
from handoff.models import Agent, AgentPresence, AgentStatus, utcnow
from handoff.routing import Routing, drain_queue

# Chats at once per agent. 0 is allowed: such an agent is never auto-assigned a chat (they
# take tickets or chats by hand); past 20 nobody gives each visitor real attention.
MIN_CAPACITY, MAX_CAPACITY = 0, 20


def check_capacity(capacity: int) -> int:
    if not MIN_CAPACITY <= capacity <= MAX_CAPACITY:
        raise Invalid(f"capacity must be {MIN_CAPACITY} to {MAX_CAPACITY} chats at once")
    return capacity


def check_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= agents.NAME_MAX:
        raise Invalid(f"name must be 1 to {agents.NAME_MAX} characters")
    return name


def check_email(email: str) -> str:
    # Only the shape: the address is a login name, it is never mailed.
    email = agents.normalise_email(email)
    local, at, domain = email.rpartition("@")
    if not (at and local and domain) or len(email) > agents.EMAIL_MAX or any(
        c.isspace() for c in email
    ):
        raise Invalid("email: not an e-mail address")
    return email


async def get_agent(*, session: AsyncSession, agent_id: int) -> Agent:
    agent = await session.get(Agent, agent_id)
    if agent is None:
        raise NotFound(f"agent {agent_id} not found")
    return agent


async def _other_enabled_admins(*, session: AsyncSession, agent_id: int) -> int:
    # Locked (PostgreSQL) until the commit: two admins demoting each other at once cannot
    # both see the other as the remaining admin. On SQLite, BEGIN IMMEDIATE serialises us.
    ids = (
        await session.scalars(
            select(Agent.id)
            .where(Agent.is_admin.is_(True), Agent.disabled_at.is_(None), Agent.id != agent_id)
            .with_for_update()
        )
    ).all()
    return len(ids)


async def _keep_an_admin(*, session: AsyncSession, agent: Agent, action: str) -> None:
    if agent.is_admin and agent.disabled_at is None:
        if not await _other_enabled_admins(session=session, agent_id=agent.id):
            raise Conflict(
                f"{agent.name} is the last admin: make someone else admin, then {action}"
            )


async def create_member(
    *,
    session: AsyncSession,
    email: str,
    name: str,
    password: str,
    capacity: int,
    is_admin: bool,
    actor: Agent,
    ip: str | None,
) -> Agent:
    """A new agent (or admin) who can log in at once; audited as agent_created."""
    return await agents.create_agent(
        session=session,
        email=check_email(email),
        name=check_name(name),
        password=password,
        is_admin=is_admin,
        capacity=check_capacity(capacity),
        actor_id=actor.id,
        via="admin",
        ip=ip,
    )


async def update_member(
    *,
    session: AsyncSession,
    bus: Bus,
    routing: Routing,
    agent_id: int,
    actor: Agent,
    ip: str | None,
    capacity: int | None = None,
    is_admin: bool | None = None,
) -> Agent:
    """Set an agent's capacity and/or admin role; each change audited."""
    if capacity is not None:
        check_capacity(capacity)
    agent = await get_agent(session=session, agent_id=agent_id)
    if is_admin is not None and is_admin != agent.is_admin:
        if not is_admin:
            await _keep_an_admin(session=session, agent=agent, action="remove this role")
        agent.is_admin = is_admin
        audit.record(
            session,
            "agent_role_changed",
            agent_id=actor.id,
            ip=ip,
            target_agent_id=agent.id,
            is_admin=is_admin,
        )
    more_room = False
    if capacity is not None and capacity != agent.capacity:
        audit.record(
            session,
            "agent_capacity_changed",
            agent_id=actor.id,
            ip=ip,
            target_agent_id=agent.id,
            capacity=capacity,
            was=agent.capacity,
        )
        more_room = capacity > agent.capacity
        agent.capacity = capacity
    await session.commit()
    if more_room:
        await drain_queue(session=session, bus=bus, routing=routing)
    return agent


async def disable_member(
    *,
    session: AsyncSession,
    bus: Bus,
    routing: Routing,
    agent_id: int,
    actor: Agent,
    ip: str | None,
) -> Agent:
    """The agent can no longer log in, every login of theirs ends at once, and the chats they
    held go back to the queue (at their old place: they have waited longest)."""
    agent = await get_agent(session=session, agent_id=agent_id)
    if agent.disabled_at is not None:
        return agent
    await _keep_an_admin(session=session, agent=agent, action="disable this account")
    if agent.id == actor.id:
        raise Conflict("you cannot disable your own account: ask another admin")
    now = utcnow()
    agent.disabled_at = agent.tokens_valid_after = now
    agent.status = AgentStatus.OFFLINE
    await session.execute(delete(AgentPresence).where(AgentPresence.agent_id == agent.id))
    requeued = await reroute.requeue(session=session, agent_id=agent.id, reason="disabled")
    audit.record(
        session,
        "agent_disabled",
        agent_id=actor.id,
        ip=ip,
        target_agent_id=agent.id,
        requeued=[conv.id for conv, _ in requeued],
    )
    await session.commit()
    await bus.publish_after_commit(
        LOGINS_CHANNEL, logins_ended_event(agent_id=agent.id, before=now)
    )
    await bus.publish_after_commit(
        AGENTS_CHANNEL, {"type": "presence", "agent_id": agent.id, "status": "offline"}
    )
    await reroute.after_requeue(session=session, bus=bus, routing=routing, requeued=requeued)
    return agent


async def enable_member(
    *, session: AsyncSession, agent_id: int, actor: Agent, ip: str | None
) -> Agent:
    """The agent may log in again (their old logins stay ended); audited as agent_enabled."""
    agent = await get_agent(session=session, agent_id=agent_id)
    if agent.disabled_at is None:
        return agent
    agent.disabled_at = None
    audit.record(session, "agent_enabled", agent_id=actor.id, ip=ip, target_agent_id=agent.id)
    await session.commit()
    return agent


async def reset_password(
    *, session: AsyncSession, bus: Bus, agent_id: int, password: str, actor: Agent, ip: str | None
) -> Agent:
    """An admin gives the agent a new password: every login of theirs ends (consoles too)."""
    agent = await get_agent(session=session, agent_id=agent_id)
    if agent.id == actor.id:
        raise Conflict("change your own password in your profile (it needs your current one)")
    agents.check_new_password(password)
    now = utcnow()
    agent.password_hash = await agents.hash_password(password)
    agent.tokens_valid_after = now
    audit.record(
        session, "agent_password_reset", agent_id=actor.id, ip=ip, target_agent_id=agent.id
    )
    await session.commit()
    await bus.publish_after_commit(
        LOGINS_CHANNEL, logins_ended_event(agent_id=agent.id, before=now)
    )
    return agent


async def agents_by_id(*, session: AsyncSession, agent_ids: list[int]) -> dict[int, Agent]:
    """The agents named, to check their open consoles' logins again (after a bus outage)."""
    if not agent_ids:
        return {}
    rows = await session.scalars(select(Agent).where(Agent.id.in_(agent_ids)))
    return {a.id: a for a in rows}
