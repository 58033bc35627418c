"""SLA timers, the stored part: each conversation's clock, pending pauses, the breach sweep.

The clocks are derived from what is stored anyway (the hand-over time, agent and visitor
messages, the ticket's pending periods), so the hot path (handoff/writer.py) pays nothing for
them. Every replica sweeps every few seconds (`sweep_forever`): it recomputes the clocks of the
conversations somebody waits on, stores what changed in `sla_clocks` (for reports and the
console), and records each breach once: a conditional UPDATE (`breached_at IS NULL`) that only
one replica wins, which then puts `sla.breached` in the webhook outbox in the same transaction
and, after the commit, tells every agent console (a `conversation` event with `sla`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, and_, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from handoff import webhooks
from handoff.bus import Bus
from handoff.events import AGENTS_CHANNEL, conversation_event
from handoff.models import Conversation, Message, Sender, Ticket, utcnow
from handoff.sla import (
    ACTIVE_STATES,
    Clock,
    Facts,
    Hours,
    Pause,
    SlaTargets,
    business_seconds,
    clock,
)
from handoff.sla_models import SlaClock, SlaPause

log = logging.getLogger(__name__)

CONVERSATIONS = cast(Table, Conversation.__table__)
MESSAGES = cast(Table, Message.__table__)
TICKETS = cast(Table, Ticket.__table__)
CLOCKS = cast(Table, SlaClock.__table__)
PAUSES = cast(Table, SlaPause.__table__)
RUNNING, PAUSED, STOPPED = "running", "paused", "stopped"
_INSERT_CLOCK = {  # a new clock; two replicas may insert it at once: the second does nothing
    name: insert_(CLOCKS).on_conflict_do_nothing(index_elements=["conversation_id"])
    for name, insert_ in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}


@dataclass(frozen=True)
class Watched:
    """A conversation somebody may be waiting on: its SLA facts and who holds it."""

    conversation_id: int
    visitor_id: int
    state: str
    escalation_reason: str | None
    assigned_agent_id: int | None
    facts: Facts


def _facts_query(conversation_ids: Sequence[int] | None) -> Any:
    conv = CONVERSATIONS.c
    agent, first, visitor = MESSAGES.alias("a"), MESSAGES.alias("f"), MESSAGES.alias("v")
    last_agent_seq = (
        select(func.max(agent.c.seq))
        .where(agent.c.conversation_id == conv.id, agent.c.sender == Sender.AGENT)
        .scalar_subquery()
    )
    first_agent_at = (
        select(func.min(first.c.created_at))
        .where(first.c.conversation_id == conv.id, first.c.sender == Sender.AGENT)
        .scalar_subquery()
    )
    waiting_since = (
        select(func.min(visitor.c.created_at))
        .where(
            visitor.c.conversation_id == conv.id,
            visitor.c.sender == Sender.VISITOR,
            visitor.c.seq > last_agent_seq,
        )
        .scalar_subquery()
    )
    query = (
        select(
            conv.id,
            conv.visitor_id,
            conv.state,
            conv.escalation_reason,
            conv.assigned_agent_id,
            func.coalesce(conv.queued_at, TICKETS.c.created_at).label("handed_at"),
            first_agent_at.label("first_agent_at"),
            waiting_since.label("waiting_since"),
        )
        .select_from(CONVERSATIONS.outerjoin(TICKETS, TICKETS.c.conversation_id == conv.id))
        .where(conv.state.in_([str(s) for s in ACTIVE_STATES]))
    )
    if conversation_ids is not None:
        query = query.where(conv.id.in_(conversation_ids))
    return query


async def watched(
    *, session: AsyncSession, conversation_ids: Sequence[int] | None = None
) -> list[Watched]:
    """The SLA facts of the conversations in an active state (of these ids, if given)."""
    rows = (await session.execute(_facts_query(conversation_ids))).all()
    if not rows:
        return []
    ids = [r.id for r in rows]
    pauses: dict[int, list[Pause]] = {}
    for cid, started, ended in await session.execute(
        select(PAUSES.c.conversation_id, PAUSES.c.started_at, PAUSES.c.ended_at).where(
            PAUSES.c.conversation_id.in_(ids)
        )
    ):
        pauses.setdefault(cid, []).append((started, ended))
    return [
        Watched(
            conversation_id=r.id,
            visitor_id=r.visitor_id,
            state=str(r.state),
            escalation_reason=r.escalation_reason,
            assigned_agent_id=r.assigned_agent_id,
            facts=Facts(
                state=r.state,
                handed_at=_aware(r.handed_at),
                first_agent_at=_aware(r.first_agent_at),
                waiting_since=_aware(r.waiting_since),
                pauses=pauses.get(r.id, ()),
            ),
        )
        for r in rows
    ]


def _aware(value: datetime | None) -> datetime | None:
    # coalesce() and min() may lose the column type: SQLite hands back a naive UTC datetime.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


async def clocks_for(
    *,
    session: AsyncSession,
    conversation_ids: Sequence[int],
    hours: Hours,
    targets: SlaTargets,
    now: datetime,
) -> dict[int, Clock]:
    """The clocks running now in these conversations (the console's lists); absent: none."""
    if not conversation_ids:
        return {}
    out = {}
    for w in await watched(session=session, conversation_ids=conversation_ids):
        running = clock(w.facts, hours=hours, targets=targets, now=now)
        if running is not None:
            out[w.conversation_id] = running
    return out


def clock_data(running: Clock | None, *, now: datetime) -> dict[str, Any] | None:
    """A clock as the console and webhooks see it (docs/protocol.md `sla`)."""
    if running is None:
        return None
    return {
        "kind": str(running.kind),
        "metric": str(running.metric),
        "started_at": running.started_at.isoformat(),
        "target_s": running.target_s,
        "elapsed_s": round(running.elapsed_s, 1),
        "due_at": running.due_at.isoformat() if running.due_at else None,
        "paused": running.paused,
        "breached": running.breached(now),
    }


async def pause(*, session: AsyncSession, conversation_id: int, now: datetime) -> None:
    """The ticket is pending (waiting on the customer): its clock stops counting; the caller
    commits. A pause already running stays the one."""
    running = await session.scalar(
        select(PAUSES.c.id).where(
            PAUSES.c.conversation_id == conversation_id, PAUSES.c.ended_at.is_(None)
        )
    )
    if running is None:
        await session.execute(
            insert(PAUSES).values(conversation_id=conversation_id, started_at=now)
        )


async def resume(
    conn: AsyncSession | AsyncConnection, *, conversation_ids: Iterable[int], now: datetime
) -> None:
    """The tickets are open (or solved) again: their pauses end; in the caller's transaction."""
    ids = list(conversation_ids)
    if ids:
        await conn.execute(
            update(PAUSES)
            .where(PAUSES.c.conversation_id.in_(ids), PAUSES.c.ended_at.is_(None))
            .values(ended_at=now)
        )


def _row(running: Clock) -> dict[str, Any]:
    return {
        "kind": str(running.kind),
        "metric": str(running.metric),
        "status": PAUSED if running.paused else RUNNING,
        "started_at": running.started_at,
        "target_s": running.target_s,
        "due_at": running.due_at,
    }


async def _store(
    session: AsyncSession, w: Watched, running: Clock, stored: Mapping[str, Any] | None,
    now: datetime,
) -> bool:
    """Write the clock if it changed; True if it did. A newer clock (a later start) replaces
    an older one and may breach again; a replica's stale view never turns a clock back."""
    row = _row(running)
    if stored is not None and all(stored[k] == v for k, v in row.items()):
        return False
    if stored is None:
        dialect = session.get_bind().dialect.name
        await session.execute(
            _INSERT_CLOCK[dialect], {"conversation_id": w.conversation_id, "updated_at": now, **row}
        )
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


async def _first_responses(
    session: AsyncSession, hours: Hours, found: Sequence[Watched],
    stored: Mapping[int, Mapping[str, Any]],
) -> None:
    """Business seconds to the first reply, kept once per conversation for the reports."""
    for w in found:
        row, f = stored.get(w.conversation_id), w.facts
        if row is None or row["first_response_s"] is not None:
            continue
        if f.first_agent_at is None or f.handed_at is None:
            continue
        took = business_seconds(hours, f.handed_at, f.first_agent_at, f.pauses)
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
                CLOCKS.c.conversation_id.in_([w.conversation_id for w in found])
                | (CLOCKS.c.status != STOPPED)
            )
        )
    }
    await read_session.rollback()
    changed: list[tuple[Watched, Clock]] = []
    breached: list[int] = []
    live = set()
    for w in found:
        running = clock(w.facts, hours=hours, targets=targets, now=now)
        if running is None:
            continue
        live.add(w.conversation_id)
        row = stored.get(w.conversation_id)
        if await _store(session, w, running, row, now):
            changed.append((w, running))
        new_breach = row is None or row["breached_at"] is None or (
            row["started_at"] < running.started_at
        )
        if running.breached(now) and new_breach and await _record_breach(session, w, running, now):
            breached.append(w.conversation_id)
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
    for w, running in changed:
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
    while True:
        try:
            async with read_sessions() as read_session, sessions() as session:
                await sweep(
                    read_session=read_session,
                    session=session,
                    bus=bus,
                    hours=hours,
                    targets=targets,
                    now=utcnow(),
                )
        except Exception:  # noqa: BLE001 - the database may be restarting; try next time
            log.warning("SLA sweep failed; retrying in %ss", every_s, exc_info=True)
        await asyncio.sleep(every_s)
