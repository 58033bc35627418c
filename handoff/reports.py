"""The numbers (issue 15): per-period reports as SQL aggregates that run on SQLite and PostgreSQL.

Every report is about the conversations *started* in the period (`conversations.created_at`,
indexed), with days as the business time zone counts them. Durations (first response, resolution,
ticket first reply) count business hours only (handoff/hours.py); their percentiles come from the
period's durations fetched in one query and sorted here (handoff/report_figures.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, case, exists, func, not_, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from handoff.errors import NotFound
from handoff.hours import BusinessHours
from handoff.models import Agent, Conversation, Message, MessageFeedback, Rating, Sender, Ticket
from handoff.report_figures import OpenClock, Period, Report, clock_for, percentile, share
from handoff.report_models import NPS_MAX, NpsAnswer

# Conversations are counted per quarter hour in SQL, then the quarters go to their local day
# here: every time zone's offset, and every DST change, is a whole number of quarter hours.
SLOT_S = 15 * 60
SATISFIED_STARS = 4  # CSAT counts 4 and 5 stars as satisfied
PROMOTER_MIN, DETRACTOR_MAX = 9, 6  # NPS: 9-10 promote, 0-6 detract, 7-8 are passive
P50, P90 = 50, 90


class SlotOf(FunctionElement[int]):
    """The quarter hour (seconds since 1970 // SLOT_S) of a UTC timestamp column."""

    type = Integer()
    inherit_cache = True
    name = "slot_of"


@compiles(SlotOf, "sqlite")
def _slot_sqlite(element: SlotOf, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps the UTC timestamps as 'YYYY-MM-DD HH:MM:SS.ffffff' text.
    inner = compiler.process(element.clauses, **kw)
    return f"(CAST(strftime('%s', {inner}) AS INTEGER) / {SLOT_S})"


@compiles(SlotOf, "postgresql")
def _slot_postgresql(element: SlotOf, compiler: SQLCompiler, **kw: Any) -> str:
    inner = compiler.process(element.clauses, **kw)
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {inner}) / {SLOT_S}) AS BIGINT)"


@dataclass(frozen=True)
class Scope:
    """What every report is asked for: the period, the business hours, whether NPS is asked."""

    period: Period
    hours: BusinessHours
    nps_enabled: bool = False


def _in_period(p: Period) -> ColumnElement[bool]:
    return and_(Conversation.created_at >= p.utc_start, Conversation.created_at < p.utc_end)


# A person took part: the chat was escalated (queue or ticket) or an agent held it.
_PERSON = or_(
    Conversation.escalation_reason.is_not(None), Conversation.assigned_agent_id.is_not(None)
)
_UNHELPFUL = exists().where(
    MessageFeedback.conversation_id == Conversation.id, MessageFeedback.helpful.is_(False)
)
_CONTAINED = and_(not_(_PERSON), not_(_UNHELPFUL))


async def _per_day(session: AsyncSession, p: Period) -> dict[date, list[int]]:
    """Per local day: [conversations, escalated, contained by the bot]."""
    slot = SlotOf(Conversation.created_at).label("slot")
    stmt = (
        select(
            slot,
            func.count(),
            func.sum(case((_PERSON, 1), else_=0)),
            func.sum(case((_CONTAINED, 1), else_=0)),
        )
        .where(_in_period(p))
        .group_by(slot)
    )
    days = {d: [0, 0, 0] for d in p.days()}
    for quarter, n, escalated, contained in await session.execute(stmt):
        day = datetime.fromtimestamp(int(quarter) * SLOT_S, UTC).astimezone(p.timezone).date()
        if day in days:
            counts = days[day]
            counts[0] += int(n)
            counts[1] += int(escalated or 0)
            counts[2] += int(contained or 0)
    return days


async def conversations_report(*, session: AsyncSession, scope: Scope) -> Report:
    """Conversations started per day, how many reached a person, how many the bot kept."""
    days = await _per_day(session, scope.period)
    rows = [(d, n, esc, kept) for d, (n, esc, kept) in days.items()]
    total = sum(r[1] for r in rows)
    return Report("conversations", scope.period, ("date", "conversations", "escalated", "bot_only"),
                  rows, {"conversations": total, "escalated": sum(r[2] for r in rows)})


async def containment_report(*, session: AsyncSession, scope: Scope) -> Report:
    """Bot containment: ended without a person and without a "not helpful", per day and overall."""
    days = await _per_day(session, scope.period)
    rows = [(d, n, kept, share(kept, n)) for d, (n, _, kept) in days.items()]
    total, kept = sum(r[1] for r in rows), sum(r[2] for r in rows)
    return Report("containment", scope.period,
                  ("date", "conversations", "contained", "containment_rate"), rows,
                  {"conversations": total, "contained": kept,
                   "containment_rate": share(kept, total)})


