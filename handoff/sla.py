"""SLA timers, the pure part: business time elapsed and due, and which clock runs.

No database, no I/O: functions of the business hours (handoff/hours.py), the moments a
conversation's facts were stored, and the clock. Two metrics, each with a target for live
chats and one for tickets (settings): **first response** (from the hand-over to a person until
the first agent reply) and **next response** (from the visitor's first message after an agent
reply until the next agent reply). Only business time counts, minus the periods the clock was
paused (a ticket pending: waiting on the customer). handoff/sla_clocks.py stores and sweeps.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from handoff.states import ConversationState

S = ConversationState
# The states in which somebody waits on us: an SLA clock may run (closed: it stops).
ACTIVE_STATES = (S.QUEUED, S.ASSIGNED, S.TICKET)
Pause = tuple[datetime, datetime | None]  # (paused at, resumed at); None: still paused


class Hours(Protocol):
    """BusinessHours or LiveHours: their opening spans from a moment on."""

    def open_spans(self, at: datetime) -> Iterator[tuple[datetime, datetime]]: ...


class Metric(StrEnum):
    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"


class Kind(StrEnum):
    CHAT = "chat"
    TICKET = "ticket"


@dataclass(frozen=True)
class SlaTargets:
    """Business seconds each reply may take; None: that clock has no target (never breaches)."""

    chat_first_response_s: int | None = None
    chat_next_response_s: int | None = None
    ticket_first_response_s: int | None = None
    ticket_next_response_s: int | None = None

    def target(self, kind: Kind, metric: Metric) -> int | None:
        """The target of this clock."""
        value: int | None = getattr(self, f"{kind}_{metric}_s")
        return value

    @property
    def any(self) -> bool:
        """Whether any clock has a target (else nothing needs sweeping)."""
        return any(self.target(k, m) is not None for k in Kind for m in Metric)


def _merged(pauses: Iterable[Pause], until: datetime) -> list[tuple[datetime, datetime]]:
    """Pauses as disjoint closed intervals in order; a pause still running ends at `until`."""
    spans = sorted((start, end or until) for start, end in pauses)
    out: list[tuple[datetime, datetime]] = []
    for start, end in spans:
        if end <= start:
            continue
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _running(
    hours: Hours, start: datetime, pauses: Sequence[tuple[datetime, datetime]]
) -> Iterator[tuple[datetime, datetime]]:
    """The pieces of time from `start` on that count: open hours outside every pause."""
    for open_at, close_at in hours.open_spans(start):
        cursor = open_at
        for p_start, p_end in pauses:
            if p_end <= cursor or p_start >= close_at:
                continue
            if p_start > cursor:
                yield cursor, p_start
            cursor = max(cursor, p_end)
            if cursor >= close_at:
                break
        if cursor < close_at:
            yield cursor, close_at


def business_seconds(
    hours: Hours, start: datetime, end: datetime, pauses: Iterable[Pause] = ()
) -> float:
    """Business seconds from `start` to `end` that were not paused (0 if end <= start)."""
    if end <= start:
        return 0.0
    total = 0.0
    for piece_start, piece_end in _running(hours, start, _merged(pauses, end)):
        if piece_start >= end:
            break
        total += (min(piece_end, end) - piece_start).total_seconds()
    return total


def due_at(
    hours: Hours, start: datetime, target_s: float, pauses: Iterable[Pause] = ()
) -> datetime | None:
    """When `target_s` business seconds from `start` will have passed, pauses left out; None
    while a pause still runs (a paused clock is never due) or if the hours never open."""
    pauses = list(pauses)
    if any(end is None for _, end in pauses):
        return None
    closed = [(s, e) for s, e in pauses if e is not None]
    left = timedelta(seconds=target_s)
    horizon = max([start, *(e for _, e in closed)])
    for piece_start, piece_end in _running(hours, start, _merged(closed, horizon)):
        if piece_end - piece_start >= left:
            return piece_start + left
        left -= piece_end - piece_start
    return None


@dataclass(frozen=True)
class Facts:
    """What the database knows of one conversation, as an SLA clock needs it."""

    state: ConversationState
    handed_at: datetime | None  # queued, or became a ticket: a person owes a reply from now
    first_agent_at: datetime | None  # the first agent reply (notes do not count)
    waiting_since: datetime | None  # the visitor's first message after the last agent reply
    pauses: Sequence[Pause] = ()


@dataclass(frozen=True)
class Clock:
    """The running (or paused) clock of a conversation: what the console and the sweep show."""

    kind: Kind
    metric: Metric
    started_at: datetime
    target_s: int | None
    elapsed_s: float
    due_at: datetime | None  # None: paused, or no target
    paused: bool

    def breached(self, now: datetime) -> bool:
        """Whether the reply is overdue at `now`."""
        if self.target_s is not None and self.elapsed_s >= self.target_s:
            return True
        return self.due_at is not None and self.due_at <= now


def clock(facts: Facts, *, hours: Hours, targets: SlaTargets, now: datetime) -> Clock | None:
    """The clock running now, or None: nobody waits on us (not handed over, answered, closed)."""
    if facts.state not in ACTIVE_STATES or facts.handed_at is None:
        return None
    if facts.first_agent_at is None:
        metric, started = Metric.FIRST_RESPONSE, facts.handed_at
    elif facts.waiting_since is not None:
        metric, started = Metric.NEXT_RESPONSE, facts.waiting_since
    else:
        return None
    kind = Kind.TICKET if facts.state == S.TICKET else Kind.CHAT
    target = targets.target(kind, metric)
    pauses = [p for p in facts.pauses if p[1] is None or p[1] > started]
    paused = any(end is None for _, end in pauses)
    return Clock(
        kind=kind,
        metric=metric,
        started_at=started,
        target_s=target,
        elapsed_s=business_seconds(hours, started, now, pauses),
        due_at=None if target is None else due_at(hours, started, target, pauses),
        paused=paused,
    )
