"""Settings an admin changes in the console: business hours, and the widget's look and promise.

The environment's settings are the initial values; a row of `service_settings` (one per group:
"hours", "widget") overrides them on every replica, and resetting a group deletes its row. Each
process keeps the values in force in one `Current`: routing reads its `hours` (a LiveHours) on
every escalation, the widget's config endpoint its `widget`, so neither costs a statement. A
change is applied here at once, then announced on the bus; every replica re-reads the rows on
that event, and every POLL_S anyway (a replica that missed the event still catches up).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff import audit, texts
from handoff.bus import Bus, follow
from handoff.errors import Invalid
from handoff.events import SETTINGS_CHANNEL, settings_event
from handoff.hours import (
    BusinessHours,
    HoursError,
    HoursSettings,
    LiveHours,
    check_hours,
    hours_settings_from,
)
from handoff.models import ServiceSetting, utcnow

log = logging.getLogger(__name__)

HOURS, WIDGET = "hours", "widget"  # the groups, one row each
POLL_S = 10.0  # a replica that missed a change's bus event applies it this much later at most
TITLE_MAX, GREETING_MAX, PROMISE_MAX = 60, 500, 500  # what fits the panel's header and bubbles
PROMISE_ID = "ticket.opened"  # the sentence the ticket promise override rewords (handoff/texts.py)
COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
# Control characters never belong in a title, a greeting or a promise (a line break aside).
CONTROL_RE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class WidgetLook:
    """The bubble's title, greeting and colour and the ticket promise; None: the default."""

    title: str | None = None
    greeting: str | None = None
    color: str | None = None
    ticket_promise: str | None = None
    updated_at: datetime | None = None
    updated_by: int | None = None

    def stored(self) -> dict[str, Any]:
        """The row's JSON value."""
        return {
            "title": self.title,
            "greeting": self.greeting,
            "color": self.color,
            "ticket_promise": self.ticket_promise,
        }


def _text(name: str, value: str | None, limit: int, *, lines: bool) -> tuple[str | None, list[str]]:
    value = (value or "").strip()
    problems = []
    if len(value) > limit:
        problems.append(f"{name}: at most {limit} characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        problems.append(f"{name}: not valid text (a lone surrogate)")
    if CONTROL_RE.search(value) or (not lines and "\n" in value):
        problems.append(f"{name}: no control characters" + ("" if lines else " or line breaks"))
    return value or None, problems


def check_widget(
    *, title: str | None, greeting: str | None, color: str | None, ticket_promise: str | None
) -> WidgetLook:
    """A validated look (blank means the default), or Invalid naming every problem."""
    title, problems = _text("title", title, TITLE_MAX, lines=False)
    greeting, more = _text("greeting", greeting, GREETING_MAX, lines=True)
    problems += more
    promise, more = _text("ticket promise", ticket_promise, PROMISE_MAX, lines=True)
    problems += more
    if promise is not None:
        problems += [f"ticket promise: {p}" for p in texts.template_problems(PROMISE_ID, promise)]
    color = (color or "").strip() or None
    if color is not None and not COLOR_RE.match(color):
        problems.append(f"colour {color!r}: use #rrggbb, e.g. #2456d3")
    if problems:
        raise Invalid("; ".join(problems))
    return WidgetLook(
        title=title,
        greeting=greeting,
        color=color.lower() if color else None,
        ticket_promise=promise,
    )


@dataclass
class Current:
    """This process's copy of the settings in force. Built from the environment's hours; `hours`
    is the object the app's Routing holds, so a change reaches every escalation at once."""

    env_hours: BusinessHours
    hours: LiveHours = field(init=False)
    hours_settings: HoursSettings = field(init=False)
    widget: WidgetLook = field(default_factory=WidgetLook)
    seen: dict[str, tuple[datetime, Any]] = field(default_factory=dict)  # rows last applied

    def __post_init__(self) -> None:
        self.hours = LiveHours(self.env_hours)
        self.hours_settings = hours_settings_from(self.env_hours)

    def apply(self, key: str, row: ServiceSetting | None) -> None:
        """Put a group's row (None: deleted, the environment's values) in force."""
        if row is None:
            self.seen.pop(key, None)
        else:
            self.seen[key] = (row.updated_at, row.value)
        put = self._apply_hours if key == HOURS else self._apply_widget
        try:
            put(row)
        except (Invalid, HoursError, AttributeError, KeyError, TypeError, ValueError):
            # Stored by another version, or tzdata lost a zone: keep serving, say so (once).
            log.exception("saved %s settings are unusable; using the environment's", key)
            put(None)

    def _apply_hours(self, row: ServiceSetting | None) -> None:
        if row is None:  # the environment's own hours (an overnight span stays one span)
            self.hours.current = self.env_hours
            self.hours_settings = hours_settings_from(self.env_hours)
            return
        v = row.value
        chosen = check_hours(
            always_open=bool(v["always_open"]),
            days=v["days"],
            timezone=v["timezone"],
            holidays=v["holidays"],
        )
        self.hours.current = chosen.business_hours()
        self.hours_settings = _stamped(chosen, row)

    def _apply_widget(self, row: ServiceSetting | None) -> None:
        look = WidgetLook()
        if row is not None:
            look = _stamped(check_widget(**{k: row.value.get(k) for k in WIDGET_FIELDS}), row)
        self.widget = look
        self.hours.promise = look.ticket_promise


WIDGET_FIELDS = ("title", "greeting", "color", "ticket_promise")
T = TypeVar("T", HoursSettings, WidgetLook)


def _stamped(value: T, row: ServiceSetting) -> T:
    return replace(value, updated_at=row.updated_at, updated_by=row.updated_by)


async def refresh(*, session: AsyncSession, current: Current) -> bool:
    """Re-read the saved rows (one statement) and apply what changed; True if anything did."""
    rows = {r.key: r for r in (await session.scalars(select(ServiceSetting))).all()}
    changed = False
    for key in (HOURS, WIDGET):
        row = rows.get(key)
        stored = (row.updated_at, row.value) if row is not None else None
        if stored != current.seen.get(key):
            current.apply(key, row)
            changed = True
    return changed


async def follow_forever(
    *, sessions: async_sessionmaker[AsyncSession], bus: Bus, current: Current
) -> None:
    """Keep `current` in step with the saved rows: on every change event, and every POLL_S."""

    async def reread() -> None:
        async with sessions() as session:
            if await refresh(session=session, current=current):
                log.info("service settings changed: applied")

    await follow(bus, SETTINGS_CHANNEL, every_s=POLL_S, reread=reread, what="service settings")


async def _store(
    *, session: AsyncSession, key: str, value: dict[str, Any], agent_id: int | None
) -> ServiceSetting:
    """Insert or replace the group's row (one statement: two admins saving at once both win,
    the later one last)."""
    now = utcnow()
    dialect = (await session.connection()).dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    values = {"key": key, "value": value, "updated_at": now, "updated_by": agent_id}
    stmt = insert(ServiceSetting).values(**values)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[ServiceSetting.key],
            set_={"value": value, "updated_at": now, "updated_by": agent_id},
        )
    )
    return ServiceSetting(**values)