async def escalations_report(*, session: AsyncSession, scope: Scope) -> Report:
    """Escalations by reason, the most frequent first."""
    n = func.count().label("n")
    stmt = (
        select(Conversation.escalation_reason, n)
        .where(_in_period(scope.period), Conversation.escalation_reason.is_not(None))
        .group_by(Conversation.escalation_reason)
        .order_by(n.desc(), Conversation.escalation_reason)
    )
    counted = [(str(reason), int(k)) for reason, k in await session.execute(stmt)]
    total = sum(k for _, k in counted)
    rows = [(reason, k, share(k, total)) for reason, k in counted]
    return Report("escalations", scope.period, ("reason", "escalations", "share"), rows,
                  {"escalations": total})


async def helpful_report(*, session: AsyncSession, scope: Scope) -> Report:
    """Per FAQ entry: the bot's answers, their "was this helpful?" votes and the helpful rate."""
    # Bot answers name their entry in `meta`; the JSON is read in a subquery so GROUP BY names
    # a plain column on every database.
    answers = (
        select(
            Message.meta["entry_id"].as_string().label("entry_id"),
            Message.conversation_id,
            Message.seq,
        )
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            _in_period(scope.period),
            Message.sender == Sender.BOT,
            Message.meta["kind"].as_string() == "answer",
        )
        .subquery()
    )
    yes = func.sum(case((MessageFeedback.helpful.is_(True), 1), else_=0))
    no = func.sum(case((MessageFeedback.helpful.is_(False), 1), else_=0))
    n = func.count().label("n")
    stmt = (
        select(answers.c.entry_id, n, yes, no)
        .select_from(answers)
        .outerjoin(
            MessageFeedback,
            and_(
                MessageFeedback.conversation_id == answers.c.conversation_id,
                MessageFeedback.seq == answers.c.seq,
            ),
        )
        .group_by(answers.c.entry_id)
        .order_by(n.desc(), answers.c.entry_id)
    )
    rows = []
    for entry_id, k, y, nn in await session.execute(stmt):
        y, nn = int(y or 0), int(nn or 0)
        rows.append((str(entry_id), int(k), y, nn, share(y, y + nn)))
    votes_yes, votes = sum(r[2] for r in rows), sum(r[2] + r[3] for r in rows)
    return Report("helpful", scope.period,
                  ("entry_id", "answers", "helpful", "not_helpful", "helpful_rate"), rows,
                  {"answers": sum(r[1] for r in rows), "votes": votes,
                   "helpful_rate": share(votes_yes, votes)})


async def _distribution(
    session: AsyncSession, p: Period, column: Any, conversation_id: Any
) -> Counter[int]:
    stmt = (
        select(column, func.count())
        .join(Conversation, Conversation.id == conversation_id)
        .where(_in_period(p))
        .group_by(column)
    )
    return Counter({int(v): int(k) for v, k in await session.execute(stmt)})


async def csat_report(*, session: AsyncSession, scope: Scope) -> Report:
    """CSAT: ratings per star, the average and the share of 4-5 stars."""
    counts = await _distribution(session, scope.period, Rating.stars, Rating.conversation_id)
    n = sum(counts.values())
    satisfied = sum(k for stars, k in counts.items() if stars >= SATISFIED_STARS)
    average = round(sum(s * k for s, k in counts.items()) / n, 2) if n else None
    rows = [(stars, counts[stars]) for stars in range(1, 6)]
    return Report("csat", scope.period, ("stars", "ratings"), rows,
                  {"ratings": n, "average": average, "satisfied_share": share(satisfied, n)})


async def nps_report(*, session: AsyncSession, scope: Scope) -> Report:
    """NPS: answers per score 0-10 and promoters minus detractors, in percent of the answers."""
    counts = await _distribution(session, scope.period, NpsAnswer.score, NpsAnswer.conversation_id)
    n = sum(counts.values())
    promoters = sum(k for s, k in counts.items() if s >= PROMOTER_MIN)
    detractors = sum(k for s, k in counts.items() if s <= DETRACTOR_MAX)
    nps = round(100 * (promoters - detractors) / n, 1) if n else None
    rows = [(score, counts[score]) for score in range(NPS_MAX + 1)]
    return Report("nps", scope.period, ("score", "answers"), rows,
                  {"enabled": scope.nps_enabled, "answers": n, "promoters": promoters,
                   "passives": n - promoters - detractors, "detractors": detractors, "nps": nps})


@dataclass(frozen=True)
class _Escalated:
    agent_id: int | None
    queued_at: datetime | None
    ticket_at: datetime | None
    closed_at: datetime | None
    first_reply: datetime | None

    @property
    def escalated_at(self) -> datetime:
        at = self.queued_at or self.ticket_at
        assert at is not None  # the query only returns escalated conversations
        return at


