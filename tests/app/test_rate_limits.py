"""The abuse limits directly: rates, the GCRA counters, what is counted per IP and per visitor.

The end-to-end behaviour (error frames, nothing stored, other visitors served, two replicas
sharing one Redis) is in tests/e2e/test_limits.py.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.limits import (
    SWEEP_MIN,
    Action,
    Limiter,
    MemoryStore,
    Policy,
    RateLimited,
    client_key,
    parse_rates,
)
from app.settings import Environment, Settings
from app.ws.frames import Choice
from app.ws.visitor import HANDLERS, LIMITS, limited_actions

SECRET = "s" * 40


class Clock:
    """Time that moves only when the test says so (no timed assertions)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limiter(clock: Clock | None = None, **policies: Policy) -> Limiter:
    every = {a: Policy(per_ip=parse_rates("1000/second")) for a in Action}
    every.update({Action(k): p for k, p in policies.items()})
    return Limiter(every, MemoryStore(clock or Clock()))


def test_rates_are_read_as_documented() -> None:
    assert [(r.count, r.period_s) for r in parse_rates("20/minute; 300/hour")] == [
        (20, 60),
        (300, 3600),
    ]
    assert [(r.count, r.period_s) for r in parse_rates("5/10minutes")] == [(5, 600)]
    for bad in ("", "20", "0/minute", "20/fortnight", "twenty/minute", "20/minute;"):
        with pytest.raises(ValueError):
            parse_rates(bad)


def test_a_malformed_limit_setting_fails_at_start_up() -> None:
    with pytest.raises(ValidationError, match="not a rate"):
        Settings(limit_message_per_visitor="lots")


def test_production_refuses_to_run_without_limits() -> None:
    with pytest.raises(ValidationError, match="RATE_LIMITS"):
        Settings(
            env=Environment.PRODUCTION,
            secret_key=SECRET,
            allowed_origins=["https://shop.example.com"],
            rate_limits=False,
        )


async def test_a_burst_is_allowed_then_one_more_per_interval() -> None:
    clock = Clock()
    limits = limiter(clock, message=Policy(per_ip=(), per_visitor=parse_rates("3/minute")))
    for _ in range(3):  # all at the same instant
        await limits.check([Action.MESSAGE], ip="10.0.0.1", visitor_id=1)
    with pytest.raises(RateLimited) as refused:
        await limits.check([Action.MESSAGE], ip="10.0.0.1", visitor_id=1)
    assert refused.value.retry_after == 20  # one more every 60/3 s
    clock.now += 19.5
    with pytest.raises(RateLimited) as refused:
        await limits.check([Action.MESSAGE], ip="10.0.0.1", visitor_id=1)
    assert refused.value.retry_after == 1  # whole seconds, never 0 (a client would spin)
    clock.now += 0.5
    await limits.check([Action.MESSAGE], ip="10.0.0.1", visitor_id=1)
    with pytest.raises(RateLimited):
        await limits.check([Action.MESSAGE], ip="10.0.0.1", visitor_id=1)
    frame = refused.value.frame("m4")
    assert frame["code"] == "rate_limited" and frame["ref"] == "m4"
    assert frame["retry_after"] == refused.value.retry_after
    # Another visitor has a budget of their own.
    await limits.check([Action.MESSAGE], ip="10.0.0.1", visitor_id=2)


async def test_an_ip_budget_is_shared_by_its_visitors() -> None:
    limits = limiter(handoff=Policy(per_ip=parse_rates("2/hour"), per_visitor=()))
    await limits.check([Action.HANDOFF], ip="10.0.0.1", visitor_id=1)
    await limits.check([Action.HANDOFF], ip="10.0.0.1", visitor_id=2)
    with pytest.raises(RateLimited):
        await limits.check([Action.HANDOFF], ip="10.0.0.1", visitor_id=3)
    await limits.check([Action.HANDOFF], ip="10.0.0.2", visitor_id=3)


async def test_a_refused_frame_spends_nothing() -> None:
    """Checked together: if one limit refuses, none of the others is counted."""
    limits = limiter(
        message=Policy(per_ip=parse_rates("2/hour")),
        handoff=Policy(per_ip=parse_rates("1/hour")),
    )
    await limits.check([Action.HANDOFF], ip="10.0.0.1", visitor_id=None)
    for _ in range(5):  # each refused by the handoff limit, so no message is counted
        with pytest.raises(RateLimited) as refused:
            await limits.check([Action.MESSAGE, Action.HANDOFF], ip="10.0.0.1", visitor_id=None)
        assert refused.value.action is Action.HANDOFF
    await limits.check([Action.MESSAGE], ip="10.0.0.1", visitor_id=None)
    await limits.check([Action.MESSAGE], ip="10.0.0.1", visitor_id=None)


async def test_limits_off_count_nothing() -> None:
    every = {a: Policy(per_ip=parse_rates("1/hour")) for a in Action}
    off = Limiter(every, store=None)
    for _ in range(10):
        await off.check([Action.MESSAGE], ip="10.0.0.1", visitor_id=1)


def test_an_ipv6_client_is_counted_by_its_64() -> None:
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:bbbb::2")
    assert client_key("2001:db8:1:2::1") != client_key("2001:db8:1:3::1")
    assert client_key("192.0.2.7") == "192.0.2.7"
    assert client_key(None) == "unknown"


def test_every_visitor_frame_that_is_handled_counts_against_a_limit() -> None:
    assert set(HANDLERS) <= set(LIMITS)
    none_of_these = Choice(type="choice", client_msg_id="c1", entry_id=None)
    assert limited_actions(none_of_these) == (Action.MESSAGE, Action.HANDOFF)
    chosen = Choice(type="choice", client_msg_id="c2", entry_id="shipping-cost")
    assert limited_actions(chosen) == (Action.MESSAGE,)


async def test_the_memory_store_forgets_counters_once_they_have_expired() -> None:
    """Memory stays bounded by the clients of the last period, not of all time."""
    clock = Clock()
    store = MemoryStore(clock)
    limits = Limiter({a: Policy(per_ip=parse_rates("10/minute")) for a in Action}, store)
    for i in range(SWEEP_MIN - 1):
        await limits.check([Action.TYPING], ip=f"10.{i // 250}.0.{i % 250}", visitor_id=None)
    clock.now += 61  # every one of them has expired
    for i in range(2):
        await limits.check([Action.TYPING], ip=f"192.0.2.{i}", visitor_id=None)
    assert len(store._tat) <= 2


async def test_without_redis_frames_are_served_not_refused() -> None:
    """A Redis outage must not take the chat down with it: the limits wait for Redis."""
    from app.limits import RedisStore
    from tests.conftest import free_port

    every = {a: Policy(per_ip=parse_rates("1/hour")) for a in Action}
    limits = Limiter(every, RedisStore(f"redis://127.0.0.1:{free_port()}/0"))  # nobody there
    try:
        for _ in range(3):
            await limits.check([Action.MESSAGE], ip="10.0.0.1", visitor_id=1)
    finally:
        await limits.close()
