"""Privacy: everything stored about one visitor, exported or deleted, and the retention purge.

What belongs to a visitor is read from the schema itself: every table with a foreign key to
`visitors`, and below it to `conversations` (messages, tickets, ratings, message feedback,
and whatever table is added later), so an export or a deletion cannot forget one.

Deletion is real (the rows are gone) and happens in one transaction with its audit event.
Nobody else's rows change: other conversations keep their seqs, the queue and the agents'
loads are read from what is left. After the commit the deleted conversations are announced:
the visitor's socket gets a `state` frame (closed, `deleted`), every console a `conversation`
frame (state `deleted`), queued visitors their new places, and freed agents the queue.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, delete, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff import audit
from handoff.bus import Bus
from handoff.errors import NotFound
from handoff.events import (
    AGENTS_CHANNEL,
    conversation_channel,
    conversation_deleted_event,
    conversation_event,
)
from handoff.models import Base, Conversation, Message, Ticket, Visitor, utcnow
from handoff.periodic import every
from handoff.queue import publish_queue_positions
from handoff.routing import Routing, drain_queue
from handoff.states import ConversationState

log = logging.getLogger(__name__)

S = ConversationState
VISITORS = cast(Table, Visitor.__table__)
CONVERSATIONS = cast(Table, Conversation.__table__)
PURGE_BATCH = 500  # conversations per purge transaction: SQLite's one write lock stays brief
PURGE_EVERY_S = 3600  # retention is counted in days; an hour late is on time


def _referring(table: Table) -> list[tuple[Table, Any]]:
    """Every (table, foreign key) that points at `table`'s rows (self-references excluded)."""
    return [
        (child, fk)
        for child in Base.metadata.sorted_tables
        if child is not table
        for fk in child.foreign_keys
        if fk.column.table is table
    ]


async def _delete_under(
    session: AsyncSession, table: Table, where: ColumnElement[bool]
) -> Counter[str]:
    """Delete the rows of `table` matching `where`, after every row that refers to them."""
    counts: Counter[str] = Counter()
    for child, fk in _referring(table):
        counts += await _delete_under(session, child, fk.parent.in_(select(fk.column).where(where)))
    result = await session.execute(delete(table).where(where))
    counts[table.name] += int(getattr(result, "rowcount", 0) or 0)
    return counts


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


async def _rows_under(
    session: AsyncSession, table: Table, where: ColumnElement[bool]
) -> list[dict[str, Any]]:
    """The rows of `table` matching `where`, each with the rows that refer to it nested."""
    order = [table.c.seq] if "seq" in table.c else list(table.primary_key.columns)
    rows = (await session.execute(select(table).where(where).order_by(*order))).mappings().all()
    out = []
    for row in rows:
        item = {key: _jsonable(value) for key, value in row.items()}
        for child, fk in _referring(table):
            item[child.name] = await _rows_under(session, child, fk.parent == row[fk.column.name])
        out.append(item)
    return out


async def find_visitors(*, session: AsyncSession, email: str) -> Sequence[Visitor]:
    """Visitors with this e-mail on their profile (typed or verified) or on a ticket of theirs."""
    address = email.strip().lower()
    on_ticket = (
        select(Conversation.visitor_id)
        .join(Ticket, Ticket.conversation_id == Conversation.id)
        .where(func.lower(Ticket.email) == address)
    )
    query = select(Visitor).where(
        or_(
            func.lower(Visitor.email) == address,
            func.lower(Visitor.verified_email) == address,
            Visitor.id.in_(on_ticket),
        )
    )
    return (await session.scalars(query.order_by(Visitor.id))).all()


async def export_visitor(
    *, session: AsyncSession, visitor_id: int, agent_id: int | None, ip: str | None = None
) -> dict[str, Any]:
    """Everything stored about the visitor, as JSON-ready data; the export is audit-logged."""
    found = await _rows_under(session, VISITORS, VISITORS.c.id == visitor_id)
    if not found:
        raise NotFound(f"visitor {visitor_id} not found")
    audit.record(session, "visitor_exported", agent_id=agent_id, ip=ip, visitor_id=visitor_id)
    await session.commit()
    return {"exported_at": utcnow().isoformat(), "visitor": found[0]}


Locked = tuple[int, str, int | None]  # a conversation's id, state and agent when deleted


async def _lock_conversations(
    session: AsyncSession, where: ColumnElement[bool], *, limit: int | None = None
) -> list[Locked]:
    """Lock matching conversations in id order, as the message writer does (PostgreSQL)."""
    query = (
        select(Conversation.id, Conversation.state, Conversation.assigned_agent_id)
        .where(where)
        .order_by(Conversation.id)
        .limit(limit)
        .with_for_update(skip_locked=limit is not None)
    )
    return [(cid, str(state), agent) for cid, state, agent in (await session.execute(query)).all()]


