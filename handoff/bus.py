"""The event bus: wakes every replica after a commit. Backends chosen by URL.

The database stays the source of truth; an event only says "something was committed".
A subscriber that misses events (bus outage, full queue) catches up from the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

from handoff.metrics import BUS_RECONNECTS

log = logging.getLogger(__name__)

SUBSCRIPTION_QUEUE_MAX = 256  # per socket; a consumer this far behind is cut and resumes by seq
# Agent consoles also hear every queue change of the whole site (one event per visitor message
# in a queued or assigned chat), so their burst allowance is larger; still bounded.
AGENT_QUEUE_MAX = 2048
RESYNC = "resync"  # event type delivered locally when events may have been missed
RESYNC_CHANNEL = "_resync"  # a replica whose publish failed asks every replica to catch up
RECONNECT_BASE_S = 0.2  # first retry after a Redis loss: a restart is usually this quick
RECONNECT_MAX_S = 5.0  # cap: a long outage is retried often enough to come back in seconds
REDIS_CONNECT_TIMEOUT_S = 2  # a dead Redis fails fast instead of holding publishers up
REDIS_HEALTH_CHECK_S = 10  # pub/sub pings so a silently dropped connection is noticed

Event = dict[str, Any]


class Subscription:
    """A bounded inbox for one consumer (one socket), listening on a set of channels.

    Most sockets sit idle for minutes: the inbox holds no queue, lock or event while it is
    empty (an asyncio.Queue and Event cost about 4 KiB per socket), only a deque while
    events wait and a future while its consumer waits. `wake`, if set, is called when an
    event arrives in an empty inbox (a socket starts its pump then).
    """

    __slots__ = ("_events", "_fanout", "_waiter", "channels", "maxsize", "overflowed", "wake")

    def __init__(self, fanout: LocalFanout, maxsize: int = SUBSCRIPTION_QUEUE_MAX) -> None:
        self._fanout = fanout
        self.channels: set[str] = set()
        self.maxsize = maxsize
        self._events: deque[Event] | None = None
        self._waiter: asyncio.Future[None] | None = None
        # Set when an event found the inbox full: the consumer missed it and must catch up.
        self.overflowed = False
        self.wake: Callable[[], None] | None = None

    def add(self, channel: str) -> None:
        self.channels.add(channel)
        self._fanout.subscribers.setdefault(channel, set()).add(self)

    def remove(self, channel: str) -> None:
        self.channels.discard(channel)
        subs = self._fanout.subscribers.get(channel)
        if subs is not None:
            subs.discard(self)
            if not subs:
                del self._fanout.subscribers[channel]

    def close(self) -> None:
        for channel in list(self.channels):
            self.remove(channel)
        self._fanout.all.discard(self)
        self.wake = None

    def offer(self, event: Event) -> None:
        """Put an event in the inbox, never blocking: a full inbox sets `overflowed`."""
        if self._events is None:
            self._events = deque()
        elif len(self._events) >= self.maxsize:
            self.overflowed = True
            return
        self._events.append(event)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
        if len(self._events) == 1 and self.wake is not None:
            self.wake()

    def pending(self) -> int:
        """How many events wait in the inbox."""
        return len(self._events) if self._events is not None else 0

    def get_nowait(self) -> Event | None:
        """The oldest waiting event, or None if the inbox is empty."""
        if not self._events:
            return None
        event = self._events.popleft()
        if not self._events:
            self._events = None  # an idle socket keeps no deque
        return event

    async def get(self) -> Event:
        """The oldest event, waiting for one if the inbox is empty."""
        while (event := self.get_nowait()) is None:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return event


class LocalFanout:
    """Delivers an event to every local subscription of its channel, never blocking."""

    def __init__(self) -> None:
        self.subscribers: dict[str, set[Subscription]] = {}
        self.all: set[Subscription] = set()

    def new_subscription(self, maxsize: int = SUBSCRIPTION_QUEUE_MAX) -> Subscription:
        sub = Subscription(self, maxsize)
        self.all.add(sub)
        return sub

    def deliver(self, channel: str, event: Event) -> None:
        for sub in list(self.subscribers.get(channel, ())):
            sub.offer(event)

    def deliver_resync(self) -> None:
        for sub in list(self.all):
            sub.offer({"type": RESYNC})


class Bus(Protocol):
    fanout: LocalFanout

    @property
    def connected(self) -> bool:
        """True while events published elsewhere reach this process."""

    async def publish_after_commit(self, channel: str, event: Event) -> None:
        """Publish an event; call only after the data it announces is committed."""

    def subscribe(self, maxsize: int = SUBSCRIPTION_QUEUE_MAX) -> Subscription: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class MemoryBus:
    """One-process bus: the embedded default and the tests."""

    def __init__(self) -> None:
        self.fanout = LocalFanout()

    @property
    def connected(self) -> bool:
        return True

    async def publish_after_commit(self, channel: str, event: Event) -> None:
        self.fanout.deliver(channel, event)

    def subscribe(self, maxsize: int = SUBSCRIPTION_QUEUE_MAX) -> Subscription:
        return self.fanout.new_subscription(maxsize)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


class RedisBus:
    """Redis pub/sub across replicas; a supervised listener resubscribes after any loss."""

    def __init__(self, url: str) -> None:
        import redis.asyncio as aioredis

        # Pub/sub is global to a Redis server (database numbers do not separate it), so
        # deployments (or test runs) sharing one Redis name a namespace: redis://host/0#shop
        url, _, namespace = url.partition("#")
        self.prefix = f"chatdesk:{namespace}:" if namespace else "chatdesk:"
        self.fanout = LocalFanout()
        # Publishing gives up quickly (the data is committed; readers resync); the listener
        # blocks on its socket for as long as there is nothing to hear, so it has no timeout.
        self._redis = aioredis.from_url(
            url,
            socket_connect_timeout=REDIS_CONNECT_TIMEOUT_S,
            socket_timeout=REDIS_CONNECT_TIMEOUT_S,
        )
        self._listener = aioredis.from_url(
            url,
            socket_connect_timeout=REDIS_CONNECT_TIMEOUT_S,
            health_check_interval=REDIS_HEALTH_CHECK_S,
        )
        self._task: asyncio.Task[None] | None = None
        # Our own publications come back from Redis; we delivered them locally already.
        self.origin = uuid.uuid4().hex
        self._connected = asyncio.Event()
        # Set when a publish failed: other replicas missed an event, so once Redis answers
        # again we tell all of them to catch up from the database.
        self._owe_resync = False

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def wait_connected(self) -> None:
        await self._connected.wait()

    async def publish_after_commit(self, channel: str, event: Event) -> None:
        # Local subscribers need not wait for the Redis round trip; they drop duplicates by seq.
        self.fanout.deliver(channel, event)
        if self._owe_resync:
            await self._pay_resync()
        await self._publish(channel, event)

    async def _publish(self, channel: str, event: Event) -> bool:
        try:
            envelope = {"origin": self.origin, "event": event}
            await self._redis.publish(self.prefix + channel, json.dumps(envelope))
            return True
        except Exception:  # noqa: BLE001 - the data is committed; readers catch up on resync
            log.warning("bus publish failed on %s; every replica will resync", channel)
            self._owe_resync = True
            return False

    async def _pay_resync(self) -> None:
        self._owe_resync = False
        if not await self._publish(RESYNC_CHANNEL, {"type": RESYNC}):
            self._owe_resync = True

    def subscribe(self, maxsize: int = SUBSCRIPTION_QUEUE_MAX) -> Subscription:
        return self.fanout.new_subscription(maxsize)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen_forever(), name="redis-bus-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._redis.aclose()
        await self._listener.aclose()

    async def _listen_forever(self) -> None:
        delay = RECONNECT_BASE_S
        while True:
            try:
                async with self._listener.pubsub() as pubsub:
                    await pubsub.psubscribe(self.prefix + "*")
                    self._connected.set()
                    log.info("redis bus subscribed")
                    # Anything published while we were away is in the database, not here.
                    self.fanout.deliver_resync()
                    if self._owe_resync:
                        await self._pay_resync()
                    delay = RECONNECT_BASE_S
                    async for raw in self._messages(pubsub):
                        self._dispatch(raw)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any loss: back off and resubscribe
                self._connected.clear()
                BUS_RECONNECTS.inc()
                log.warning("redis bus lost (%s); reconnecting in %.1fs", exc, delay)
                await asyncio.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, RECONNECT_MAX_S)

    @staticmethod
    async def _messages(pubsub: Any) -> AsyncIterator[dict[str, Any]]:
        async for raw in pubsub.listen():
            if raw.get("type") == "pmessage":
                yield raw

    def _dispatch(self, raw: dict[str, Any]) -> None:
        channel = raw["channel"]
        if isinstance(channel, bytes):
            channel = channel.decode()
        envelope = json.loads(raw["data"])
        if envelope["origin"] == self.origin:
            return
        channel = channel.removeprefix(self.prefix)
        if channel == RESYNC_CHANNEL:
            self.fanout.deliver_resync()
        else:
            self.fanout.deliver(channel, envelope["event"])


def make_bus(url: str) -> Bus:
    """Pick the bus backend from its URL: memory:// or redis://."""
    if url.startswith("memory://"):
        return MemoryBus()
    if url.startswith(("redis://", "rediss://")):
        return RedisBus(url)
    raise ValueError(f"unsupported bus URL {url!r}: use memory:// or redis://")


async def follow(
    bus: Bus, channel: str, *, every_s: float, reread: Callable[[], Awaitable[None]], what: str
) -> None:
    """Keep a process's copy of something in step: `reread` on every event on `channel` (once
    for all heard meanwhile), after a bus resync, and every `every_s` anyway. A failed re-read
    keeps the copy in force and is tried again. Runs until cancelled."""
    sub = bus.subscribe()
    sub.add(channel)  # a bus resync reaches every subscription too
    try:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(sub.get(), every_s)
            while sub.get_nowait() is not None:
                pass  # one re-read answers every event heard meanwhile
            try:
                await reread()
            except Exception:  # noqa: BLE001 - keep the copy in force and retry
                log.exception("%s re-read failed; will retry", what)
    finally:
        sub.close()
