"""The settings admins change in the console: validation, the environment's values as the
fallback, a saved row overriding them (at once, for escalations too), reset, the audit log, and
a second process's copy catching up from the bus event or the re-read."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import make_engine, make_read_sessionmaker
from bot import Reason
from handoff import audit, service_settings, texts
from handoff.errors import Invalid
from handoff.escalation import escalate
from handoff.events import SETTINGS_CHANNEL, conversation_channel
from handoff.hours import WEEKDAYS, BusinessHours, check_hours, hours_settings_from
from handoff.models import ServiceSetting, utcnow
from handoff.routing import Routing
from handoff.service_settings import HOURS, WIDGET, Current, check_widget
from handoff.states import ConversationState as S

NINE_TO_FIVE = {"mon": [("09:00", "17:00")], "tue": [("09:00", "12:00"), ("13:00", "17:30")]}
ENV = BusinessHours.parse({"mon": "08:00-16:00", "fri": "22:00-02:00"}, "Europe/Berlin")


def problems(**hours: object) -> str:
    values: dict[str, object] = {"always_open": False, "days": {}, "timezone": "UTC"}
    with pytest.raises(Invalid) as caught:
        check_hours(**{"holidays": [], **values, **hours})  # type: ignore[arg-type]
    return str(caught.value)


def test_hours_are_validated_with_every_problem_named() -> None:
    assert "mon: closes at 09:00, not after it opens at 17:00" in problems(
        days={"mon": [("17:00", "09:00")]}
    )
    assert "opening time '25:00' is not a time" in problems(days={"tue": [("25:00", "26:00")]})
    assert "closing time '9am'" in problems(days={"tue": [("08:00", "9am")]})
    assert "wed: opening spans overlap at 11:00" in problems(
        days={"wed": [("09:00", "12:00"), ("11:00", "14:00")]}
    )
    assert "unknown weekday(s) funday" in problems(days={"funday": []})
    assert "unknown time zone 'Mars/Olympus'" in problems(timezone="Mars/Olympus")
    assert "holiday '2025-02-30' is not a real date" in problems(holidays=["2025-02-30"])
    assert "holiday 'next friday'" in problems(holidays=["next friday"])
    both = problems(days={"mon": [("17:00", "09:00")]}, timezone="Nowhere")
    assert "mon: closes" in both and "unknown time zone" in both


def test_valid_hours_keep_their_meaning() -> None:
    checked = check_hours(
        always_open=False,
        days=NINE_TO_FIVE | {"sun": [("00:00", "24:00")]},
        timezone="Europe/Berlin",
        holidays=["2030-12-26", "2030-12-25", "2030-12-25"],
    )
    assert checked.holidays == (date(2030, 12, 25), date(2030, 12, 26))
    assert checked.days["wed"] == ()  # closed
    hours = checked.business_hours()
    assert hours.timezone.key == "Europe/Berlin"
    assert hours.weekly is not None and hours.weekly[0] == ((9 * 60, 17 * 60),)


def test_the_environment_shows_as_console_values_overnight_split() -> None:
    shown = hours_settings_from(ENV)
    assert not shown.always_open and shown.timezone == "Europe/Berlin"
    assert shown.days["mon"] == (("08:00", "16:00"),)
    assert shown.days["fri"] == (("22:00", "24:00"),)
    assert shown.days["sat"] == (("00:00", "02:00"),)
    assert hours_settings_from(BusinessHours()).always_open


def test_the_widget_look_is_validated() -> None:
    look = check_widget(
        title=" Help ", greeting="Hi!\nAsk away.", color="#AABBCC", ticket_promise=""
    )
    assert (look.title, look.greeting, look.color, look.ticket_promise) == (
        "Help", "Hi!\nAsk away.", "#aabbcc", None
    )
    for bad, expected in [
        ({"color": "red"}, "colour 'red': use #rrggbb"),
        ({"color": "#12345"}, "use #rrggbb"),
        ({"title": "x" * 61}, "title: at most 60"),
        ({"title": "two\nlines"}, "title: no control characters or line breaks"),
        ({"greeting": "bell\x07"}, "greeting: no control characters"),
        ({"ticket_promise": "We reply soon."}, "must contain {when}"),
        ({"ticket_promise": "By {when} ({name})"}, "unknown placeholder {name}"),
        ({"ticket_promise": "By {when.__class__}"}, "unknown placeholder {when.__class__}"),
        ({"ticket_promise": "By {when"}, "literal brace"),
    ]:
        values: dict[str, str | None] = dict.fromkeys(service_settings.WIDGET_FIELDS)
        with pytest.raises(Invalid, match=expected.replace("{", r"\{").replace("(", r"\(")):
            check_widget(**(values | bad))  # type: ignore[arg-type]


async def test_no_row_means_the_environment_and_a_saved_row_overrides_it(
    session: AsyncSession, bus
) -> None:
    current = Current(ENV)
    assert await service_settings.refresh(session=session, current=current) is False
    assert current.hours_settings.updated_at is None
    assert current.hours.current is ENV

    saved = await service_settings.save_hours(
        session=session, bus=bus, current=current, always_open=False, days=NINE_TO_FIVE,
        timezone="America/New_York", holidays=["2030-07-04"], agent_id=None, ip="10.0.0.1",
    )
    assert saved.timezone == "America/New_York" and saved.updated_at is not None
    assert current.hours.timezone.key == "America/New_York"  # in force here at once
    row = await session.get(ServiceSetting, HOURS)
    assert row is not None and row.value["days"]["mon"] == [["09:00", "17:00"]]

    # A fresh process (another replica) reads the row at start-up.
    other = Current(ENV)
    assert await service_settings.refresh(session=session, current=other) is True
    assert other.hours_settings == saved
    assert other.hours.current == saved.business_hours()

    [event] = await audit.recent(session=session, action="settings_hours_saved")
    assert event.ip == "10.0.0.1" and event.detail["timezone"] == "America/New_York"


async def test_reset_deletes_the_row_and_the_environment_applies_again(
    session: AsyncSession, bus
) -> None:
    current = Current(ENV)
    await service_settings.save_hours(
        session=session, bus=bus, current=current, always_open=True, days={},
        timezone="UTC", holidays=[], agent_id=None,
    )
    assert current.hours.current.weekly is None
    await service_settings.reset(
        session=session, bus=bus, current=current, key=HOURS, agent_id=None
    )
    assert await session.scalar(select(ServiceSetting)) is None
    assert current.hours.current == ENV and current.hours_settings.updated_at is None
    assert [e.action for e in await audit.recent(session=session)] == [
        "settings_hours_reset", "settings_hours_saved"
    ]
    with pytest.raises(Invalid):
        await service_settings.reset(
            session=session, bus=bus, current=current, key="x", agent_id=None
        )


async def test_a_refused_change_stores_nothing(session: AsyncSession, bus) -> None:
    current = Current(ENV)
    heard = bus.subscribe()
    heard.add(SETTINGS_CHANNEL)
    with pytest.raises(Invalid):
        await service_settings.save_hours(
            session=session, bus=bus, current=current, always_open=False,
            days={"mon": [("17:00", "09:00")]}, timezone="UTC", holidays=[], agent_id=None,
        )
    with pytest.raises(Invalid):
        await service_settings.save_widget(
            session=session, bus=bus, current=current, title=None, greeting=None,
            color="blue", ticket_promise=None, agent_id=None,
        )
    assert await session.scalar(select(ServiceSetting)) is None
    assert await audit.recent(session=session) == []
    assert heard.pending() == 0 and current.hours.current is ENV


async def test_saved_hours_and_promise_reach_the_next_escalation_at_once(
    session: AsyncSession, bus, new_agent, new_chat, listen
) -> None:
    await new_agent("Ann")  # online: while we are open, escalations join the queue
    current = Current(BusinessHours())  # the environment: around the clock
    routing = Routing(auto_assign=False, hours=current.hours)
    first = await new_chat()
    human = Reason.ASKED_FOR_HUMAN
    await escalate(session=session, bus=bus, conv=first, reason=human, routing=routing)
    assert first.state == S.QUEUED

    later = WEEKDAYS[(utcnow().weekday() + 2) % 7]  # open then, closed today
    await service_settings.save_hours(
        session=session, bus=bus, current=current, always_open=False,
        days={later: [("09:00", "17:00")]}, timezone="UTC", holidays=[], agent_id=None,
    )
    await service_settings.save_widget(
        session=session, bus=bus, current=current, title=None, greeting=None, color=None,
        ticket_promise="{why}. Ticket {ticket_id}: we answer by {when}.", agent_id=None,
    )
    second = await new_chat()
    visitor = listen(conversation_channel(second.id))
    await escalate(session=session, bus=bus, conv=second, reason=human, routing=routing)
    assert second.state == S.TICKET
    [said] = [e["text"] for e in visitor.events("message")]
    why = texts.text("ticket.why.closed_now")
    assert said.startswith(f"{why}. Ticket ") and "we answer by" in said
    assert "9:00\u202fAM (Coordinated Universal Time)" in said

    # Reset: our own wording again.
    await service_settings.reset(
        session=session, bus=bus, current=current, key=WIDGET, agent_id=None
    )
    assert current.hours.promise is None and current.widget.title is None


async def test_another_process_follows_the_bus_event(
    session: AsyncSession, bus, database_url: str
) -> None:
    engine = make_engine(database_url)
    replica = Current(ENV)
    follower = asyncio.create_task(
        service_settings.follow_forever(
            sessions=make_read_sessionmaker(engine), bus=bus, current=replica
        )
    )
    try:
        here = Current(ENV)
        await service_settings.save_widget(
            session=session, bus=bus, current=here, title="Help desk", greeting=None,
            color="#112233", ticket_promise=None, agent_id=None,
        )
        for _ in range(100):  # the event, not the POLL_S re-read: well inside a second
            if replica.widget.title == "Help desk":
                break
            await asyncio.sleep(0.01)
        assert replica.widget == here.widget
    finally:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower
        await engine.dispose()


async def test_an_unusable_saved_row_falls_back_to_the_environment(session: AsyncSession) -> None:
    gone = {"always_open": False, "days": {}, "timezone": "X/Y", "holidays": []}
    session.add(ServiceSetting(key=HOURS, value=gone))
    await session.commit()
    current = Current(ENV)
    await service_settings.refresh(session=session, current=current)
    assert current.hours.current == ENV
    assert await service_settings.refresh(session=session, current=current) is False  # said once
