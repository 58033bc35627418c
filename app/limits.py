"""Abuse limits: how often one client IP and one visitor may do each costly thing.

Every limit is one or more rates ("20/minute;300/hour"), each enforced as a GCRA (generic cell
rate algorithm): a burst of N, then one more every period/N, so a person who types in bursts
is never stopped while a script's sustained rate is. A frame is checked against all its rates
at once and counted only if every one allows it, so a refused frame costs its sender nothing
and stores nothing. The counters live in this process for the embedded default (bus
memory://) and in the bus's Redis otherwise, so the limits hold across replicas.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

log = logging.getLogger(__name__)

UNIT_S = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(second|minute|hour|day)s?\s*$")
IPV6_PREFIX = 64  # one IPv6 subscriber gets a whole /64: count it as one client
SWEEP_MIN = 4096  # the in-process store forgets stale counters once it holds this many
# Float rounding: the Nth frame of a burst of N lands a few ulps past the period; allow it.
TOLERANCE_S = 1e-6
REDIS_TIMEOUT_S = 0.5  # a limit check must not hold a frame up; past this the frame is served


@dataclass(frozen=True)
class Rate:
    """At most `count` per `period_s` seconds (a burst of `count`, then one per interval)."""

    count: int
    period_s: int

    @property
    def interval_s(self) -> float:
        return self.period_s / self.count

    def __str__(self) -> str:
        return f"{self.count}/{self.period_s}s"


def parse_rates(text: str) -> tuple[Rate, ...]:
    """`"20/minute;300/hour"` (also `"5/10minute"`) as rates; ValueError if malformed."""
    rates = []
    for part in text.split(";"):
        m = RATE.match(part)
        if m is None or int(m[1]) < 1:
            raise ValueError(f"{part.strip()!r} is not a rate like '20/minute' or '5/10minute'")
        rates.append(Rate(int(m[1]), int(m[2] or 1) * UNIT_S[m[3]]))
    return tuple(rates)


class Action(StrEnum):
    """What a visitor spends: each has a limit per IP and (once known) per visitor."""

    HELLO = "hello"  # any hello: page loads and reconnects
    NEW_VISITOR = "new_visitor"  # a hello without a (valid) token: a visitor row
    NEW_CONVERSATION = "new_conversation"  # a conversation row: first visit, or after close
    MESSAGE = "message"  # message, choice: stored, and each runs the bot
    HANDOFF = "handoff"  # handoff, request_ticket, "none of these": the queue, agents' time
    EMAIL = "email"  # the `email` frame: the profile, the ticket, a system message
    TYPING = "typing"  # a database read and a bus event each
    OTHER = "other"  # every other frame that writes: feedback, rating, transcript


WHAT = {  # for the error message: "too many <what>"
    Action.HELLO: "connections",
    Action.NEW_VISITOR: "new chats from your network",
    Action.NEW_CONVERSATION: "new conversations",
    Action.MESSAGE: "messages",
    Action.HANDOFF: "requests for a person",
    Action.EMAIL: "e-mail addresses",
    Action.TYPING: "typing notices",
    Action.OTHER: "requests",
}


class RateLimited(Exception):
    """Refused: the sender may try again in `retry_after` seconds."""

    def __init__(self, action: Action, retry_after: float) -> None:
        self.action = action
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(f"too many {WHAT[action]}; try again in {self.retry_after} s")

    def frame(self, ref: str | None) -> dict[str, Any]:
        """The `error` frame `rate_limited` (docs/protocol.md); the socket stays open."""
        return {
            "type": "error",
            "code": "rate_limited",
            "message": str(self),
            "ref": ref,
            "retry_after": self.retry_after,
        }


@dataclass(frozen=True)
class Cell:
    """One counter: a rate for one client of one action."""

    key: str
    rate: Rate
    action: Action


class Store(Protocol):
    async def take(self, cells: Sequence[Cell]) -> tuple[float, Cell | None]:
        """Count one against every cell, or none: (0, None), or (seconds to wait, the cell)."""
        ...

    async def close(self) -> None: ...


class MemoryStore:
    """GCRA counters in this process: one float (the theoretical arrival time) per key."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._tat: dict[str, float] = {}
        self._sweep_at = SWEEP_MIN

    async def take(self, cells: Sequence[Cell]) -> tuple[float, Cell | None]:
        now = self._clock()
        wait, worst, arrivals = TOLERANCE_S, None, []
        for cell in cells:
            tat = max(self._tat.get(cell.key, now), now) + cell.rate.interval_s
            over = tat - now - cell.rate.period_s
            if over > wait:
                wait, worst = over, cell
            arrivals.append(tat)
        if worst is not None:
            return wait, worst
        for cell, tat in zip(cells, arrivals, strict=True):
            self._tat[cell.key] = tat
        if len(self._tat) >= self._sweep_at:
            # Amortised O(1): a sweep only after the store has doubled since the last one.
            self._tat = {k: t for k, t in self._tat.items() if t > now}
            self._sweep_at = max(SWEEP_MIN, 2 * len(self._tat))
        return 0.0, None

    async def close(self) -> None:
        return None


