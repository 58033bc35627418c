"""The SLA breach sweep: every replica, every few seconds (`sweep_forever`).

It recomputes the clocks of the conversations somebody waits on (handoff/sla_clocks.py reads
their facts, handoff/sla.py does the time), stores what changed in `sla_clocks` (reports and
the console read it), and records each breach once: a conditional UPDATE (`breached_at IS
NULL`) that only one replica wins, which then puts `sla.breached` in the webhook outbox in the
same transaction and, after the commit, tells every agent console (a `conversation` event with
`sla`). It reads on a read-only session and writes only when something changed: on SQLite an
idle sweep never takes the write lock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff import webhooks
from handoff.bus import Bus
from handoff.events import AGENTS_CHANNEL, conversation_event
from handoff.models import utcnow
from handoff.periodic import every
from handoff.sla import Clock, Hours, Kind, Metric, SlaTargets, business_seconds, clock
from handoff.sla_clocks import (
    PAUSED,
    RUNNING,
    STOPPED,
    Watched,
    clock_data,
    waiting_ids,
    watched,
)
from handoff.sla_models import SlaBreach, SlaClock
from handoff.states import ConversationState

S = ConversationState
CLOCKS = cast(Table, SlaClock.__table__)
_INSERT_CLOCK = {  # a new clock; two replicas may insert it at once: the second does nothing
    name: insert_(CLOCKS).on_conflict_do_nothing(index_elements=["conversation_id"])
    for name, insert_ in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}


def _row(running: Clock) -> dict[str, Any]:
    return {
        "kind": str(running.kind),
        "metric": str(running.metric),
        "status": PAUSED if running.paused else RUNNING,
        "started_at": running.started_at,
        "target_s": running.target_s,
        "due_at": running.due_at,
    }


def _first_response_s(w: Watched, hours: Hours) -> float | None:
    """Business seconds from the hand-over to the first reply (None: not answered yet)."""
    f = w.facts
    if f.handed_at is None or f.first_agent_at is None:
        return None
    return business_seconds(hours, f.handed_at, f.first_agent_at, f.pauses)


async def _store(
    session: AsyncSession, w: Watched, running: Clock, stored: Mapping[str, Any] | None,
    now: datetime, new: list[dict[str, Any]], hours: Hours,
) -> bool:
    """Write the clock if it changed (a new one: into `new`, inserted together); True if it
    did. A newer clock (a later start) replaces an older one and may breach again; a
    replica's stale view never turns a clock back."""
    row = _row(running)
    if stored is not None and all(stored[k] == v for k, v in row.items()):
        return False
    if stored is None:
        first = _first_response_s(w, hours)
        new.append({"conversation_id": w.conversation_id, "updated_at": now,
                    "first_response_s": first, **row})
        return True
    key = CLOCKS.c.conversation_id == w.conversation_id
    if stored["started_at"] < running.started_at:
        await session.execute(
            update(CLOCKS)
            .where(key, CLOCKS.c.started_at < running.started_at)
            .values(breached_at=None, updated_at=now, **row)
        )
    elif stored["started_at"] == running.started_at:
        await session.execute(
            update(CLOCKS)
            .where(key, CLOCKS.c.started_at == running.started_at)
            .values(updated_at=now, **row)
        )
    else:
        return False  # this replica read before another stored a newer clock
    return True


def _answered_between_sweeps(
    w: Watched, hours: Hours, targets: SlaTargets, now: datetime
) -> dict[str, Any] | None:
    """Answered before any sweep saw the clock run: a stopped clock keeping its first response
    for the reports (None: nothing to keep)."""
    first, handed = _first_response_s(w, hours), w.facts.handed_at
    if first is None or handed is None:
        return None
    kind = Kind.TICKET if w.state == S.TICKET else Kind.CHAT
    return {
        "conversation_id": w.conversation_id,
        "kind": str(kind),
        "metric": str(Metric.FIRST_RESPONSE),
        "status": STOPPED,
        "started_at": handed,
        "target_s": targets.target(kind, Metric.FIRST_RESPONSE),
        "due_at": None,
        "first_response_s": first,
        "updated_at": now,
    }


async def _first_responses(
    session: AsyncSession, hours: Hours, found: Sequence[Watched],
    stored: Mapping[int, Mapping[str, Any]],
) -> None:
    """Business seconds to the first reply, kept once per conversation for the reports."""
    for w in found:
        row = stored.get(w.conversation_id)
        if row is None or row["first_response_s"] is not None:
            continue
        took = _first_response_s(w, hours)
        if took is None:
            continue
        await session.execute(
            update(CLOCKS)
            .where(
                CLOCKS.c.conversation_id == w.conversation_id, CLOCKS.c.first_response_s.is_(None)
            )
            .values(first_response_s=took)
        )


