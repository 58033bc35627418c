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

import asyncio
import functools
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import audit
from handoff.errors import Conflict, Forbidden, Invalid
from handoff.models import Agent, AgentPresence, AgentStatus, utcnow

_hasher = PasswordHasher()
MIN_PASSWORD_LEN = 8
EMAIL_MAX = 320  # RFC 5321: 64 + "@" + 255
NAME_MAX = 200  # agents.name
PASSWORD_MAX = 1024  # long pass-phrases fit; a megabyte "password" is refused before hashing
# An agent with no heartbeat for this long is offline: two missed 25 s console heartbeats
# and a bit. The default of Settings.presence_timeout_s (and so of Routing).
PRESENCE_TIMEOUT_S = 60
STALE_PRESENCE_S = 3600  # rows of dead replicas are deleted after this; harmless until then
# `chatdesk serve --demo` (app/cli.py) keeps these two; production refuses them (handoff/logins.py).
DEMO_AGENT_EMAIL = "demo@chatdesk.local"
DEMO_ADMIN_EMAIL = "admin@chatdesk.local"
DEMO_EMAILS = frozenset({DEMO_AGENT_EMAIL, DEMO_ADMIN_EMAIL})


def normalise_email(email: str) -> str:
    return email.strip().lower()


def login_still_valid(agent: Agent, *, issued_at: datetime) -> bool:
    """Whether a login token issued at `issued_at` may still act for this agent: not while
    they are disabled, nor from before their latest password reset or disabling."""
    if agent.disabled_at is not None:
        return False
    return agent.tokens_valid_after is None or issued_at >= agent.tokens_valid_after


def _default_socket(agent_id: int) -> str:
    # Callers that do not name a socket (scripts, tests) share one pseudo-socket per agent.
    return f"agent-{agent_id}"


def check_new_password(password: str) -> None:
    """The password rule: MIN_PASSWORD_LEN to PASSWORD_MAX characters (Invalid otherwise)."""
    if not MIN_PASSWORD_LEN <= len(password) <= PASSWORD_MAX:
        raise Invalid(f"password must be {MIN_PASSWORD_LEN} to {PASSWORD_MAX} characters")


async def hash_password(password: str) -> str:
    """argon2 in a worker thread: ~50 ms of CPU that must not stall the event loop."""
    return await asyncio.to_thread(_hasher.hash, password)


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def _verify(password_hash: str | None, password: str) -> tuple[bool, str | None]:
    # (matches, a rehash if the parameters changed). No account: the same work against a
    # dummy hash, so response time does not reveal which e-mails exist.
    try:
        _hasher.verify(password_hash or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False, None
    if password_hash is None:  # pragma: no cover - nobody knows the dummy's password
        return False, None
    rehash = _hasher.hash(password) if _hasher.check_needs_rehash(password_hash) else None
    return True, rehash


async def create_agent(
    *,
    session: AsyncSession,
    email: str,
    name: str,
    password: str,
    is_admin: bool = False,
    capacity: int = 3,
    actor_id: int | None = None,
    via: str = "cli",
    ip: str | None = None,
) -> Agent:
    """Create an agent account with an argon2-hashed password; audited as agent_created."""
    check_new_password(password)
    agent = Agent(
        email=normalise_email(email),
        name=name.strip(),
        password_hash=await hash_password(password),
        is_admin=is_admin,
        capacity=capacity,
    )
    session.add(agent)
    try:
        await session.flush()
    except IntegrityError as exc:
        await session.rollback()
        raise Conflict(f"an agent with e-mail {email!r} already exists") from exc
    audit.record(
        session,
        "agent_created",
        agent_id=actor_id,
        ip=ip,
        target_agent_id=agent.id,
        email=agent.email,
        is_admin=is_admin,
        capacity=capacity,
        via=via,
    )
    await session.commit()
    return agent


async def reset_account(
    *,
    session: AsyncSession,
    agent: Agent,
    password: str,
    is_admin: bool,
    actor_id: int | None = None,
    via: str = "cli",
) -> Agent:
    """Give an existing agent a new password and role; audited as agent_updated."""
    check_new_password(password)
    agent.password_hash = await hash_password(password)
    agent.tokens_valid_after = utcnow()  # the old password's logins end
    agent.is_admin = is_admin
    audit.record(
        session,
        "agent_updated",
        agent_id=actor_id,
        target_agent_id=agent.id,
        email=agent.email,
        is_admin=is_admin,
        password_changed=True,
        via=via,
    )
    await session.commit()
    return agent


async def rename_self(*, session: AsyncSession, agent: Agent, name: str, ip: str | None) -> Agent:
    """An agent changes their own display name (what visitors see); audited."""
    name = name.strip()
    if not 1 <= len(name) <= NAME_MAX:
        raise Invalid(f"name must be 1 to {NAME_MAX} characters")
    if name != agent.name:
        audit.record(session, "profile_name_changed", agent_id=agent.id, ip=ip, was=agent.name)
        agent.name = name
        await session.commit()
    return agent


async def change_own_password(
    *, session: AsyncSession, agent: Agent, current: str, new: str, ip: str | None
) -> Agent:
    """An agent sets a new password, proving the current one first; audited.

    Their logins stay valid (an admin's reset is what ends them): the agent is at their desk.
    """
    check_new_password(new)
    await session.commit()  # no transaction (no SQLite write lock) while argon2 runs
    if not await check_password(session=session, agent=agent, password=current):
        audit.record(session, "password_change_failed", agent_id=agent.id, ip=ip)
        await session.commit()
        raise Forbidden("the current password is wrong")
    agent.password_hash = await hash_password(new)
    audit.record(session, "password_changed", agent_id=agent.id, ip=ip)
    await session.commit()
    return agent


async def find_by_email(*, session: AsyncSession, email: str) -> Agent | None:
    return await session.scalar(select(Agent).where(Agent.email == normalise_email(email)))


async def check_password(*, session: AsyncSession, agent: Agent | None, password: str) -> bool:
    """Whether `password` is the agent's (off the event loop); None costs the same and fails.

    The caller bounds how many run at once (handoff/logins.py) and commits: a rehash with
    newer argon2 parameters is only added to the session.
    """
    ok, rehash = await asyncio.to_thread(_verify, agent.password_hash if agent else None, password)
    if ok and agent is not None and rehash is not None:
        agent.password_hash = rehash
    return ok and agent is not None


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
    # A disabled agent's consoles are closed at once; a replica that missed that never counts
    # them as online meanwhile.
    enabled = Agent.disabled_at.is_(None)
    query = select(Agent).where(Agent.status == AgentStatus.ONLINE, live, enabled)
    return (await session.scalars(query)).all()