# The same algorithm in one atomic script, on Redis's clock (replicas' clocks may differ).
# KEYS: the counters; ARGV: interval and period (seconds) per key, then the tolerance.
# Returns the seconds to wait and the 1-based index of the refusing key, or {"0", 0} after
# counting one against every key.
GCRA_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local wait, worst, tats = tonumber(ARGV[#ARGV]), 0, {}
for i, key in ipairs(KEYS) do
  local interval, period = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', key)) or now
  if tat < now then tat = now end
  tat = tat + interval
  if tat - now - period > wait then wait, worst = tat - now - period, i end
  tats[i] = tat
end
if worst > 0 then return {tostring(wait), worst} end
for i, key in ipairs(KEYS) do
  redis.call('SET', key, string.format('%.6f', tats[i]), 'PX', math.ceil((tats[i] - now) * 1000))
end
return {'0', 0}
"""


class RedisStore:
    """GCRA counters in Redis (the bus's server and namespace), shared by every replica.

    If Redis does not answer, the frame is served (and a warning logged): the chat keeps
    working through a Redis outage, as the bus does, only unlimited for that while.
    """

    def __init__(self, bus_url: str) -> None:
        import redis.asyncio as aioredis

        url, _, namespace = bus_url.partition("#")
        self.prefix = f"chatdesk:{namespace}:limit:" if namespace else "chatdesk:limit:"
        self._redis = aioredis.from_url(
            url, socket_connect_timeout=REDIS_TIMEOUT_S, socket_timeout=REDIS_TIMEOUT_S
        )
        self._script = self._redis.register_script(GCRA_LUA)
        self._down = False

    async def take(self, cells: Sequence[Cell]) -> tuple[float, Cell | None]:
        from redis.exceptions import RedisError

        args: list[float] = []
        for cell in cells:
            args += [cell.rate.interval_s, cell.rate.period_s]
        args.append(TOLERANCE_S)
        try:
            wait, worst = await self._script(keys=[self.prefix + c.key for c in cells], args=args)
        except (RedisError, OSError, TimeoutError) as exc:
            if not self._down:  # once per outage, not once per frame
                log.warning("rate limits unchecked until Redis answers again: %s", exc)
            self._down = True
            return 0.0, None
        self._down = False
        return (float(wait), cells[int(worst) - 1]) if int(worst) else (0.0, None)

    async def close(self) -> None:
        await self._redis.aclose()


def client_key(host: str | None) -> str:
    """How a client IP is counted: the address, or its /64 for IPv6."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/{IPV6_PREFIX}", strict=False))
    return str(address)


@dataclass(frozen=True)
class Policy:
    """One action's rates per client IP and per visitor (empty: not counted that way)."""

    per_ip: tuple[Rate, ...]
    per_visitor: tuple[Rate, ...] = ()

    @classmethod
    def parse(cls, per_ip: str, per_visitor: str | None = None) -> Policy:
        return cls(parse_rates(per_ip), parse_rates(per_visitor) if per_visitor else ())


class Limiter:
    """Checks and counts a visitor's frames against the limits; one per process."""

    def __init__(self, policies: dict[Action, Policy], store: Store | None) -> None:
        self.policies = policies
        self.store = store  # None: limits are off (load tests, benchmarks)

    @classmethod
    def create(cls, *, policies: dict[Action, Policy], bus_url: str, enabled: bool) -> Limiter:
        """Counters beside the bus: in this process for memory://, in Redis for redis://."""
        store: Store | None = None
        if enabled:
            redis = bus_url.startswith(("redis://", "rediss://"))
            store = RedisStore(bus_url) if redis else MemoryStore()
        return cls(policies, store)

    async def check(
        self, actions: Iterable[Action], *, ip: str | None, visitor_id: int | None
    ) -> None:
        """Count one of each action for this IP and visitor, or raise RateLimited (none counted)."""
        if self.store is None:
            return
        client = client_key(ip)
        cells = []
        for action in actions:
            policy = self.policies[action]
            cells += [Cell(f"{action}:ip:{client}:{r}", r, action) for r in policy.per_ip]
            if visitor_id is not None:
                cells += [
                    Cell(f"{action}:v:{visitor_id}:{r}", r, action) for r in policy.per_visitor
                ]
        if not cells:
            return
        wait, cell = await self.store.take(cells)
        if cell is not None:
            raise RateLimited(cell.action, wait)

    async def close(self) -> None:
        if self.store is not None:
            await self.store.close()
