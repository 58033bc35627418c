"""Admin REST for the hours and widget section of /admin, the widget's public config, and the
live preview page the section frames.

Saved values override the environment's on every replica at once (handoff/service_settings.py);
DELETE goes back to the environment's values. The bubble reads its saved look from
GET /api/widget/config (public, cached, no database statement: it is this process's copy).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field, StringConstraints

from app.db import SessionDep
from app.headers import CONTENT_SECURITY_POLICY
from app.routes.pages import FORBIDDEN_PAGE, JS_MEDIA_TYPE, PAGE_CACHE_CONTROL
from app.security import PAGE_COOKIE, AdminDep, client_ip, login_for_token
from app.widget_bundle import WIDGET_DIR
from handoff import service_settings, texts, tickets
from handoff.hours import WEEKDAYS, HoursSettings, timezones
from handoff.models import utcnow
from handoff.service_settings import HOURS, PROMISE_ID, WIDGET, Current, WidgetLook

router = APIRouter(tags=["settings"])

# Visitors' bubbles pick a saved look up within a minute; revalidating costs a 304.
WIDGET_CONFIG_CACHE_CONTROL = "public, max-age=60, stale-while-revalidate=600"
# The preview page may be framed by our own pages only (the admin console), unlike every other
# page (app/headers.py keeps the headers a route set itself).
PREVIEW_CSP = CONTENT_SECURITY_POLICY.replace("frame-ancestors 'none'", "frame-ancestors 'self'")
PREVIEW_HEADERS = {
    "Content-Security-Policy": PREVIEW_CSP,
    "X-Frame-Options": "SAMEORIGIN",
    "Cache-Control": PAGE_CACHE_CONTROL,
}

Time = Annotated[str, StringConstraints(max_length=5)]
Short = Annotated[str, StringConstraints(max_length=100)]


class Span(BaseModel):
    open: Time = Field(examples=["09:00"])
    close: Time = Field(examples=["17:00"], description="after `open`; 24:00 at the latest")


class HoursIn(BaseModel):
    always_open: bool = Field(False, description="open around the clock: `days` are ignored")
    days: Annotated[dict[Short, list[Span]], Field(max_length=7)] = Field(
        description="per weekday (mon ... sun) its opening spans; none or absent: closed",
        examples=[{"mon": [{"open": "09:00", "close": "17:00"}], "sat": []}],
    )
    timezone: Short = Field(examples=["Europe/Berlin"], description="an IANA time zone name")
    holidays: Annotated[list[Short], Field(max_length=400)] = Field(
        default_factory=list, description="closed all day (YYYY-MM-DD)", examples=[["2025-12-25"]]
    )


class HoursSettingsOut(BaseModel):
    always_open: bool
    days: dict[str, list[Span]]
    timezone: str
    holidays: list[date]
    source: Literal["environment", "saved"]
    updated_at: datetime | None
    updated_by: int | None
    open_now: bool
    next_opening: datetime | None


class WidgetIn(BaseModel):
    title: Annotated[str, Field(max_length=200)] | None = None
    greeting: Annotated[str, Field(max_length=2000)] | None = None
    color: Annotated[str, Field(max_length=20, examples=["#2456d3"])] | None = None
    ticket_promise: Annotated[str, Field(max_length=2000)] | None = Field(
        None, description="the sentence a visitor reads when their chat becomes a ticket"
    )


class WidgetConfigOut(BaseModel):
    """The bubble's saved look; null: the bubble's default (the page's data-* still win)."""

    title: str | None
    greeting: str | None
    color: str | None


class WidgetSettingsOut(WidgetConfigOut):
    ticket_promise: str | None
    default_ticket_promise: str
    promise_placeholders: list[str]
    sample_when: str = Field(description="a reply time as a new ticket would promise it now")
    source: Literal["default", "saved"]
    updated_at: datetime | None
    updated_by: int | None


def _current(request: Request) -> Current:
    current: Current = request.app.state.service_settings
    return current


def _hours_out(current: Current) -> HoursSettingsOut:
    h: HoursSettings = current.hours_settings
    now = utcnow()
    return HoursSettingsOut(
        always_open=h.always_open,
        days={d: [Span(open=a, close=b) for a, b in h.days[d]] for d in WEEKDAYS},
        timezone=h.timezone,
        holidays=list(h.holidays),
        source="saved" if h.updated_at else "environment",
        updated_at=h.updated_at,
        updated_by=h.updated_by,
        open_now=current.hours.is_open(now),
        next_opening=current.hours.next_opening(now),
    )


def _widget_out(request: Request, look: WidgetLook) -> WidgetSettingsOut:
    routing = request.app.state.routing
    reply_by = tickets.promised_reply(routing=routing, now=utcnow())
    return WidgetSettingsOut(
        sample_when=texts.local_time(reply_by, routing.hours.timezone),
        title=look.title,
        greeting=look.greeting,
        color=look.color,
        ticket_promise=look.ticket_promise,
        default_ticket_promise=texts.EN[PROMISE_ID],
        promise_placeholders=texts.placeholders(PROMISE_ID),
        source="saved" if look.updated_at else "default",
        updated_at=look.updated_at,
        updated_by=look.updated_by,
    )


@router.get("/api/admin/settings/hours")
async def get_hours(admin: AdminDep, request: Request) -> HoursSettingsOut:
    """The business hours in force (saved, or the environment's) and whether we are open."""
    return _hours_out(_current(request))


@router.put("/api/admin/settings/hours")
async def save_hours(
    body: HoursIn, admin: AdminDep, session: SessionDep, request: Request
) -> HoursSettingsOut:
    """Save business hours: escalations on every replica use them at once (audited)."""
    current = _current(request)
    await service_settings.save_hours(
        session=session,
        bus=request.app.state.bus,
        current=current,
        always_open=body.always_open,
        days={d: [(s.open, s.close) for s in spans] for d, spans in body.days.items()},
        timezone=body.timezone,
        holidays=body.holidays,
        agent_id=admin.id,
        ip=client_ip(request),
    )
    return _hours_out(current)


@router.delete("/api/admin/settings/hours")
async def reset_hours(admin: AdminDep, session: SessionDep, request: Request) -> HoursSettingsOut:
    """Back to the environment's business hours (the saved ones are deleted; audited)."""
    current = _current(request)
    await service_settings.reset(
        session=session,
        bus=request.app.state.bus,
        current=current,
        key=HOURS,
        agent_id=admin.id,
        ip=client_ip(request),
    )
    return _hours_out(current)


@router.get("/api/admin/settings/timezones")
async def list_timezones(admin: AdminDep) -> list[str]:
    """Every IANA time zone name the server knows."""
    return list(timezones())


@router.get("/api/admin/settings/widget")
async def get_widget(admin: AdminDep, request: Request) -> WidgetSettingsOut:
    """The widget's saved look and ticket promise (null: the default)."""
    return _widget_out(request, _current(request).widget)


@router.put("/api/admin/settings/widget")
async def save_widget(
    body: WidgetIn, admin: AdminDep, session: SessionDep, request: Request
) -> WidgetSettingsOut:
    """Save the widget's title, greeting, colour (#rrggbb) and ticket promise (audited)."""
    look = await service_settings.save_widget(
        session=session,
        bus=request.app.state.bus,
        current=_current(request),
        title=body.title,
        greeting=body.greeting,
        color=body.color,
        ticket_promise=body.ticket_promise,
        agent_id=admin.id,
        ip=client_ip(request),
    )
    return _widget_out(request, look)


@router.delete("/api/admin/settings/widget")
async def reset_widget(
    admin: AdminDep, session: SessionDep, request: Request
) -> WidgetSettingsOut:
    """Back to the widget's defaults and our own ticket promise (audited)."""
    current = _current(request)
    await service_settings.reset(
        session=session,
        bus=request.app.state.bus,
        current=current,
        key=WIDGET,
        agent_id=admin.id,
        ip=client_ip(request),
    )
    return _widget_out(request, current.widget)


@router.get(
    "/api/widget/config",
    response_model=WidgetConfigOut,
    responses={
        200: {
            "headers": {
                "Cache-Control": {"schema": {"type": "string"}},
                "ETag": {"schema": {"type": "string"}},
                "Access-Control-Allow-Origin": {"schema": {"type": "string"}},
            }
        }
    },
)
async def widget_config(request: Request, response: Response) -> Any:
    """The bubble's saved look, for any site (public, cached; the page's data-* still win)."""
    look = _current(request).widget
    out = WidgetConfigOut(title=look.title, greeting=look.greeting, color=look.color)
    etag = '"' + hashlib.sha256(json.dumps(out.model_dump()).encode()).hexdigest()[:16] + '"'
    headers = {
        "Cache-Control": WIDGET_CONFIG_CACHE_CONTROL,
        "ETag": etag,
        "Access-Control-Allow-Origin": "*",  # the bubble runs on the customer's site
        "Vary": "Accept-Encoding",
    }
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return out


@router.get("/admin/widget-preview", include_in_schema=False, response_model=None)
async def preview_page(request: Request, session: SessionDep) -> Response:
    """The page the section frames: the real /widget.js with the admin's draft (admins only)."""
    login = await login_for_token(
        session=session, tokens=request.app.state.tokens, token=request.cookies.get(PAGE_COOKIE)
    )
    if login is None:
        return RedirectResponse("/agent?next=/admin", status_code=303)
    if not login.agent.is_admin:
        return HTMLResponse(FORBIDDEN_PAGE, status_code=403)
    return FileResponse(WIDGET_DIR / "widget-preview.html", headers=PREVIEW_HEADERS)


@router.get("/admin/widget-preview.js", include_in_schema=False)
async def preview_script() -> FileResponse:
    """The preview page's script: it loads /widget.js with the draft the console posts."""
    return FileResponse(
        WIDGET_DIR / "widget-preview.js",
        media_type=JS_MEDIA_TYPE,
        headers={"Cache-Control": PAGE_CACHE_CONTROL},
    )
