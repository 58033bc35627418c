"""Business hours: weekly opening spans in a time zone, minus holidays.

Pure functions of the clock: no database, no I/O. A day's spec is "09:00-17:00", several spans
"09:00-12:00,13:00-17:30", "" (closed), "00:00-24:00" (all day) or an overnight span like
"22:00-02:00" which runs past midnight into the next day. The admin console edits them as
`HoursSettings` (`check_hours` validates them); handoff/service_settings.py stores those.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from handoff.errors import Invalid

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60
# How far ahead we look for the next opening: a year covers any holiday list we accept.
SEARCH_DAYS = 366 + 7
MAX_SPANS_PER_DAY = 4  # "09:00-12:00, 13:00-17:00" and a few more; not a timetable
MAX_HOLIDAYS = 200  # next_opening looks a year ahead: a longer list could hide every opening
TIME_RE = re.compile(r"^\d{2}:\d{2}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
Span = tuple[str, str]  # ("09:00", "17:00"): opens, closes; closes after it opens, 24:00 at most


class HoursError(ValueError):
    """A business-hours specification that cannot be understood."""


def _minutes(text: str) -> int:
    try:
        hh, mm = text.strip().split(":")
        hours, minutes = int(hh), int(mm)
    except ValueError as exc:
        raise HoursError(f"bad time {text!r}: use HH:MM") from exc
    if not (0 <= minutes < 60 and 0 <= hours <= 24) or (hours == 24 and minutes):
        raise HoursError(f"bad time {text!r}: use 00:00 to 24:00")
    return hours * 60 + minutes


def parse_day(spec: str) -> tuple[tuple[int, int], ...]:
    """Spans of one weekday as (start, end) minutes after local midnight; end may pass 24:00."""
    spans = []
    for part in spec.split(","):
        if not part.strip():
            continue
        try:
            start_s, end_s = part.split("-")
        except ValueError as exc:
            raise HoursError(f"bad span {part!r}: use HH:MM-HH:MM") from exc
        start, end = _minutes(start_s), _minutes(end_s)
        if start == end:
            raise HoursError(f"empty span {part!r}")
        if end < start:
            end += MINUTES_PER_DAY  # overnight: runs into the next day
        spans.append((start, end))
    return tuple(sorted(spans))


@dataclass(frozen=True)
class BusinessHours:
    """When people answer. `weekly is None` means around the clock (the embedded default)."""

    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    weekly: tuple[tuple[tuple[int, int], ...], ...] | None = None
    holidays: frozenset[date] = frozenset()

    @classmethod
    def parse(
        cls,
        weekly: Mapping[str, str] | None,
        timezone: str = "UTC",
        holidays: Iterable[date] = (),
    ) -> BusinessHours:
        """Build from settings-style values; HoursError on anything malformed."""
        try:
            tz = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise HoursError(f"unknown time zone {timezone!r}") from exc
        if weekly is None:
            return cls(timezone=tz, weekly=None, holidays=frozenset(holidays))
        unknown = set(weekly) - set(WEEKDAYS)
        if unknown:
            raise HoursError(f"unknown weekday(s) {sorted(unknown)}: use {', '.join(WEEKDAYS)}")
        days = tuple(parse_day(weekly.get(day, "")) for day in WEEKDAYS)
        return cls(timezone=tz, weekly=days, holidays=frozenset(holidays))

    def _spans_from(self, local_day: date) -> Iterable[tuple[datetime, datetime]]:
        """Opening spans (UTC) starting on local_day and the days after, in order."""
        assert self.weekly is not None
        for offset in range(SEARCH_DAYS):
            day = local_day + timedelta(days=offset)
            if day in self.holidays:
                continue
            midnight = datetime.combine(day, time(0), self.timezone)
            for start, end in self.weekly[day.weekday()]:
                # Wall-clock arithmetic, then to UTC: "09:00" stays 09:00 across DST changes.
                yield (
                    _wall(midnight, start).astimezone(UTC),
                    _wall(midnight, end).astimezone(UTC),
                )

    def next_opening(self, at: datetime) -> datetime | None:
        """`at` itself if open then, else when we next open (UTC); None if never."""
        if self.weekly is None:
            return at
        # Start a day early: yesterday's overnight span may still be running.
        local_day = at.astimezone(self.timezone).date() - timedelta(days=1)
        for start, end in self._spans_from(local_day):
            if start <= at < end:
                return at
            if start > at:
                return start
        return None

    def is_open(self, at: datetime) -> bool:
        """Whether `at` falls inside opening hours."""
        return self.next_opening(at) == at

    def open_spans(self, at: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Opening spans (UTC) from `at` on, in order, never overlapping; the first may start
        at `at` itself. Around the clock: one span as long as the search horizon."""
        if self.weekly is None:
            yield at, at + timedelta(days=SEARCH_DAYS)
            return
        cursor = at
        for start, end in self._spans_from(at.astimezone(self.timezone).date() - timedelta(days=1)):
            start = max(start, cursor)  # an overnight span may overlap the next day's first
            if end > start:
                yield start, end
                cursor = end
    def open_spans_between(
        self, start: datetime, end: datetime
    ) -> list[tuple[datetime, datetime]]:
        """The opening spans (UTC, merged, in order) that overlap [start, end) (reports)."""
        if self.weekly is None:
            return [(start, end)] if start < end else []
        merged: list[tuple[datetime, datetime]] = []
        day, last = start.astimezone(self.timezone).date() - timedelta(days=1), end.date()
        while day <= last + timedelta(days=1):
            if day not in self.holidays:
                midnight = datetime.combine(day, time(0), self.timezone)
                for a, b in self.weekly[day.weekday()]:
                    opens = _wall(midnight, a).astimezone(UTC)
                    closes = _wall(midnight, b).astimezone(UTC)
                    if closes > start and opens < end:
                        merged.append((opens, closes))
            day += timedelta(days=1)
        merged.sort()
        out: list[tuple[datetime, datetime]] = []
        for opens, closes in merged:  # an overnight span may run into the next day's first
            if out and opens <= out[-1][1]:
                out[-1] = (out[-1][0], max(out[-1][1], closes))
            else:
                out.append((opens, closes))
        return out