async def _changed(
    *, session: AsyncSession, bus: Bus, current: Current, key: str, row: ServiceSetting | None
) -> None:
    await session.commit()
    current.apply(key, row)  # this replica: at once, before the answer
    await bus.publish_after_commit(SETTINGS_CHANNEL, settings_event(key))


async def save_hours(
    *,
    session: AsyncSession,
    bus: Bus,
    current: Current,
    always_open: bool,
    days: Mapping[str, Sequence[Sequence[str]]],
    timezone: str,
    holidays: Iterable[str],
    agent_id: int | None,
    ip: str | None = None,
) -> HoursSettings:
    """Save business hours for every replica (audited); Invalid names every problem."""
    checked = check_hours(always_open=always_open, days=days, timezone=timezone, holidays=holidays)
    row = await _store(session=session, key=HOURS, value=checked.stored(), agent_id=agent_id)
    audit.record(session, "settings_hours_saved", agent_id=agent_id, ip=ip, **checked.stored())
    await _changed(session=session, bus=bus, current=current, key=HOURS, row=row)
    return current.hours_settings


async def save_widget(
    *,
    session: AsyncSession,
    bus: Bus,
    current: Current,
    title: str | None,
    greeting: str | None,
    color: str | None,
    ticket_promise: str | None,
    agent_id: int | None,
    ip: str | None = None,
) -> WidgetLook:
    """Save the widget's look and the ticket promise for every replica (audited)."""
    look = check_widget(title=title, greeting=greeting, color=color, ticket_promise=ticket_promise)
    row = await _store(session=session, key=WIDGET, value=look.stored(), agent_id=agent_id)
    audit.record(session, "settings_widget_saved", agent_id=agent_id, ip=ip, **look.stored())
    await _changed(session=session, bus=bus, current=current, key=WIDGET, row=row)
    return current.widget


async def reset(
    *,
    session: AsyncSession,
    bus: Bus,
    current: Current,
    key: str,
    agent_id: int | None,
    ip: str | None = None,
) -> None:
    """Back to the environment's values (the defaults) for group `key`: its row is deleted."""
    if key not in (HOURS, WIDGET):
        raise Invalid(f"unknown settings group {key!r}")
    await session.execute(delete(ServiceSetting).where(ServiceSetting.key == key))
    audit.record(session, f"settings_{key}_reset", agent_id=agent_id, ip=ip)
    await _changed(session=session, bus=bus, current=current, key=key, row=None)
