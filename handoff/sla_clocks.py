"""SLA timers, the stored facts: what each clock is computed from, the clocks now, pauses.

The clocks are derived from what is stored anyway (the hand-over time, agent and visitor
messages, the ticket's pending periods), so the hot path (handoff/writer.py) pays nothing for
them. `clocks_for` is what the console's lists show; handoff/sla_sweep.py stores them and
records breaches; handoff/tickets.py pauses a pending ticket's clock here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from handoff.models import Conversation, Message, Sender, Ticket
from handoff.sla import ACTIVE_STATES, Clock, Facts, Hours, Pause, SlaTargets, clock
from handoff.sla_models import SlaClock, SlaPause

CONVERSATIONS = cast(Table, Conversation.__table__)
MESSAGES = cast(Table, Message.__table__)
TICKETS = cast(Table, Ticket.__table__)
CLOCKS = cast(Table, SlaClock.__table__)
PAUSES = cast(Table, SlaPause.__table__)
RUNNING, PAUSED, STOPPED = "running", "paused", "stopped"


@dataclass(frozen=True)
class Watched:
    """A conversation somebody may be waiting on: its SLA facts and who holds it."""

    conversation_id: int
    visitor_id: int
    state: str
    escalation_reason: str | None
    assigned_agent_id: int | None
    facts: Facts


def waiting_ids() -> Any:
    """SELECT the ids of the conversations in an active state (a subquery: no parameters)."""
    return select(CONVERSATIONS.c.id).where(
        CONVERSATIONS.c.state.in_([str(s) for s in ACTIVE_STATES])
    )


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
    """The clocks running now in these conversations (the console's lists); absent: none (and
    none at all when every target is off)."""
    if not conversation_ids or not targets.any:
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
