"""Re-routing: an assigned chat whose agent is gone or silent goes back to the head of the queue.

The one home of "put this agent's chats back" (`requeue`, used by team.disable_member and by
the sweep here). Agent gone: disabled, or no console heartbeat (presence row) and no goodbye
within the presence timeout; a console reload reconnects long before that, a logout or a
closed console does not, and a dead replica's rows simply go stale, so the sweep that every
replica runs (`reroute_forever`) notices it even when no replica saw the socket close. Agent
silent: the visitor has waited `warn_s` for an answer (since their first unanswered message,
or since the assignment if later: a visitor writing "hello?" again does not restart the clock)
-> one `agent_silent` event for the consoles; `reroute_s` later the chat is re-routed.

Multi-replica safe: every change is a conditional UPDATE (the chat still assigned to that
agent, nothing new written since it was looked at) or a conditional upsert (the warning), so
exactly one replica acts on a chat however many sweep at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from handoff import texts
from handoff.bus import Bus
from handoff.conversations import visitor_locale
from handoff.events import AGENTS_CHANNEL
from handoff.messages import announce, append_message
from handoff.models import Agent, AgentPresence, Conversation, Message, Sender, utcnow
from handoff.periodic import every
from handoff.queue import publish_queue_positions
from handoff.reroute_models import ConversationReroute
from handoff.routing import Routing, drain_queue
from handoff.states import ConversationState, check_transition

S = ConversationState
# A requeued chat goes this far ahead of the queue's current head: the earliest place, and
# still a strict order with the chat that was first until now.
AHEAD = timedelta(milliseconds=1)
WARN_S = 180  # three minutes without an answer: the agent's console warns
REROUTE_S = 120  # two more minutes: someone else takes over (0: never)
SWEEP_S = 5.0  # how often each replica looks; one or two indexed queries each time


@dataclass(frozen=True)
class Reroute:
    """When silent agents are warned and their chats re-routed; built from the settings."""

    warn_s: float = WARN_S
    reroute_s: float = REROUTE_S
    sweep_s: float = SWEEP_S


Requeued = list[tuple[Conversation, Message]]


async def requeue(
    *,
    session: AsyncSession,
    agent_id: int,
    reason: str,
    conversation_id: int | None = None,
    last_seq: int | None = None,
) -> Requeued:
    """Put the agent's assigned chats (or just that one, if still at `last_seq`) back at the
    head of the queue, each with a system message; the caller commits, then `after_requeue`."""
    check_transition(S.ASSIGNED, S.QUEUED)
    rule = [Conversation.assigned_agent_id == agent_id, Conversation.state == S.ASSIGNED]
    if conversation_id is not None:
        rule.append(Conversation.id == conversation_id)
    if last_seq is not None:
        rule.append(Conversation.last_seq == last_seq)
    # The conditional UPDATE is the claim: of replicas sweeping at once, one matches the rows.
    ids = list(
        (
            await session.scalars(
                update(Conversation)
                .where(*rule)
                .values(state=S.QUEUED, assigned_agent_id=None)
                .returning(Conversation.id)
                .execution_options(synchronize_session=False)
            )
        ).all()
    )
    if not ids:
        return []
    convs = (
        await session.scalars(
            select(Conversation)
            .where(Conversation.id.in_(ids))
            .order_by(Conversation.queued_at, Conversation.id)
            .execution_options(populate_existing=True)
        )
    ).all()
    await _to_the_head(session=session, convs=convs)
    now = utcnow()
    out: Requeued = []
    for conv in convs:
        mark = await session.get(ConversationReroute, conv.id)
        if mark is None:
            mark = ConversationReroute(conversation_id=conv.id)
            session.add(mark)
        mark.from_agent_id, mark.rerouted_at, mark.warned_seq = agent_id, now, None
        locale = await visitor_locale(session=session, visitor_id=conv.visitor_id)
        msg = await append_message(
            session=session,
            conversation_id=conv.id,
            sender=Sender.SYSTEM,
            text=texts.text("agent.replaced", locale),
            meta={"kind": "requeued", "from_agent_id": agent_id, "reason": reason},
        )
        out.append((conv, msg))
    return out


async def _to_the_head(*, session: AsyncSession, convs: Sequence[Conversation]) -> None:
    """Give the chats the earliest queue places, keeping their order among themselves."""
    now = utcnow()
    head = await session.scalar(
        select(Conversation.queued_at)
        .where(
            Conversation.state == S.QUEUED,
            Conversation.id.not_in([c.id for c in convs]),
            Conversation.queued_at.is_not(None),
        )
        .order_by(Conversation.queued_at)
        .limit(1)
    )
    earliest = min(c.queued_at or now for c in convs)
    shift = earliest - (head - AHEAD) if head is not None and earliest >= head else timedelta(0)
    for conv in convs:
        conv.queued_at = (conv.queued_at or now) - shift
    await session.flush()


async def after_requeue(
    *, session: AsyncSession, bus: Bus, routing: Routing, requeued: Requeued
) -> None:
    """After the commit: tell everyone, then let routing hand the chats out again."""
    for conv, msg in requeued:
        await announce(session=session, bus=bus, conv=conv, messages=[msg])
    if requeued:
        await publish_queue_positions(session=session, bus=bus)
        await drain_queue(session=session, bus=bus, routing=routing)


async def gone_agents(*, session: AsyncSession, presence_timeout_s: int) -> list[int]:
    """Agents holding assigned chats who are disabled or have had no console for too long."""
    cutoff = utcnow() - timedelta(seconds=presence_timeout_s)
    live = exists().where(AgentPresence.agent_id == Agent.id, AgentPresence.last_seen_at >= cutoff)
    holds = exists().where(
        Conversation.assigned_agent_id == Agent.id, Conversation.state == S.ASSIGNED
    )
    # last_seen_at is the agent's last status change or goodbye: a console closed just now
    # (a reload) gets the presence timeout to come back.
    quiet = or_(Agent.last_seen_at.is_(None), Agent.last_seen_at < cutoff)
    gone = or_(Agent.disabled_at.is_not(None), and_(~live, quiet))
    return list((await session.scalars(select(Agent.id).where(holds, gone))).all())


@dataclass(frozen=True)
class Waiting:
    """An assigned chat whose visitor waits for the agent's answer."""

    conversation_id: int
    agent_id: int
    first_unanswered_seq: int
    last_seq: int
    since: datetime
    warned_seq: int | None


