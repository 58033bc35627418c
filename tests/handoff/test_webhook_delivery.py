"""Webhooks on the real database, no server: the outbox shares the change's transaction, fan-out,
claims and their lease, retries and giving up, signatures, and where webhooks may not go."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import make_engine, make_sessionmaker
from handoff import webhook_admin, webhooks
from handoff.bus import MemoryBus
from handoff.errors import Conflict, Invalid
from handoff.models import utcnow
from handoff.webhook_delivery import DeliveryConfig, backoff_s, claim, fan_out, purge, record
from handoff.webhook_http import (
    Claimed,
    Outcome,
    make_client,
    send,
    signature,
    signature_header,
)
from handoff.webhook_models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from handoff.webhooks import Targets
from tests.webhook_receiver import Receiver, documented_verify

PRODUCTION = Targets(allow_http=False, allow_private=False)
FAST = DeliveryConfig(max_attempts=3, retry_base_s=10, retry_max_s=40)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(database_url)
    try:
        yield make_sessionmaker(engine)
    finally:
        webhooks.SUBSCRIBED.forget()
        await engine.dispose()


async def endpoint(
    session: AsyncSession, types: list[str], url: str = "http://127.0.0.1:9/x", enabled: bool = True
) -> WebhookEndpoint:
    made, _ = await webhook_admin.create_endpoint(
        session=session, bus=MemoryBus(), targets=Targets(), url=url, event_types=types,
        description=None, enabled=enabled, agent_id=None,
    )
    return made


async def count(session: AsyncSession, model: type) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_an_event_nobody_wants_costs_nothing_and_a_wanted_one_shares_the_commit(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s:
        await webhooks.refresh(session=s)
        await webhooks.emit(s, "ticket.created", lambda: pytest.fail("built for nobody"))
        assert not s.new  # not even an object: no statement at the commit
        await endpoint(s, ["ticket.created"])
        await webhooks.emit(s, "ticket.created", {"ticket": {"id": 1}})
        await s.rollback()  # the change is not committed: neither is its event
        assert await count(s, WebhookEvent) == 0
        await webhooks.emit(s, "ticket.created", {"ticket": {"id": 2}})
        await webhooks.emit(s, "message.created", {"message": {}})  # nobody subscribes to it
        await s.commit()
        events = (await s.scalars(select(WebhookEvent))).all()
        assert [(e.type, e.data) for e in events] == [("ticket.created", {"ticket": {"id": 2}})]
        with pytest.raises(ValueError, match="unknown webhook event type"):
            await webhooks.emit(s, "ticket.exploded", {})


async def test_fan_out_goes_to_subscribers_and_a_test_event_to_its_endpoint_only(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s:
        tickets = await endpoint(s, ["ticket.created", "ticket.updated"])
        everything = await endpoint(s, list(webhooks.EVENT_TYPES))
        await endpoint(s, ["ticket.created"], enabled=False)
        await webhooks.emit(s, "ticket.created", {"ticket": {"id": 1}})
        await webhooks.emit(s, "conversation.closed", {"conversation": {"id": 1}})
        await s.commit()
        await webhook_admin.send_test(session=s, endpoint_id=tickets.id, agent_id=None)
        assert await fan_out(session=s) == 3
        assert await fan_out(session=s) == 0  # each event once
        pairs = (
            await s.execute(
                select(WebhookEvent.type, WebhookDelivery.endpoint_id)
                .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
                .order_by(WebhookDelivery.id)
            )
        ).all()
    assert sorted(pairs) == sorted([
        ("ticket.created", tickets.id), ("ticket.created", everything.id),
        ("conversation.closed", everything.id), ("webhook.test", tickets.id),
    ])


async def test_a_claim_is_a_lease_that_another_process_takes_over_when_it_lapses(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s:
        await endpoint(s, ["ticket.created"])
        for i in range(6):
            await webhooks.emit(s, "ticket.created", {"ticket": {"id": i}})
        await s.commit()
        await fan_out(session=s)

    async def claim_in_own_session() -> list[Claimed]:
        async with sessions() as own:
            return await claim(session=own, limit=4, lease_s=60)

    first, second = await asyncio.gather(claim_in_own_session(), claim_in_own_session())
    assert len(first) + len(second) == 6  # two replicas at once: every row once
    assert not {c.id for c in first} & {c.id for c in second}
    assert await claim_in_own_session() == []  # all leased
    async with sessions() as s:  # the process holding `first` died: its leases run out
        lapsed = utcnow() - timedelta(seconds=1)
        ids = [c.id for c in first]
        await s.execute(update(WebhookDelivery).where(WebhookDelivery.id.in_(ids))
                        .values(next_attempt_at=lapsed))
        await s.commit()
    again = await claim_in_own_session()
    assert {c.id for c in again} == set(ids) and {c.attempts for c in again} == {2}
    assert {c.body for c in again} == {c.body for c in first}  # the same bytes, the same id


async def one_delivery(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as s:
        made = await endpoint(s, ["ticket.created"])
        await webhooks.emit(s, "ticket.created", {"ticket": {"id": 1}})
        await s.commit()
        await fan_out(session=s)
        return made.id


async def due_now(session: AsyncSession) -> None:
    await session.execute(update(WebhookDelivery).values(next_attempt_at=utcnow()))
    await session.commit()


REFUSED = Outcome(None, "ConnectError: refused", 3)


async def test_failures_back_off_with_jitter_then_the_delivery_is_given_up(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    endpoint_id = await one_delivery(sessions)
    for attempt in (1, 2):
        async with sessions() as s:
            (c,) = await claim(session=s, limit=1, lease_s=60)
            assert c.attempts == attempt
            before = utcnow()
            assert await record(session=s, claimed=c, outcome=REFUSED, config=FAST) == "retrying"
            row = await s.get(WebhookDelivery, c.id, populate_existing=True)
            assert row is not None and row.status == "pending"
            wait = (row.next_attempt_at - before).total_seconds()
            assert 0 <= wait <= 10 * 2 ** (attempt - 1) + 1  # full jitter below the cap
            assert await claim(session=s, limit=1, lease_s=60) == []  # not due yet
            await due_now(s)
    async with sessions() as s:
        (c,) = await claim(session=s, limit=1, lease_s=60)
        assert await record(session=s, claimed=c, outcome=REFUSED, config=FAST) == "failed"
        await due_now(s)
        assert await claim(session=s, limit=1, lease_s=60) == []  # failed is final
        (logged,) = await webhook_admin.delivery_log(session=s, endpoint_id=endpoint_id)
        assert logged.delivery.status == "failed"
        assert [a.error for a in logged.attempts] == ["ConnectError: refused"] * 3
        await purge(session=s, older_than=timedelta(0))  # nothing pending: all of it goes
        assert await count(s, WebhookEvent) == await count(s, WebhookAttempt) == 0


async def test_a_late_answer_to_a_lapsed_claim_does_not_reschedule_the_new_one(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await one_delivery(sessions)
    async with sessions() as s:
        (slow,) = await claim(session=s, limit=1, lease_s=60)
        await due_now(s)  # its lease ran out: another process claims it
        (fresh,) = await claim(session=s, limit=1, lease_s=60)
        leased_row = await s.get(WebhookDelivery, fresh.id, populate_existing=True)
        assert leased_row is not None
        leased = leased_row.next_attempt_at
        await record(session=s, claimed=slow, outcome=REFUSED, config=FAST)
        row = await s.get(WebhookDelivery, fresh.id, populate_existing=True)
        assert row is not None and row.next_attempt_at == leased and row.status == "pending"
        ok = Outcome(204, None, 5)
        assert await record(session=s, claimed=fresh, outcome=ok, config=FAST) == "delivered"
        await s.refresh(row)
        assert row.status == "delivered" and row.attempts == 2


def test_backoff_has_full_jitter_under_an_exponential_cap() -> None:
    config = DeliveryConfig(retry_base_s=10, retry_max_s=100)
    waits = [backoff_s(n, config) for n in (1, 2, 3, 10) for _ in range(200)]
    assert all(0 <= w <= 100 for w in waits)
    assert max(backoff_s(1, config) for _ in range(200)) <= 10
    assert min(waits) < 1  # full jitter: anywhere from zero


def test_after_a_rotation_both_secrets_sign_for_a_while() -> None:
    verify = documented_verify()
    body, ts = b'{"version":1,"id":"x"}', 1_700_000_000
    header = signature_header(secret="new", previous="old", previous_until=utcnow() + timedelta(
        hours=1), timestamp=ts, body=body)
    assert header == f"v1={signature('new', ts, body)},v1={signature('old', ts, body)}"
    for secret in ("new", "old"):
        verify(secret, {"X-Chatdesk-Timestamp": str(ts), "X-Chatdesk-Signature": header}, body,
               now=ts + 299)
    expired = signature_header(secret="new", previous="old", previous_until=utcnow(),
                               timestamp=ts, body=body)
    assert "," not in expired


async def test_rotating_a_secret_and_testing_a_disabled_endpoint(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s:
        made = await endpoint(s, ["ticket.created"])
        old = made.secret
        rotated, secret = await webhook_admin.rotate_secret(
            session=s, bus=MemoryBus(), endpoint_id=made.id, agent_id=None
        )
        assert secret != old and rotated.previous_secret == old
        await webhook_admin.update_endpoint(
            session=s, bus=MemoryBus(), targets=Targets(), endpoint_id=made.id, enabled=False,
            agent_id=None,
        )
        assert webhooks.SUBSCRIBED.endpoints == 0  # applied in this process at once
        with pytest.raises(Conflict):
            await webhook_admin.send_test(session=s, endpoint_id=made.id, agent_id=None)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://hooks.example.com/x", "must start with https://"),
        ("ftp://example.com/x", "must start with https://"),
        ("https://127.0.0.1/x", "internal address"),
        ("https://10.1.2.3/x", "internal address"),
        ("https://169.254.169.254/latest/meta-data", "internal address"),
        ("https://[::1]/x", "internal address"),
        ("https://[::ffff:192.168.0.1]/x", "internal address"),
        ("https://localhost:8443/x", "internal address"),
        ("https://user:pw@93.184.215.14/x", "no credentials"),
        ("https:///x", "no host"),
    ],
)
async def test_production_refuses_internal_and_plain_http_urls(url: str, why: str) -> None:
    with pytest.raises(Invalid, match=why):
        await webhook_admin.check_url(url, PRODUCTION)


async def test_production_accepts_a_public_https_url() -> None:
    assert await webhook_admin.check_url(" https://93.184.215.14/x ", PRODUCTION) == (
        "https://93.184.215.14/x"
    )


async def test_the_connection_itself_is_refused_to_an_internal_address() -> None:
    """A name saved while it resolved to a public address, now resolving to 127.0.0.1."""
    guarded = Targets(allow_http=True, allow_private=False)
    with Receiver() as receiver:
        claimed = Claimed(
            id=1, uuid="d", attempts=1, created_at=utcnow(), url=receiver.url.replace(
                "127.0.0.1", "localhost"), secret="s", previous_secret=None,
            previous_secret_until=None, event_type="webhook.test", body=b"{}",
        )
        async with make_client(timeout_s=5, targets=guarded) as client:
            outcome = await send(client, claimed, timeout_s=5, targets=guarded)
        async with make_client(timeout_s=5, targets=Targets()) as client:  # allowed: it gets there
            allowed = await send(client, claimed, timeout_s=5, targets=Targets())
    assert outcome.status_code is None and "internal address" in (outcome.error or "")
    assert allowed.ok and len(receiver.snapshot()) == 1
