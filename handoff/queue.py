"""The waiting line: a visitor's place in it, the wait to expect, and telling everyone.

The queue is served in arrival order (queued_at, then id); handoff.routing assigns from
its head.
"""

from __future__ import annotations

import statistics
from datetime import datetime

from sqlalchemy import exists, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import texts
from handoff.bus import Bus
from handoff.events import QUEUE_CHANNEL, queue_positions_event
from handoff.models import Conversation, Ticket
from handoff.states import ConversationState

S = ConversationState
WAIT_SAMPLE = 20  # recent pickups averaged for the estimate: recent enough to follow the day


async def queue_position(*, session: AsyncSession, conv: Conversation) -> int | None:
    """1-based place in the queue (arrival order), or None when not queued."""
    if conv.state != S.QUEUED or conv.queued_at is None:
        return None
    ahead = await session.scalar(
        select(func.count())
        .select_from(Conversation)
        .where(
            Conversation.state == S.QUEUED,
            tuple_(Conversation.queued_at, Conversation.id) < (conv.queued_at, conv.id),
        )
    )
    return int(ahead or 0) + 1


async def queue_summary(*, session: AsyncSession) -> tuple[int, datetime | None]:
    """How many conversations are queued, and since when the longest-waiting one waits."""
    count, oldest = (
        await session.execute(
            select(func.count(), func.min(Conversation.queued_at)).where(
                Conversation.state == ConversationState.QUEUED
            )
        )
    ).one()
    return int(count), oldest


async def recent_wait_s(*, session: AsyncSession) -> float | None:
    """Median seconds from queued to picked up over the latest pickups, None without history."""
    rows = (
        await session.execute(
            select(Conversation.queued_at, Conversation.assigned_at)
            .where(
                Conversation.queued_at.is_not(None),
                Conversation.assigned_at.is_not(None),
                # A chat that became a ticket was taken later, not picked up from the queue:
                # its hours-long wait says nothing about how long a queued visitor waits.
                ~exists().where(Ticket.conversation_id == Conversation.id),
            )
            .order_by(Conversation.assigned_at.desc())
            .limit(WAIT_SAMPLE)
        )
    ).all()
    waits = [
        max(0.0, (assigned - queued).total_seconds())
        for queued, assigned in rows
        if queued is not None and assigned is not None and assigned >= queued
    ]
    return statistics.median(waits) if waits else None


def estimated_wait_s(median_wait_s: float | None, position: int | None) -> int | None:
    """Whole seconds a visitor at `position` should expect to wait."""
    if median_wait_s is None or position is None:
        return None
    # Everyone ahead was waiting too: each place in the line costs about one median pickup.
    return round(median_wait_s * position)


async def queue_joined(*, session: AsyncSession, conv: Conversation, locale: str | None) -> str:
    """What a visitor who just joined the queue reads: their place, and the usual wait."""
    position = await queue_position(session=session, conv=conv)
    said = texts.text("queue.joined", locale, position=position)
    wait_s = estimated_wait_s(await recent_wait_s(session=session), position)
    if wait_s is None:
        return said  # no pickups yet to learn the wait from: no number we would have to invent
    minutes = max(1, round(wait_s / 60))
    return texts.sentences(locale, said, texts.text("queue.wait", locale, count=minutes))


async def publish_queue_positions(*, session: AsyncSession, bus: Bus) -> None:
    """Tell every queued visitor their (new) place in the queue: ONE broadcast for them all.

    Each visitor socket finds its own conversation in the ordered list (app/ws/queue_view.py),
    so a queue change costs one bus publish, not one per queued visitor.
    """
    rows = (
        await session.execute(
            select(Conversation.id, Conversation.queued_at, Conversation.ticket_offered_at)
            .where(Conversation.state == S.QUEUED)
            .order_by(Conversation.queued_at, Conversation.id)
        )
    ).all()
    median = await recent_wait_s(session=session) if rows else None
    await bus.publish_after_commit(
        QUEUE_CHANNEL,
        queue_positions_event(
            queued=[cid for cid, _, _ in rows],
            offered=[cid for cid, queued_at, offered_at in rows
                     if ticket_offered(queued_at=queued_at, offered_at=offered_at)],
            median_wait_s=median,
        ),
    )


def ticket_offered(*, queued_at: datetime | None, offered_at: datetime | None) -> bool:
    """The visitor was offered a ticket during this stay in the queue (handoff/queue_timeout)."""
    return queued_at is not None and offered_at is not None and offered_at >= queued_at