async def waiting_chats(*, session: AsyncSession) -> list[Waiting]:
    """Assigned chats with a visitor message after the agent's last reply (one query)."""
    reply = aliased(Message)
    answered = (
        select(func.coalesce(func.max(reply.seq), 0))
        .where(reply.conversation_id == Conversation.id, reply.sender == Sender.AGENT)
        .correlate(Conversation)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(
            Conversation.id,
            Conversation.assigned_agent_id,
            Conversation.assigned_at,
            Conversation.last_seq,
            ConversationReroute.warned_seq,
            func.min(Message.seq),
            func.min(Message.created_at),
        )
        .join(Message, Message.conversation_id == Conversation.id)
        .outerjoin(ConversationReroute)
        .where(
            Conversation.state == S.ASSIGNED,
            Message.sender == Sender.VISITOR,
            Message.seq > answered,
        )
        .group_by(
            Conversation.id,
            Conversation.assigned_agent_id,
            Conversation.assigned_at,
            Conversation.last_seq,
            ConversationReroute.warned_seq,
        )
    )
    out = []
    for cid, agent_id, assigned_at, last_seq, warned_seq, seq, first_at in rows:
        if agent_id is None:
            continue
        since = max(_aware(first_at), assigned_at or _aware(first_at))
        out.append(Waiting(cid, agent_id, seq, last_seq, since, warned_seq))
    return out


