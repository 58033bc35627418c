"""What the reports compute outside SQL: the period, durations in business hours, percentiles,
the CSV (handoff/reports.py runs the queries)."""

from __future__ import annotations

import csv
import io
import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from handoff.errors import Invalid
from handoff.hours import BusinessHours

MAX_PERIOD_DAYS = 366  # a year at most: the per-day series stays a few hundred points
# Spreadsheets run a cell that starts with one of these as a formula (CSV injection): such a
# text (an agent's name, an entry id) is written with a leading apostrophe.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Period:
    """From `first` to `last` (both included), days as the business time zone counts them."""

    first: date
    last: date
    timezone: ZoneInfo

    @property
    def utc_start(self) -> datetime:
        return datetime.combine(self.first, time(0), self.timezone).astimezone(UTC)

    @property
    def utc_end(self) -> datetime:
        """The instant after the period: the next day's local midnight."""
        return datetime.combine(self.last + timedelta(days=1), time(0), self.timezone).astimezone(
            UTC
        )

    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]


def make_period(*, first: date, last: date, timezone: ZoneInfo) -> Period:
    """A checked period: `last` not before `first`, at most MAX_PERIOD_DAYS days; else Invalid."""
    if last < first:
        raise Invalid(f"to ({last}) is before from ({first})")
    if (last - first).days + 1 > MAX_PERIOD_DAYS:
        raise Invalid(f"a report covers at most {MAX_PERIOD_DAYS} days")
    return Period(first, last, timezone)


class OpenClock:
    """Seconds within business hours between instants: the spans' prefix sums, one bisect each
    (in float seconds since 1970: tens of thousands of durations per report)."""

    def __init__(self, hours: BusinessHours, start: datetime, end: datetime) -> None:
        spans = hours.open_spans_between(start, end)
        self.starts = [a.timestamp() for a, _ in spans]
        self.ends = [b.timestamp() for _, b in spans]
        self.before: list[float] = []  # open seconds before each span
        total = 0.0
        for a, b in zip(self.starts, self.ends, strict=True):
            self.before.append(total)
            total += b - a

    def _at(self, t: float) -> float:
        i = bisect_right(self.starts, t) - 1
        if i < 0:
            return 0.0
        return self.before[i] + min(t, self.ends[i]) - self.starts[i]

    def between(self, start: datetime, end: datetime) -> float:
        """Open seconds from `start` to `end` (0 if `end` is not after `start`)."""
        return max(0.0, self._at(end.timestamp()) - self._at(start.timestamp()))


def clock_for(hours: BusinessHours, pairs: Sequence[tuple[datetime, datetime]]) -> OpenClock:
    """A clock covering every (start, end) pair."""
    if not pairs:
        now = datetime.now(UTC)
        return OpenClock(hours, now, now)
    return OpenClock(hours, min(a for a, _ in pairs), max(b for _, b in pairs))


def percentile(values: Sequence[float], p: int) -> float | None:
    """The nearest-rank p-th percentile of sorted values (None when there are none)."""
    if not values:
        return None
    return round(values[max(1, math.ceil(p * len(values) / 100)) - 1], 1)


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


@dataclass
class Report:
    """One report: a table (its columns and rows, as the CSV has them) and its headline figures."""

    name: str
    period: Period
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "report": self.name,
            "from": self.period.first.isoformat(),
            "to": self.period.last.isoformat(),
            "timezone": self.period.timezone.key,
            "summary": self.summary,
            "columns": list(self.columns),
            "rows": [[_json_cell(v) for v in row] for row in self.rows],
        }


def _json_cell(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(report: Report) -> str:
    """The report's table as CSV: a header row, then its rows (empty cell: no figure)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(report.columns)
    for row in report.rows:
        writer.writerow([_csv_cell(v) for v in row])
    return out.getvalue()
