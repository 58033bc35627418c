"""Business hours: midnight, overnight spans, time zones, DST and holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from handoff.hours import BusinessHours, HoursError

WEEKDAYS_9_TO_5 = {d: "09:00-17:00" for d in ("mon", "tue", "wed", "thu", "fri")}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_open_inside_closed_outside_and_the_edges() -> None:
    hours = BusinessHours.parse(WEEKDAYS_9_TO_5, "UTC")
    # Monday 2026-11-23
    assert not hours.is_open(utc(2026, 11, 23, 8, 59))
    assert hours.is_open(utc(2026, 11, 23, 9, 0)), "opening minute is open"
    assert hours.is_open(utc(2026, 11, 23, 16, 59))
    assert not hours.is_open(utc(2026, 11, 23, 17, 0)), "closing minute is closed"


def test_after_friday_close_the_next_opening_is_monday_morning() -> None:
    hours = BusinessHours.parse(WEEKDAYS_9_TO_5, "UTC")
    friday_evening = utc(2026, 11, 27, 18, 30)
    assert hours.next_opening(friday_evening) == utc(2026, 11, 30, 9, 0)


def test_midnight_belongs_to_the_new_day() -> None:
    hours = BusinessHours.parse({"mon": "00:00-24:00", "tue": ""}, "UTC")
    assert hours.is_open(utc(2026, 11, 23, 0, 0))
    assert hours.is_open(utc(2026, 11, 23, 23, 59))
    assert not hours.is_open(utc(2026, 11, 24, 0, 0)), "Tuesday is closed from midnight"
    assert hours.next_opening(utc(2026, 11, 24, 0, 0)) == utc(2026, 11, 30, 0, 0)


def test_overnight_span_runs_past_midnight() -> None:
    hours = BusinessHours.parse({"fri": "22:00-02:00"}, "UTC")
    assert hours.is_open(utc(2026, 11, 27, 23, 0))
    assert hours.is_open(utc(2026, 11, 28, 1, 59)), "Saturday 01:59 is Friday's night shift"
    assert not hours.is_open(utc(2026, 11, 28, 2, 0))


def test_time_zone_decides_which_day_it_is() -> None:
    # 09:00-17:00 in Tokyo (UTC+9) is 00:00-08:00 UTC the same day.
    hours = BusinessHours.parse(WEEKDAYS_9_TO_5, "Asia/Tokyo")
    assert hours.is_open(utc(2026, 11, 23, 0, 0))  # Monday 09:00 in Tokyo
    assert not hours.is_open(utc(2026, 11, 23, 8, 0))  # Monday 17:00 in Tokyo
    # Sunday 23:30 UTC is already Monday 08:30 in Tokyo: opens in half an hour.
    assert hours.next_opening(utc(2026, 11, 22, 23, 30)) == utc(2026, 11, 23, 0, 0)
    # New York (UTC-5 in November): Monday 09:00 is 14:00 UTC.
    ny = BusinessHours.parse(WEEKDAYS_9_TO_5, "America/New_York")
    assert not ny.is_open(utc(2026, 11, 23, 13, 59))
    assert ny.is_open(utc(2026, 11, 23, 14, 0))


def test_opening_time_follows_daylight_saving() -> None:
    hours = BusinessHours.parse(WEEKDAYS_9_TO_5, "Europe/Berlin")
    # Berlin is UTC+1 in winter and UTC+2 in summer: 09:00 local moves in UTC.
    assert hours.next_opening(utc(2026, 1, 12, 0, 0)) == utc(2026, 1, 12, 8, 0)
    assert hours.next_opening(utc(2026, 7, 13, 0, 0)) == utc(2026, 7, 13, 7, 0)


def test_holidays_are_closed_all_day_in_local_time() -> None:
    hours = BusinessHours.parse(
        WEEKDAYS_9_TO_5, "Europe/Berlin", holidays=[date(2026, 12, 24), date(2026, 12, 25)]
    )
    assert not hours.is_open(utc(2026, 12, 24, 10, 0))
    # Wednesday 23 Dec after closing: Thursday and Friday are holidays, so Monday 28th.
    assert hours.next_opening(utc(2026, 12, 23, 17, 0)) == utc(2026, 12, 28, 8, 0)


def test_no_hours_means_around_the_clock() -> None:
    hours = BusinessHours.parse(None)
    assert hours.is_open(utc(2026, 12, 25, 3, 0))


def test_never_open_has_no_next_opening() -> None:
    hours = BusinessHours.parse({"mon": ""}, "UTC")
    assert hours.next_opening(utc(2026, 11, 23, 12, 0)) is None


@pytest.mark.parametrize(
    ("spec", "tz"),
    [
        ({"mon": "9-17"}, "UTC"),
        ({"mon": "09:00-25:00"}, "UTC"),
        ({"mon": "09:00-09:00"}, "UTC"),
        ({"funday": "09:00-17:00"}, "UTC"),
        ({"mon": "09:00-17:00"}, "Mars/Olympus_Mons"),
    ],
)
def test_bad_specifications_fail_fast(spec: dict[str, str], tz: str) -> None:
    with pytest.raises(HoursError):
        BusinessHours.parse(spec, tz)