async def sweep(
    *,
    read_session: AsyncSession,
    session: AsyncSession,
    bus: Bus,
    hours: Hours,
    targets: SlaTargets,
    now: datetime,
) -> list[int]:
    """Recompute every clock (reading only), then store what changed, stop the finished ones
    and record new breaches once (writing only then: on SQLite an idle sweep takes no write
    lock); commit, tell the consoles. The ids of the conversations that breached now."""
    found = await watched(session=read_session)
    stored = {
        r.conversation_id: r._asdict()
        for r in await read_session.execute(
            select(CLOCKS).where(
                CLOCKS.c.conversation_id.in_(waiting_ids()) | (CLOCKS.c.status != STOPPED)
            )
        )
    }
    await read_session.rollback()
    changed: list[tuple[Watched, Clock]] = []
    due: list[tuple[Watched, Clock]] = []
    new: list[dict[str, Any]] = []
    live = set()
    for w in found:
        running = clock(w.facts, hours=hours, targets=targets, now=now)
        row = stored.get(w.conversation_id)
        if running is None:
            answered = _answered_between_sweeps(w, hours, targets, now) if row is None else None
            if answered is not None:
                new.append(answered)
            continue
        live.add(w.conversation_id)
        if await _store(session, w, running, row, now, new, hours):
            changed.append((w, running))
        unseen = row is None or row["breached_at"] is None or row["started_at"] < running.started_at
        if running.breached(now) and unseen:
            due.append((w, running))
    if new:  # one statement for every new clock
        await session.execute(_INSERT_CLOCK[session.get_bind().dialect.name], new)
    won = [(w, running) for w, running in due if await _record_breach(session, w, running, now)]
    breached = [w.conversation_id for w, _ in won]
    done = [cid for cid, r in stored.items() if cid not in live and r["status"] != STOPPED]
    if done:
        await session.execute(
            update(CLOCKS)
            .where(CLOCKS.c.conversation_id.in_(done))
            .values(status=STOPPED, due_at=None, updated_at=now)
        )
    await _first_responses(session, hours, found, stored)
    if session.in_transaction():
        await session.commit()
    by_id = {w.conversation_id: w for w in found}
    told = {w.conversation_id for w, _ in changed}
    for w, running in changed + [(w, r) for w, r in won if w.conversation_id not in told]:
        await _announce(bus, w, w.conversation_id, running, now)
    for cid in done:
        await _announce(bus, by_id.get(cid), cid, None, now)
    return breached


async def _record_breach(session: AsyncSession, w: Watched, running: Clock, now: datetime) -> bool:
    """One replica marks the clock breached; that one emits `sla.breached`."""
    won = await session.scalar(
        update(CLOCKS)
        .where(
            and_(
                CLOCKS.c.conversation_id == w.conversation_id,
                CLOCKS.c.started_at == running.started_at,
                CLOCKS.c.metric == str(running.metric),
                CLOCKS.c.breached_at.is_(None),
            )
        )
        .values(breached_at=now)
        .returning(CLOCKS.c.conversation_id)
    )
    if won is None:
        return False
    assert running.target_s is not None  # only a clock with a target breaches
    session.add(
        SlaBreach(
            conversation_id=w.conversation_id,
            kind=str(running.kind),
            metric=str(running.metric),
            started_at=running.started_at,
            target_s=running.target_s,
            breached_at=now,
        )
    )
    data = {
        "conversation": {
            "id": w.conversation_id,
            "visitor_id": w.visitor_id,
            "state": w.state,
            "escalation_reason": w.escalation_reason,
            "assigned_agent_id": w.assigned_agent_id,
        },
        "sla": {**(clock_data(running, now=now) or {}), "breached_at": now.isoformat()},
    }
    await webhooks.emit(session, "sla.breached", data)
    return True


async def _announce(
    bus: Bus, w: Watched | None, cid: int, running: Clock | None, now: datetime
) -> None:
    event = conversation_event(
        conversation_id=cid,
        state=w.state if w else "closed",
        assigned_agent_id=w.assigned_agent_id if w else None,
    )
    await bus.publish_after_commit(AGENTS_CHANNEL, {**event, "sla": clock_data(running, now=now)})


SWEEP_LOCK = 0x5_1A_5EE9  # the PostgreSQL advisory lock that one sweep at a time holds


async def sweeping_alone(session: AsyncSession) -> bool:
    """On PostgreSQL, take the sweep's lock for `session`'s transaction if nobody holds it.

    Replicas' sweeps recompute the same clocks; run at once, each waited for the others' row
    locks for seconds, and the message writer (locking the same conversations) behind them.
    SQLite has a single writer anyway.
    """
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(await session.scalar(select(func.pg_try_advisory_xact_lock(SWEEP_LOCK))))


async def sweep_forever(
    *,
    sessions: async_sessionmaker[AsyncSession],
    read_sessions: async_sessionmaker[AsyncSession],
    bus: Bus,
    hours: Hours,
    targets: SlaTargets,
    every_s: float,
) -> None:
    """Sweep now and then every `every_s` seconds, until cancelled."""

    async def once() -> None:
        async with read_sessions() as read_session, sessions() as session:
            if not await sweeping_alone(session):
                return  # another replica is sweeping this very moment: its sweep covers ours
            await sweep(
                read_session=read_session,
                session=session,
                bus=bus,
                hours=hours,
                targets=targets,
                now=utcnow(),
            )

    await every(every_s, "SLA sweep", once, first_now=True)