async def delete_visitor(
    *,
    session: AsyncSession,
    bus: Bus,
    visitor_id: int,
    agent_id: int | None,
    routing: Routing | None = None,
    ip: str | None = None,
) -> dict[str, int]:
    """Delete the visitor and everything about them in one transaction; rows deleted per table.

    Lock order (conversations, then the visitor) is the purge's, so the two never deadlock;
    the second look at the conversations catches one started before the visitor was locked.
    """
    await _lock_conversations(session, Conversation.visitor_id == visitor_id)
    locked = await session.scalar(
        select(Visitor.id).where(Visitor.id == visitor_id).with_for_update()
    )
    if locked is None:
        await session.rollback()
        raise NotFound(f"visitor {visitor_id} not found")
    convs = await _lock_conversations(session, Conversation.visitor_id == visitor_id)
    counts = dict(await _delete_under(session, VISITORS, VISITORS.c.id == visitor_id))
    audit.record(
        session, "visitor_deleted", agent_id=agent_id, ip=ip, visitor_id=visitor_id, rows=counts
    )
    await session.commit()
    await _announce_deleted(session=session, bus=bus, convs=convs, routing=routing)
    return counts


async def _announce_deleted(
    *, session: AsyncSession, bus: Bus, convs: Sequence[Locked], routing: Routing | None
) -> None:
    """After the commit: sockets and consoles let go of the deleted conversations."""
    for cid, _state, _agent in convs:
        await bus.publish_after_commit(conversation_channel(cid), conversation_deleted_event(cid))
        await bus.publish_after_commit(
            AGENTS_CHANNEL,
            conversation_event(conversation_id=cid, state="deleted", assigned_agent_id=None),
        )
    states = {state for _cid, state, _agent in convs}
    if S.QUEUED in states:
        await publish_queue_positions(session=session, bus=bus)  # those behind move up
    if S.ASSIGNED in states and routing is not None:
        await drain_queue(session=session, bus=bus, routing=routing)  # a slot freed up


def _expired(older_than: datetime) -> ColumnElement[bool]:
    """Closed before `older_than`, or left with the bot with no message since then.

    Chats that stay with the bot are never closed by anyone, and they are most chats.
    """
    recent_message = exists().where(
        Message.conversation_id == Conversation.id, Message.created_at >= older_than
    )
    return or_(
        (Conversation.state == S.CLOSED) & (Conversation.closed_at < older_than),
        (Conversation.state == S.BOT) & (Conversation.created_at < older_than) & ~recent_message,
    )


async def purge_expired(
    *, session: AsyncSession, bus: Bus, older_than: datetime, batch: int = PURGE_BATCH
) -> dict[str, int]:
    """Delete expired conversations (see `_expired`) and visitors left with none; audit-logged.

    In transactions of `batch` conversations; another replica purging at the same time
    skips the rows this one holds. Returns the rows deleted per table.
    """
    totals: Counter[str] = Counter()
    while True:
        convs = await _lock_conversations(session, _expired(older_than), limit=batch)
        if not convs:
            await session.rollback()
            break
        ids = [cid for cid, _state, _agent in convs]
        owners = select(Conversation.visitor_id).where(Conversation.id.in_(ids))
        visitor_ids = list((await session.scalars(owners.distinct())).all())
        totals += await _delete_under(session, CONVERSATIONS, CONVERSATIONS.c.id.in_(ids))
        # Locked first, so a visitor coming back now gets their new conversation or none.
        await session.execute(
            select(Visitor.id).where(Visitor.id.in_(visitor_ids)).with_for_update()
        )
        has_conversation = exists(
            select(CONVERSATIONS.c.id).where(CONVERSATIONS.c.visitor_id == VISITORS.c.id)
        ).correlate(VISITORS)  # only the visitor: never the conversations being deleted
        alone = VISITORS.c.id.in_(visitor_ids) & ~has_conversation
        totals += await _delete_under(session, VISITORS, alone)
        await session.commit()
        await _announce_deleted(session=session, bus=bus, convs=convs, routing=None)
        if len(convs) < batch:
            break
    counts = {"conversations": 0, "visitors": 0, **totals}
    audit.record(session, "retention_purged", older_than=older_than.isoformat(), rows=counts)
    await session.commit()
    return counts


async def purge_forever(
    *, sessions: async_sessionmaker[AsyncSession], bus: Bus, retention_days: int
) -> None:
    """The retention job: purge now, then every PURGE_EVERY_S, until cancelled."""

    async def once() -> None:
        async with sessions() as session:
            counts = await purge_expired(
                session=session, bus=bus, older_than=utcnow() - timedelta(days=retention_days)
            )
        log.info("retention purge: %s", counts)

    await every(PURGE_EVERY_S, "retention purge", once, first_now=True)
