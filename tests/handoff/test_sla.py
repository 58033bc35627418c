"""SLA time arithmetic (handoff/sla.py): business time across closing hours, weekends,
holidays, overnight spans and pending periods; which clock runs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from handoff.hours import BusinessHours
from handoff.sla import Facts, Kind, Metric, SlaTargets, business_seconds, clock, due_at
from handoff.states import ConversationState as S

BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS_9_TO_5 = {d: "09:00-17:00" for d in ("mon", "tue", "wed", "thu", "fri")}
HOURS = BusinessHours.parse(WEEKDAYS_9_TO_5, "Europe/Berlin")
ALWAYS = BusinessHours()
MIN = 60
HOUR = 3600


def local(day: int, hh: int, mm: int = 0, month: int = 11) -> datetime:
    """A Berlin wall-clock moment in 2026 (30 Nov 2026 is a Monday), as UTC."""
    return datetime(2026, month, day, hh, mm, tzinfo=BERLIN).astimezone(UTC)


def test_only_opening_hours_count_across_a_weekend() -> None:
    friday, monday = local(27, 16, 30), local(30, 9, 30)
    assert business_seconds(HOURS, friday, monday) == 60 * MIN
    assert business_seconds(HOURS, monday, friday) == 0, "backwards is nothing, not negative"
    assert business_seconds(ALWAYS, friday, monday) == (monday - friday).total_seconds()


def test_a_clock_started_while_closed_counts_from_the_opening() -> None:
    saturday = local(28, 11)
    assert business_seconds(HOURS, saturday, local(30, 9, 5)) == 5 * MIN
    assert due_at(HOURS, saturday, 10 * MIN) == local(30, 9, 10)


def test_due_runs_over_the_close_into_the_next_business_day() -> None:
    assert due_at(HOURS, local(27, 16, 50), 20 * MIN) == local(30, 9, 10)
    assert due_at(HOURS, local(30, 10), 20 * MIN) == local(30, 10, 20), "same day when open"
    assert due_at(HOURS, local(27, 16, 50), 10 * MIN) == local(27, 17), "exactly at closing"
    assert due_at(ALWAYS, local(27, 16, 50), 20 * MIN) == local(27, 17, 10)


def test_holidays_do_not_count() -> None:
    hours = BusinessHours.parse(WEEKDAYS_9_TO_5, "Europe/Berlin", [date(2026, 11, 30)])
    assert business_seconds(hours, local(27, 16, 30), local(1, 9, 30, month=12)) == 60 * MIN
    assert due_at(hours, local(27, 16, 50), 20 * MIN) == local(1, 9, 10, month=12)


def test_a_pending_period_is_left_out() -> None:
    start = local(30, 9)
    pending = [(local(30, 10), local(30, 11))]
    assert business_seconds(HOURS, start, local(30, 12), pending) == 2 * HOUR
    assert due_at(HOURS, start, 2 * HOUR, pending) == local(30, 12)
    # Pending over the weekend: only Friday's half hour before it and Monday's after it count.
    over_weekend = [(local(27, 16, 30), local(30, 10))]
    assert business_seconds(HOURS, local(27, 16), local(30, 10, 15), over_weekend) == 45 * MIN
    assert due_at(HOURS, local(27, 16), 45 * MIN, over_weekend) == local(30, 10, 15)
    # Overlapping pauses count once; a pause before the start changes nothing.
    twice = [(local(30, 10), local(30, 11)), (local(30, 10, 30), local(30, 11, 30)),
             (local(27, 9), local(27, 10))]
    assert business_seconds(HOURS, start, local(30, 12), twice) == 90 * MIN


def test_a_pause_still_running_freezes_the_clock() -> None:
    start = local(30, 9)
    pending = [(local(30, 10), None)]
    assert business_seconds(HOURS, start, local(30, 16), pending) == HOUR
    assert due_at(HOURS, start, 2 * HOUR, pending) is None, "never due while waiting on them"


def test_overnight_spans_and_never_open() -> None:
    night = BusinessHours.parse({"mon": "22:00-02:00", "tue": "00:00-03:00"}, "UTC")
    monday_23 = datetime(2026, 11, 30, 23, tzinfo=UTC)
    # Monday's span runs into Tuesday's: 23:00 to 03:00 counts once, 4 hours.
    assert business_seconds(night, monday_23, monday_23 + timedelta(hours=5)) == 4 * HOUR
    closed = BusinessHours.parse({}, "UTC")
    assert due_at(closed, monday_23, MIN) is None
    assert business_seconds(closed, monday_23, monday_23 + timedelta(days=3)) == 0


TARGETS = SlaTargets(
    chat_first_response_s=2 * MIN,
    chat_next_response_s=5 * MIN,
    ticket_first_response_s=HOUR,
    ticket_next_response_s=None,
)


def test_which_clock_runs() -> None:
    handed, now = local(30, 9), local(30, 9, 3)
    first = clock(Facts(S.QUEUED, handed, None, None), hours=HOURS, targets=TARGETS, now=now)
    assert first is not None and (first.kind, first.metric) == (Kind.CHAT, Metric.FIRST_RESPONSE)
    assert first.due_at == local(30, 9, 2) and first.breached(now) and first.elapsed_s == 3 * MIN
    answered = Facts(S.ASSIGNED, handed, local(30, 9, 1), None)
    assert clock(answered, hours=HOURS, targets=TARGETS, now=now) is None, "the ball is theirs"
    again = Facts(S.ASSIGNED, handed, local(30, 9, 1), local(30, 9, 2))
    nxt = clock(again, hours=HOURS, targets=TARGETS, now=now)
    assert nxt is not None and nxt.metric == Metric.NEXT_RESPONSE
    assert nxt.started_at == local(30, 9, 2) and nxt.due_at == local(30, 9, 7)
    assert not nxt.breached(now)
    closed = Facts(S.CLOSED, handed, None, None)
    assert clock(closed, hours=HOURS, targets=TARGETS, now=now) is None, "closing stops it"
    with_bot = Facts(S.BOT, None, None, None)
    assert clock(with_bot, hours=HOURS, targets=TARGETS, now=now) is None


def test_a_ticket_clock_pauses_while_pending_and_may_have_no_target() -> None:
    handed = local(27, 16, 30)
    pending = Facts(S.TICKET, handed, None, None, pauses=[(local(27, 16, 45), None)])
    paused = clock(pending, hours=HOURS, targets=TARGETS, now=local(30, 12))
    assert paused is not None and paused.kind == Kind.TICKET and paused.paused
    assert paused.elapsed_s == 15 * MIN and paused.due_at is None
    assert not paused.breached(local(30, 12))
    resumed = Facts(S.TICKET, handed, None, None, pauses=[(local(27, 16, 45), local(30, 9))])
    running = clock(resumed, hours=HOURS, targets=TARGETS, now=local(30, 9, 45))
    assert running is not None and not running.paused
    assert running.due_at == local(30, 9, 45) and running.breached(local(30, 9, 45))
    # A pause from before this clock started (an earlier wait) does not touch it.
    earlier = [(local(27, 16, 45), local(30, 10))]
    later = Facts(S.TICKET, handed, local(27, 16, 40), local(30, 11), pauses=earlier)
    nxt = clock(later, hours=HOURS, targets=TARGETS, now=local(30, 12))
    assert nxt is not None and nxt.metric == Metric.NEXT_RESPONSE and not nxt.paused
    assert nxt.target_s is None and nxt.due_at is None and not nxt.breached(local(30, 12))
