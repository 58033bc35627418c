"""Agent log-in and log-out: throttled per account and per IP, audited, tokens revocable.

The throttle counts recent `login_failed` events in the audit log, so every replica sees
every failure. Up to `free_per_account` (`free_per_ip`) failures in the window cost nothing;
after that each attempt waits `first_delay_s * 2 ** extra` seconds after the latest failure,
up to `max_delay_s` (a temporary lockout). A successful login clears its account's count
(not the IP's). Attempts refused by the throttle are audited as `login_throttled` and are
not checked at all, so they teach an attacker nothing.

At most `slots` logins run at once per process, throttle check and audit record included:
a flood of attempts waits in that queue holding neither a database connection nor a core,
and a burst of parallel guesses cannot slip past the throttle together.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import agents, audit
from handoff.bus import Bus
from handoff.events import LOGINS_CHANNEL, login_revoked_event
from handoff.models import Agent, AuditEvent, RevokedToken, utcnow


@dataclass(frozen=True)
class LoginPolicy:
    """How failed logins are throttled (Settings.login_policy); the defaults are the settings'."""

    window_s: int = 900  # failures older than this are forgiven
    free_per_account: int = 5  # typos are free
    free_per_ip: int = 20  # an office behind one NAT has several agents
    first_delay_s: int = 1
    max_delay_s: int = 900  # the longest lockout
    refuse_demo_accounts: bool = False  # production: the demo accounts never log in

    def wait_s(self, failures: int, free: int, latest: datetime | None, now: datetime) -> float:
        """Seconds until the next attempt may be checked, given the failures counted."""
        if failures < free or latest is None:
            return 0.0
        delay = min(self.first_delay_s * 2 ** min(failures - free, 30), self.max_delay_s)
        return max(0.0, (latest + timedelta(seconds=delay) - now).total_seconds())


@dataclass(frozen=True)
class LoginResult:
    """The agent logged in, or None; `retry_after_s` > 0 when the throttle refused to check."""

    agent: Agent | None
    retry_after_s: int = 0


def _email_of() -> ColumnElement[str]:
    return AuditEvent.detail["email"].as_string()


async def _wait_s(
    *, session: AsyncSession, policy: LoginPolicy, email: str, ip: str | None
) -> float:
    now = utcnow()
    since = now - timedelta(seconds=policy.window_s)
    failed = (AuditEvent.action == "login_failed", AuditEvent.at >= since)
    by_ip = (
        await session.execute(
            select(func.count(), func.max(AuditEvent.at)).where(*failed, AuditEvent.ip == ip)
        )
    ).one()
    last_login = (
        select(func.max(AuditEvent.at))
        .where(AuditEvent.action == "login", _email_of() == email, AuditEvent.at >= since)
        .scalar_subquery()
    )
    by_account = (
        await session.execute(
            select(func.count(), func.max(AuditEvent.at)).where(
                *failed, _email_of() == email, AuditEvent.at > func.coalesce(last_login, since)
            )
        )
    ).one()
    await session.commit()  # end the read: on SQLite it holds the write lock
    return max(
        policy.wait_s(by_ip[0], policy.free_per_ip, by_ip[1], now),
        policy.wait_s(by_account[0], policy.free_per_account, by_account[1], now),
    )


async def _throttled(
    *, session: AsyncSession, policy: LoginPolicy, email: str, ip: str | None
) -> LoginResult | None:
    wait = await _wait_s(session=session, policy=policy, email=email, ip=ip)
    if wait <= 0:
        return None
    retry_after = max(1, math.ceil(wait))
    audit.record(session, "login_throttled", ip=ip, email=email, retry_after_s=retry_after)
    await session.commit()
    return LoginResult(agent=None, retry_after_s=retry_after)


async def log_in(
    *,
    session: AsyncSession,
    slots: asyncio.Semaphore,
    policy: LoginPolicy,
    email: str,
    password: str,
    ip: str | None,
) -> LoginResult:
    """Check an agent's e-mail and password, unless the throttle says wait; audited."""
    email = agents.normalise_email(email)
    async with slots:
        refused = await _throttled(session=session, policy=policy, email=email, ip=ip)
        if refused is not None:
            return refused
        agent = await agents.find_by_email(session=session, email=email)
        await session.commit()  # no transaction (no SQLite write lock) while argon2 runs
        ok = await agents.check_password(session=session, agent=agent, password=password)
        if ok and agent is not None and policy.refuse_demo_accounts:
            ok = email not in agents.DEMO_EMAILS
        if ok and agent is not None and agent.disabled_at is not None:
            ok = False  # disabled by an admin (handoff/team.py): as if the password were wrong
        if not ok or agent is None:
            audit.record(session, "login_failed", ip=ip, email=email)
            await session.commit()
            return LoginResult(agent=None)
        audit.record(session, "login", agent_id=agent.id, ip=ip, email=email)
        await session.commit()  # with a rehash, if check_password made one
        return LoginResult(agent=agent)


async def log_out(
    *,
    session: AsyncSession,
    bus: Bus,
    agent_id: int,
    jti: str,
    expires_at: datetime,
    ip: str | None,
) -> None:
    """End one login token now: refused everywhere until it would have expired anyway, and
    every console still open with it (a copied token's too) is logged out on every replica."""
    await session.execute(delete(RevokedToken).where(RevokedToken.expires_at < utcnow()))
    await session.merge(RevokedToken(jti=jti, expires_at=expires_at))
    audit.record(session, "logout", agent_id=agent_id, ip=ip)
    await session.commit()
    await bus.publish_after_commit(LOGINS_CHANNEL, login_revoked_event(jti=jti))


async def revoked_among(*, session: AsyncSession, jtis: Sequence[str]) -> set[str]:
    """Which of these login tokens were logged out (one query)."""
    if not jtis:
        return set()
    found = await session.scalars(select(RevokedToken.jti).where(RevokedToken.jti.in_(jtis)))
    return set(found)


async def is_revoked(*, session: AsyncSession, jti: str) -> bool:
    """Whether this login token was ended by logging out."""
    return await session.get(RevokedToken, jti) is not None
