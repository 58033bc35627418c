"""Business hours: weekly opening spans in a time zone, minus holidays.

Pure functions of the clock: no database, no I/O. A day's spec is "09:00-17:00", several spans
"09:00-12:00,13:00-17:30", "" (closed), "00:00-24:00" (all day) or an overnight span like
"22:00-02:00" which runs past midnight into the next day.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60
# How far ahead we look for the next opening: a year covers any holiday list we accept.
SEARCH_DAYS = 366 + 7


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


def _wall(midnight: datetime, minutes: int) -> datetime:
    day = midnight.date() + timedelta(days=minutes // MINUTES_PER_DAY)
    rest = minutes % MINUTES_PER_DAY
    return datetime.combine(day, time(rest // 60, rest % 60), midnight.tzinfo)