async def _escalated(session: AsyncSession, p: Period) -> list[_Escalated]:
    """The period's escalated conversations with their times, in one query."""
    first_reply = (
        select(func.min(Message.created_at))
        .where(Message.conversation_id == Conversation.id, Message.sender == Sender.AGENT)
        .correlate(Conversation)
        .scalar_subquery()
    )
    stmt = (
        select(
            Conversation.assigned_agent_id,
            Conversation.queued_at,
            Ticket.created_at,
            Conversation.closed_at,
            first_reply,
        )
        .outerjoin(Ticket, Ticket.conversation_id == Conversation.id)
        .where(
            _in_period(p), or_(Conversation.queued_at.is_not(None), Ticket.id.is_not(None))
        )
    )
    # Core rows from the connection: tens of thousands of them, without the ORM's row loading.
    conn = await session.connection()
    return [_Escalated(*row) for row in await conn.execute(stmt)]


def _timing(
    clock: OpenClock, pairs: list[tuple[datetime, datetime]]
) -> tuple[int, float | None, float | None]:
    durations = sorted(clock.between(a, b) for a, b in pairs)
    return len(durations), percentile(durations, P50), percentile(durations, P90)


async def response_times_report(*, session: AsyncSession, scope: Scope) -> Report:
    """First response after escalation (live chats), resolution, ticket first reply: p50/p90 of
    the seconds within business hours."""
    rows = await _escalated(session, scope.period)
    chats = [(r.queued_at, r.first_reply) for r in rows
             if r.queued_at and r.first_reply and r.ticket_at is None]
    resolved = [(r.escalated_at, r.closed_at) for r in rows if r.closed_at]
    tickets = [(r.ticket_at, r.first_reply) for r in rows
               if r.ticket_at and r.first_reply and r.first_reply >= r.ticket_at]
    clock = clock_for(scope.hours, chats + resolved + tickets)
    out = []
    for metric, pairs in (("first_response", chats), ("resolution", resolved),
                          ("ticket_first_reply", tickets)):
        out.append((metric, *_timing(clock, pairs)))
    summary = {m: {"count": n, "p50_s": a, "p90_s": b} for m, n, a, b in out}
    return Report("response_times", scope.period, ("metric", "count", "p50_s", "p90_s"), out,
                  summary)


async def agents_report(*, session: AsyncSession, scope: Scope) -> Report:
    """Per agent (the one holding the chat): chats, first response p50/p90, CSAT."""
    stmt = (
        select(Agent.id, Agent.name, func.count(Conversation.id), func.count(Rating.id),
               func.avg(Rating.stars))
        .join(Conversation, Conversation.assigned_agent_id == Agent.id)
        .outerjoin(Rating, Rating.conversation_id == Conversation.id)
        .where(_in_period(scope.period))
        .group_by(Agent.id, Agent.name)
        .order_by(Agent.name, Agent.id)
    )
    agents = [tuple(r) for r in await session.execute(stmt)]
    pairs: dict[int, list[tuple[datetime, datetime]]] = {}
    for r in await _escalated(session, scope.period):
        if r.agent_id is not None and r.first_reply is not None:
            pairs.setdefault(r.agent_id, []).append((r.escalated_at, r.first_reply))
    clock = clock_for(scope.hours, [p for ps in pairs.values() for p in ps])
    rows = []
    for agent_id, name, chats, ratings, average in agents:
        _, p50, p90 = _timing(clock, pairs.get(agent_id, []))
        csat = round(float(average), 2) if average is not None else None
        rows.append((agent_id, name, int(chats), p50, p90, int(ratings), csat))
    return Report("agents", scope.period, ("agent_id", "name", "chats", "first_response_p50_s",
                                           "first_response_p90_s", "ratings", "csat_average"),
                  rows, {"agents": len(rows)})


ReportFn = Callable[..., Awaitable[Report]]
REPORTS: dict[str, ReportFn] = {
    "conversations": conversations_report,
    "containment": containment_report,
    "escalations": escalations_report,
    "helpful": helpful_report,
    "csat": csat_report,
    "nps": nps_report,
    "response_times": response_times_report,
    "agents": agents_report,
}


async def build(*, session: AsyncSession, name: str, scope: Scope) -> Report:
    """The report called `name` for the scope's period; NotFound for an unknown name."""
    fn = REPORTS.get(name)
    if fn is None:
        raise NotFound(f"no report {name!r}: use one of {', '.join(REPORTS)}")
    if session.get_bind().dialect.name == "postgresql":
        # A period's aggregates look costly enough to PostgreSQL for its JIT, whose compiling
        # (~0.4 s measured on 100,000 conversations) costs more than the query; this
        # transaction only.
        await session.execute(text("SET LOCAL jit = off"))
    return await fn(session=session, scope=scope)
