"""The event bus: each subscriber hears its channels only, in order; a full inbox is flagged.

The memory bus always; Redis (two buses = two replicas) when one answers on 127.0.0.1:6379.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

import pytest

from handoff.bus import Bus, MemoryBus, RedisBus, Subscription, make_bus

REDIS_URL = "redis://127.0.0.1:6379/0"
WAIT_S = 5  # a loopback Redis delivers in milliseconds; this only bounds a failing test


def subscribed(bus: Bus, *channels: str, maxsize: int = 16) -> Subscription:
    sub = bus.subscribe(maxsize)
    for channel in channels:
        sub.add(channel)
    return sub


def drained(sub: Subscription) -> list[dict]:
    out = []
    while (event := sub.get_nowait()) is not None:
        out.append(event)
    return out


async def received(sub: Subscription, n: int) -> list[dict]:
    """The next `n` events, waiting for them to arrive (from another replica)."""
    return [await asyncio.wait_for(sub.get(), WAIT_S) for _ in range(n)]


def event(n: int) -> dict:
    return {"type": "message", "seq": n}


async def test_memory_bus_delivers_to_the_channels_subscribers_in_order() -> None:
    bus = make_bus("memory://")
    assert isinstance(bus, MemoryBus)
    conv1, conv2, both, none = (
        subscribed(bus, "conv:1"),
        subscribed(bus, "conv:2"),
        subscribed(bus, "conv:1", "conv:2"),
        subscribed(bus),
    )
    for n, channel in enumerate(["conv:1", "conv:2", "conv:1", "conv:3"], start=1):
        await bus.publish_after_commit(channel, event(n))

    assert drained(conv1) == [event(1), event(3)]
    assert drained(conv2) == [event(2)]
    assert drained(both) == [event(1), event(2), event(3)]
    assert drained(none) == []

    conv1.remove("conv:1")
    both.close()
    await bus.publish_after_commit("conv:1", event(5))
    assert drained(conv1) == [] and drained(both) == [], "unsubscribed sockets hear nothing"


async def test_a_subscriber_that_falls_behind_is_flagged_not_waited_for() -> None:
    bus = MemoryBus()
    slow, other = subscribed(bus, "conv:1", maxsize=2), subscribed(bus, "conv:1", maxsize=16)
    for n in range(1, 4):
        await bus.publish_after_commit("conv:1", event(n))

    assert slow.overflowed
    assert drained(slow) == [event(1), event(2)], "what fitted is kept; the rest comes from the DB"
    assert not other.overflowed
    assert drained(other) == [event(1), event(2), event(3)], "others are not held back"


@contextlib.asynccontextmanager
async def redis_bus(namespace: str) -> AsyncIterator[RedisBus]:
    bus = make_bus(f"{REDIS_URL}#{namespace}")
    assert isinstance(bus, RedisBus)
    await bus.start()
    try:
        await asyncio.wait_for(bus.wait_connected(), WAIT_S)
        yield bus
    finally:
        await bus.stop()


@pytest.fixture
async def replicas() -> AsyncIterator[tuple[RedisBus, RedisBus]]:
    """Two Redis buses as two replicas, in a namespace of their own (no other test hears us)."""
    import redis.asyncio as aioredis

    probe = aioredis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        await probe.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means: no Redis to test against
        pytest.skip(f"Redis is not reachable at {REDIS_URL} ({exc}); the RedisBus test needs it")
    finally:
        await probe.aclose()
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    async with redis_bus(namespace) as one, redis_bus(namespace) as two:
        # Subscribing is asynchronous on the server: wait until `two` hears `one`.
        warm = subscribed(two, "warm-up")
        for _ in range(WAIT_S * 5):
            await one.publish_after_commit("warm-up", event(0))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(warm.get(), 0.2)
                break
        else:
            pytest.fail("the second Redis bus never heard the first")
        warm.close()
        yield one, two


async def test_redis_bus_delivers_across_replicas_to_the_channel_only(replicas) -> None:
    one, two = replicas
    local, remote = subscribed(one, "conv:1"), subscribed(two, "conv:1")
    elsewhere = subscribed(two, "conv:2")
    for n in range(1, 6):
        await one.publish_after_commit("conv:1", event(n))
    await one.publish_after_commit("conv:9", event(99))

    assert await received(remote, 5) == [event(n) for n in range(1, 6)]
    assert drained(local) == [event(n) for n in range(1, 6)], "heard once, not again via Redis"
    await one.publish_after_commit("conv:2", event(6))  # a marker: everything before it is in
    assert await received(elsewhere, 1) == [event(6)]
    assert drained(remote) == [] and drained(local) == []


async def test_redis_subscriber_that_falls_behind_is_flagged(replicas) -> None:
    one, two = replicas
    slow = subscribed(two, "conv:1", maxsize=2)
    marker = subscribed(two, "conv:2")
    for n in range(1, 4):
        await one.publish_after_commit("conv:1", event(n))
    await one.publish_after_commit("conv:2", event(4))  # everything before it has arrived

    assert await received(marker, 1) == [event(4)]
    assert slow.overflowed
    assert drained(slow) == [event(1), event(2)]


async def test_an_empty_inbox_wakes_its_consumer_once_per_burst() -> None:
    bus = MemoryBus()
    sub = subscribed(bus, "conv:1")
    wakes = []
    sub.wake = lambda: wakes.append(sub.pending())
    for n in (1, 2):
        await bus.publish_after_commit("conv:1", event(n))
    assert wakes == [1], "woken by the first event; the second finds it awake"
    assert drained(sub) == [event(1), event(2)]
    await bus.publish_after_commit("conv:1", event(3))
    assert wakes == [1, 1], "an emptied inbox wakes its consumer again"
    assert drained(sub) == [event(3)]
    waiting = asyncio.create_task(sub.get())
    await asyncio.sleep(0)
    await bus.publish_after_commit("conv:1", event(4))
    assert await asyncio.wait_for(waiting, WAIT_S) == event(4), "a waiting get() is woken too"
    sub.close()
    await bus.publish_after_commit("conv:1", event(5))
    assert len(wakes) == 3 and sub.pending() == 0, "a closed subscription hears nothing"
