"""The reports (handoff/reports.py) on a small data set whose figures are worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import reports
from handoff.errors import Invalid, NotFound
from handoff.hours import BusinessHours
from handoff.models import (
    Agent,
    Conversation,
    Message,
    MessageFeedback,
    Rating,
    Sender,
    Ticket,
    Visitor,
)
from handoff.report_figures import clock_for, make_period, percentile, to_csv
from handoff.report_models import NpsAnswer

# Berlin is UTC+1 in early March: open 09:00-17:00 there is 08:00-16:00 UTC, Monday to Friday.
HOURS = BusinessHours.parse(
    {d: "09:00-17:00" for d in ("mon", "tue", "wed", "thu", "fri")}, "Europe/Berlin"
)
PERIOD = make_period(first=date(2026, 3, 2), last=date(2026, 3, 3), timezone=HOURS.timezone)


def utc(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 3, day, hh, mm, tzinfo=UTC)


async def seed(session: AsyncSession) -> None:
    """c1..c5 start in the period (Berlin days), c6 just after it."""
    alice = Agent(email="a@x", name="Alice", password_hash="-")
    bob = Agent(email="b@x", name="Bob", password_hash="-")
    visitor = Visitor()
    session.add_all([alice, bob, visitor])
    await session.flush()

    def conv(created: datetime, **kw: Any) -> Conversation:
        c = Conversation(visitor_id=visitor.id, created_at=created, **{"state": "closed", **kw})
        session.add(c)
        return c

    c1 = conv(utc(1, 23, 30))  # 00:30 on 2 March in Berlin: the bot alone, found helpful
    c2 = conv(utc(2, 10))  # the bot alone, but "not helpful"
    c3 = conv(utc(2, 14), escalation_reason="low_confidence", queued_at=utc(2, 14),
              assigned_agent_id=alice.id, closed_at=utc(2, 15))
    # Queued 10 minutes before closing time; answered 10 minutes after opening the next day.
    c4 = conv(utc(2, 15, 50), escalation_reason="asked_for_human", queued_at=utc(2, 15, 50),
              assigned_agent_id=bob.id, closed_at=utc(3, 9))
    c5 = conv(utc(3, 20), escalation_reason="asked_for_human", state="ticket")  # 21:00 Berlin
    c6 = conv(utc(3, 23, 30), escalation_reason="low_confidence")  # 00:30 on 4 March: outside
    await session.flush()
    msgs = [
        (c1, 1, Sender.BOT, {"kind": "answer", "entry_id": "returns"}, utc(1, 23, 31)),
        (c2, 1, Sender.BOT, {"kind": "answer", "entry_id": "returns"}, utc(2, 10, 1)),
        (c3, 1, Sender.BOT, {"kind": "answer", "entry_id": "shipping"}, utc(2, 14)),
        (c3, 2, Sender.AGENT, None, utc(2, 14, 2)),
        (c3, 3, Sender.AGENT, None, utc(2, 14, 5)),
        (c4, 1, Sender.AGENT, None, utc(3, 8, 10)),
        (c5, 1, Sender.AGENT, None, utc(4, 8, 30)),
        (c6, 1, Sender.BOT, {"kind": "answer", "entry_id": "returns"}, utc(3, 23, 31)),
    ]
    for c, seq, sender, meta, at in msgs:
        session.add(Message(conversation_id=c.id, seq=seq, sender=sender, text="t", meta=meta,
                            created_at=at, agent_id=alice.id if sender == Sender.AGENT else None))
    session.add_all([
        MessageFeedback(conversation_id=c1.id, seq=1, helpful=True),
        MessageFeedback(conversation_id=c2.id, seq=1, helpful=False),
        MessageFeedback(conversation_id=c6.id, seq=1, helpful=False),
        Rating(conversation_id=c3.id, stars=5),
        Rating(conversation_id=c4.id, stars=2),
        Rating(conversation_id=c6.id, stars=1),
        NpsAnswer(conversation_id=c3.id, score=10),
        NpsAnswer(conversation_id=c4.id, score=6),
        NpsAnswer(conversation_id=c6.id, score=0),
        Ticket(conversation_id=c5.id, created_at=utc(3, 20)),
        Ticket(conversation_id=c6.id, created_at=utc(3, 23, 30)),
    ])
    await session.commit()


async def report(session: AsyncSession, name: str, hours: BusinessHours = HOURS) -> Any:
    scope = reports.Scope(period=PERIOD, hours=hours, nps_enabled=True)
    return await reports.build(session=session, name=name, scope=scope)


async def test_every_report_on_the_seeded_conversations(session: AsyncSession) -> None:
    await seed(session)
    d2, d3 = date(2026, 3, 2), date(2026, 3, 3)

    conv = await report(session, "conversations")
    assert conv.rows == [(d2, 4, 2, 1), (d3, 1, 1, 0)]  # c1-c4 on the 2nd; c6 is the 4th's
    kept = await report(session, "containment")
    assert kept.rows == [(d2, 4, 1, 0.25), (d3, 1, 0, 0.0)]
    assert kept.summary == {"conversations": 5, "contained": 1, "containment_rate": 0.2}

    esc = await report(session, "escalations")
    assert esc.rows == [("asked_for_human", 2, 0.667), ("low_confidence", 1, 0.333)]

    helpful = await report(session, "helpful")
    assert helpful.rows == [("returns", 2, 1, 1, 0.5), ("shipping", 1, 0, 0, None)]
    assert helpful.summary == {"answers": 3, "votes": 2, "helpful_rate": 0.5}

    csat = await report(session, "csat")
    assert csat.rows == [(1, 0), (2, 1), (3, 0), (4, 0), (5, 1)]
    assert csat.summary == {"ratings": 2, "average": 3.5, "satisfied_share": 0.5}

    nps = await report(session, "nps")
    assert nps.summary == {"enabled": True, "answers": 2, "promoters": 1, "passives": 0,
                           "detractors": 1, "nps": 0.0}
    assert nps.rows[10] == (10, 1) and nps.rows[6] == (6, 1) and nps.rows[0] == (0, 0)

    # In business hours: c3 120 s; c4 10 min before closing + 10 min after opening = 1200 s.
    # Resolution: c3 3600 s; c4 600 + 3600 s. c5's ticket (21:00) answered at 09:30: 1800 s.
    times = await report(session, "response_times")
    assert times.rows == [
        ("first_response", 2, 120.0, 1200.0),
        ("resolution", 2, 3600.0, 4200.0),
        ("ticket_first_reply", 1, 1800.0, 1800.0),
    ]
    agents = await report(session, "agents")
    assert agents.rows == [(1, "Alice", 1, 120.0, 120.0, 1, 5.0),
                           (2, "Bob", 1, 1200.0, 1200.0, 1, 2.0)]

    # Open around the clock: c4 waited from 15:50 to 08:10 the next morning, 16 h 20 min.
    always = await report(session, "response_times", BusinessHours.parse(None, "Europe/Berlin"))
    assert always.rows[0] == ("first_response", 2, 120.0, 58800.0)


async def test_csv_has_the_table_and_neutralises_formulas(session: AsyncSession) -> None:
    await seed(session)
    csv_text = to_csv(await report(session, "conversations"))
    assert csv_text == (
        "date,conversations,escalated,bot_only\r\n2026-03-02,4,2,1\r\n2026-03-03,1,1,0\r\n"
    )
    agents = await report(session, "agents")
    agents.rows[0] = (1, "=HYPERLINK(1)", 1, None, None, 0, None)
    assert "\r\n1,'=HYPERLINK(1),1,,,0,\r\n" in to_csv(agents)


async def test_bad_period_and_unknown_report(session: AsyncSession) -> None:
    with pytest.raises(Invalid):
        make_period(first=date(2026, 3, 2), last=date(2026, 3, 1), timezone=HOURS.timezone)
    with pytest.raises(Invalid):
        make_period(first=date(2025, 1, 1), last=date(2026, 3, 1), timezone=HOURS.timezone)
    with pytest.raises(NotFound):
        await report(session, "nonsense")


def test_business_seconds_across_overnight_spans_and_holidays() -> None:
    overnight = BusinessHours.parse({"mon": "22:00-02:00"}, "UTC")
    # Monday 23:00 to Tuesday 03:00: open until 02:00, so three hours.
    night = clock_for(overnight, [(utc(2, 23), utc(3, 3))])
    assert night.between(utc(2, 23), utc(3, 3)) == 3 * 3600
    weekdays = BusinessHours.parse(
        {"tue": "09:00-17:00", "wed": "09:00-17:00"}, "UTC", holidays=[date(2026, 3, 3)]
    )
    # Tuesday is a holiday: from Tuesday 08:00 to Wednesday 10:00 only Wednesday's first hour.
    clock = clock_for(weekdays, [(utc(3, 8), utc(4, 10))])
    assert clock.between(utc(3, 8), utc(4, 10)) == 3600
    assert clock.between(utc(4, 10), utc(4, 9)) == 0  # an end before its start counts nothing
    assert percentile([], 50) is None
    assert [percentile([1.0, 2.0, 3.0, 4.0], p) for p in (50, 90, 100)] == [2.0, 4.0, 4.0]
