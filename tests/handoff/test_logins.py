"""Login policy, the server's own key and revocation, on the real database (issue 13)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import make_engine, make_sessionmaker
from handoff import agents, audit, logins, server_keys
from handoff.bus import MemoryBus
from handoff.models import RevokedToken, utcnow

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    # Still argon2; no test here is about its cost.
    monkeypatch.setattr(
        agents, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


def test_each_failure_past_the_free_ones_doubles_the_wait_up_to_a_lockout() -> None:
    policy = logins.LoginPolicy(free_per_account=5, first_delay_s=1, max_delay_s=900)
    now = utcnow()
    waits = [
        policy.wait_s(n, policy.free_per_account, now, now) for n in (4, 5, 6, 7, 8, 20, 10**6)
    ]
    assert waits == [0, 1, 2, 4, 8, 900, 900]
    assert policy.wait_s(8, 5, now - timedelta(seconds=3), now) == 5, (
        "the wait runs from the last try"
    )
    assert policy.wait_s(8, 5, now - timedelta(hours=1), now) == 0


async def test_two_replicas_starting_together_agree_on_one_random_key(database_url: str) -> None:
    engines = [make_engine(database_url) for _ in range(2)]
    try:
        sessions = [make_sessionmaker(e)() for e in engines]
        keys = await asyncio.gather(
            *(server_keys.get_or_create(session=s, name=server_keys.SIGNING_KEY) for s in sessions)
        )
        again = await server_keys.get_or_create(session=sessions[0], name=server_keys.SIGNING_KEY)
        for s in sessions:
            await s.close()
    finally:
        for e in engines:
            await e.dispose()
    assert keys[0] == keys[1] == again
    assert len(keys[0]) >= 32


async def test_production_refuses_the_demo_accounts_even_with_their_password(
    session: AsyncSession,
) -> None:
    await agents.create_agent(
        session=session,
        email=agents.DEMO_ADMIN_EMAIL,
        name="Sam",
        password=PASSWORD,
        is_admin=True,
    )
    slots = asyncio.Semaphore(2)
    attempt = {"email": agents.DEMO_ADMIN_EMAIL, "password": PASSWORD, "ip": "203.0.113.5"}
    production = logins.LoginPolicy(refuse_demo_accounts=True)
    refused = await logins.log_in(session=session, slots=slots, policy=production, **attempt)
    assert refused.agent is None
    (failed,) = await audit.recent(session=session, action="login_failed")
    assert failed.detail == {"email": agents.DEMO_ADMIN_EMAIL} and failed.ip == "203.0.113.5"

    dev = await logins.log_in(session=session, slots=slots, policy=logins.LoginPolicy(), **attempt)
    assert dev.agent is not None and dev.agent.is_admin


async def test_logging_out_forgets_revocations_that_expired_anyway(
    session: AsyncSession, bus: MemoryBus
) -> None:
    session.add(RevokedToken(jti="old", expires_at=utcnow() - timedelta(minutes=1)))
    await session.commit()
    await logins.log_out(
        session=session,
        bus=bus,
        agent_id=1,
        jti="new",
        expires_at=utcnow() + timedelta(hours=1),
        ip=None,
    )
    assert await logins.is_revoked(session=session, jti="new")
    assert (await session.scalars(select(RevokedToken.jti))).all() == ["new"]