def _aware(value: datetime) -> datetime:
    # Aggregates bypass the column type, so SQLite hands back naive UTC (sometimes as text).
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


async def claim_warning(*, session: AsyncSession, conversation_id: int, seq: int) -> bool:
    """Whether this replica is the one to warn about this unanswered message (once each)."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(ConversationReroute).values(conversation_id=conversation_id, warned_seq=seq)
    table = ConversationReroute.__table__
    won = await session.scalar(
        stmt.on_conflict_do_update(
            index_elements=["conversation_id"],
            set_={"warned_seq": seq},
            where=or_(table.c.warned_seq.is_(None), table.c.warned_seq < seq),
        ).returning(table.c.conversation_id)
    )
    return won is not None


def silent_event(waiting: Waiting, *, reroute_at: datetime | None) -> dict[str, Any]:
    """The `agent_silent` frame every console gets; the chat's agent shows the warning."""
    return {
        "type": "agent_silent",
        "conversation_id": waiting.conversation_id,
        "agent_id": waiting.agent_id,
        "waiting_since": waiting.since.isoformat(),
        "reroute_at": reroute_at.isoformat() if reroute_at else None,
    }


def _due(chat: Waiting, config: Reroute, now: datetime) -> str | None:
    """What the sweep does about a waiting chat now: "reroute", "warn" or nothing."""
    waited = (now - chat.since).total_seconds()
    if config.reroute_s > 0 and waited >= config.warn_s + config.reroute_s:
        return "reroute"
    if waited >= config.warn_s and chat.warned_seq != chat.first_unanswered_seq:
        return "warn"
    return None


async def anything_to_do(*, session: AsyncSession, routing: Routing, config: Reroute) -> bool:
    """Whether a sweep would change anything: looked at in a read-only session, so that an idle
    sweep never takes SQLite's write lock."""
    if await gone_agents(session=session, presence_timeout_s=routing.presence_timeout_s):
        return True
    now = utcnow()
    return any(_due(chat, config, now) for chat in await waiting_chats(session=session))


async def sweep(*, session: AsyncSession, bus: Bus, routing: Routing, config: Reroute) -> int:
    """One look: chats of gone agents back to the queue, silent agents warned or re-routed;
    how many chats were re-queued."""
    requeued: Requeued = []
    gone = await gone_agents(session=session, presence_timeout_s=routing.presence_timeout_s)
    for agent_id in gone:
        requeued += await requeue(session=session, agent_id=agent_id, reason="agent_gone")
    await session.commit()
    now = utcnow()
    for chat in await waiting_chats(session=session):
        due = _due(chat, config, now)
        if due == "reroute":
            requeued += await requeue(
                session=session,
                agent_id=chat.agent_id,
                reason="agent_silent",
                conversation_id=chat.conversation_id,
                last_seq=chat.last_seq,
            )
        elif due == "warn" and await claim_warning(
            session=session, conversation_id=chat.conversation_id, seq=chat.first_unanswered_seq
        ):
            await session.commit()
            reroute_at = chat.since + timedelta(seconds=config.warn_s + config.reroute_s)
            event = silent_event(chat, reroute_at=reroute_at if config.reroute_s > 0 else None)
            await bus.publish_after_commit(AGENTS_CHANNEL, event)
    await session.commit()
    await after_requeue(session=session, bus=bus, routing=routing, requeued=requeued)
    return len(requeued)


async def reroute_forever(
    *,
    sessions: async_sessionmaker[AsyncSession],
    read_sessions: async_sessionmaker[AsyncSession],
    bus: Bus,
    routing: Routing,
    config: Reroute,
) -> None:
    """Every replica's sweep, every `config.sweep_s`, until cancelled."""

    async def once() -> None:
        async with read_sessions() as session:
            due = await anything_to_do(session=session, routing=routing, config=config)
        if due:
            async with sessions() as session:
                await sweep(session=session, bus=bus, routing=routing, config=config)

    await every(config.sweep_s, "re-route sweep", once)