def _wall(midnight: datetime, minutes: int) -> datetime:
    day = midnight.date() + timedelta(days=minutes // MINUTES_PER_DAY)
    rest = minutes % MINUTES_PER_DAY
    return datetime.combine(day, time(rest // 60, rest % 60), midnight.tzinfo)


class LiveHours:
    """The business hours in force in this process, swapped whole when an admin saves new ones.

    Routing holds this one object for the process's life (handoff/service_settings.py keeps it
    current on every replica), so an escalation always reads the hours of this moment. It also
    carries the admin's wording of the ticket promise made from these hours, if they saved one.
    """

    def __init__(self, hours: BusinessHours, promise: str | None = None) -> None:
        self.current = hours
        self.promise = promise

    @property
    def timezone(self) -> ZoneInfo:
        return self.current.timezone

    def next_opening(self, at: datetime) -> datetime | None:
        """As BusinessHours.next_opening, for the hours in force now."""
        return self.current.next_opening(at)

    def is_open(self, at: datetime) -> bool:
        """As BusinessHours.is_open, for the hours in force now."""
        return self.current.is_open(at)

    def open_spans(self, at: datetime) -> Iterator[tuple[datetime, datetime]]:
        """As BusinessHours.open_spans, for the hours in force now."""
        return self.current.open_spans(at)


@lru_cache(maxsize=1)
def timezones() -> tuple[str, ...]:
    """Every IANA time zone name this system knows, sorted (read once: it scans tzdata)."""
    return tuple(sorted(available_timezones()))


@dataclass(frozen=True)
class HoursSettings:
    """Business hours as the console edits them; `updated_at` None: the environment's values."""

    always_open: bool
    days: Mapping[str, tuple[Span, ...]]  # every weekday of WEEKDAYS; no spans: closed
    timezone: str
    holidays: tuple[date, ...]
    updated_at: datetime | None = None
    updated_by: int | None = None

    def business_hours(self) -> BusinessHours:
        """The hours routing uses."""
        weekly = None
        if not self.always_open:
            weekly = {d: ",".join(f"{a}-{b}" for a, b in self.days[d]) for d in WEEKDAYS}
        return BusinessHours.parse(weekly, self.timezone, self.holidays)

    def stored(self) -> dict[str, Any]:
        """The row's JSON value."""
        return {
            "always_open": self.always_open,
            "days": {d: [list(s) for s in self.days[d]] for d in WEEKDAYS},
            "timezone": self.timezone,
            "holidays": [h.isoformat() for h in self.holidays],
        }


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def hours_settings_from(hours: BusinessHours) -> HoursSettings:
    """The environment's hours as the console shows them; an overnight span "22:00-02:00" is
    shown as 22:00-24:00 and 00:00-02:00 the next day."""
    days: dict[str, list[Span]] = {d: [] for d in WEEKDAYS}
    for i, spans in enumerate(hours.weekly or ()):
        for start, end in spans:
            days[WEEKDAYS[i]].append((_hhmm(start), _hhmm(min(end, MINUTES_PER_DAY))))
            if end > MINUTES_PER_DAY:
                days[WEEKDAYS[(i + 1) % 7]].append(("00:00", _hhmm(end - MINUTES_PER_DAY)))
    return HoursSettings(
        always_open=hours.weekly is None,
        days={d: tuple(sorted(s)) for d, s in days.items()},
        timezone=hours.timezone.key,
        holidays=tuple(sorted(hours.holidays)),
    )


def _time_or_none(text: str) -> int | None:
    if not TIME_RE.match(text):
        return None
    hh, mm = int(text[:2]), int(text[3:])
    if mm >= 60 or hh > 24 or (hh == 24 and mm):
        return None
    return hh * 60 + mm


def _day_problems(day: str, spans: Sequence[Sequence[str]]) -> list[str]:
    problems = []
    if len(spans) > MAX_SPANS_PER_DAY:
        problems.append(f"{day}: at most {MAX_SPANS_PER_DAY} opening spans a day")
    parsed = []
    for span in spans:
        if len(span) != 2:
            problems.append(f"{day}: a span is an opening and a closing time")
            continue
        opens, closes = _time_or_none(span[0]), _time_or_none(span[1])
        for name, text, value in (("opening", span[0], opens), ("closing", span[1], closes)):
            if value is None:
                problems.append(f"{day}: {name} time {text!r} is not a time from 00:00 to 24:00")
        if opens is not None and closes is not None:
            if closes <= opens:
                problems.append(f"{day}: closes at {span[1]}, not after it opens at {span[0]}")
            else:
                parsed.append((opens, closes))
    parsed.sort()
    for (_, end), (start, _) in zip(parsed, parsed[1:], strict=False):
        if start < end:
            problems.append(f"{day}: opening spans overlap at {_hhmm(start)}")
    return problems


def check_hours(
    *,
    always_open: bool,
    days: Mapping[str, Sequence[Sequence[str]]],
    timezone: str,
    holidays: Iterable[str],
) -> HoursSettings:
    """Validated hours, or Invalid naming every problem: times, spans, zone and dates."""
    problems = []
    unknown = sorted(set(days) - set(WEEKDAYS))
    if unknown:
        problems.append(f"unknown weekday(s) {', '.join(unknown)}: use {', '.join(WEEKDAYS)}")
    for day in WEEKDAYS:
        problems += _day_problems(day, days.get(day, ()))
    if timezone not in timezones():
        problems.append(f"unknown time zone {timezone!r}: use an IANA name like Europe/Berlin")
    dates = set()
    for text in holidays:
        try:
            if not DATE_RE.match(text):
                raise ValueError
            dates.add(date.fromisoformat(text))
        except ValueError:
            problems.append(f"holiday {text!r} is not a real date (YYYY-MM-DD)")
    if len(dates) > MAX_HOLIDAYS:
        problems.append(f"at most {MAX_HOLIDAYS} holidays")
    if problems:
        raise Invalid("; ".join(problems))
    checked = HoursSettings(
        always_open=always_open,
        days={d: tuple(sorted((a, b) for a, b in days.get(d, ()))) for d in WEEKDAYS},
        timezone=timezone,
        holidays=tuple(sorted(dates)),
    )
    try:
        checked.business_hours()
    except HoursError as exc:  # the checks above should have caught it; never store it
        raise Invalid(str(exc)) from exc
    return checked
