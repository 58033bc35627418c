"""Agents: accounts, password checks, presence."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.errors import Conflict, Invalid
from handoff.models import Agent, AgentStatus, utcnow

_hasher = PasswordHasher()
MIN_PASSWORD_LEN = 8


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
    *, session: AsyncSession, agent_id: int, status: AgentStatus, now: datetime | None = None
) -> None:
    """Record an agent's status and heartbeat time; the caller commits."""
    agent = await session.get(Agent, agent_id)
    if agent is not None:
        agent.status = status
        agent.last_seen_at = now or utcnow()


async def online_agents(
    *, session: AsyncSession, presence_timeout_s: int, now: datetime | None = None
) -> Sequence[Agent]:
    """Agents that are online and sent a heartbeat recently enough to be believed."""
    cutoff = (now or utcnow()) - timedelta(seconds=presence_timeout_s)
    return (
        await session.scalars(
            select(Agent).where(Agent.status == AgentStatus.ONLINE, Agent.last_seen_at >= cutoff)
        )
    ).all()
