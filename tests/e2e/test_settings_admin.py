"""The hours and widget settings over real HTTP and websockets: an admin's change reaches the
next escalation at once, on this replica and on another one (Redis bus); clear 422s; the
widget's public config; the preview page's own framing rule."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.security import PAGE_COOKIE
from handoff.hours import WEEKDAYS
from tests.client import ChatClient, agent, visitor
from tests.conftest import Server, make_settings, run_server, seed_kb
from tests.e2e.test_privacy import admin_token
from tests.scale.conftest import REDIS_URL, redis_up

AT_NINE = "9:00\u202fAM (Coordinated Universal Time)"  # the promise, as Babel writes it in English

HOURS, WIDGET = "/api/admin/settings/hours", "/api/admin/settings/widget"


def closed_today() -> dict[str, Any]:
    """Open only two days from now, 09:00-17:00 UTC: closed right now."""
    later = WEEKDAYS[(datetime.now(UTC).date() + timedelta(days=2)).weekday()]
    return {"days": {later: [{"open": "09:00", "close": "17:00"}]}, "timezone": "UTC"}


async def escalation(server: Server) -> tuple[str, str]:
    """A new visitor asks for a person: the state it lands in and what the system said."""
    client, _ = await visitor(server)
    try:
        await client.send({"type": "handoff", "client_msg_id": "h1"})
        said = await client.expect(
            lambda f: f.get("type") == "message" and f["sender"] == "system"
        )
        state = await client.expect(lambda f: f.get("type") == "state" and f["state"] != "bot")
        return str(state["state"]), str(said["text"])
    finally:
        await client.close()


async def test_saved_hours_turn_the_next_escalation_into_a_ticket(server: Server) -> None:
    token = await admin_token(server)
    console: ChatClient = await agent(server, token)  # online: escalations join the queue
    try:
        assert (await escalation(server))[0] == "queued"
        async with server.http(token) as http:
            before = (await http.get(HOURS)).json()
            assert before["source"] == "environment" and before["always_open"]
            r = await http.put(HOURS, json=closed_today())
            assert r.status_code == 200, r.text
            assert r.json()["source"] == "saved" and r.json()["open_now"] is False
            hours = (await http.get("/api/agent/hours")).json()
            assert hours["open_now"] is False and hours["next_opening"] is not None

            state, said = await escalation(server)
            assert state == "ticket" and "closed" in said and AT_NINE in said

            r = await http.put(WIDGET, json={"ticket_promise": "Ticket {ticket_id}: by {when}."})
            assert r.status_code == 200, r.text
            state, said = await escalation(server)
            assert said.startswith("Ticket ") and said.endswith(AT_NINE + ".")

            r = await http.delete(HOURS)
            assert r.json()["source"] == "environment" and r.json()["open_now"] is True
            assert (await http.get("/api/agent/hours")).json()["open_now"] is True
            assert (await escalation(server))[0] == "queued"
            actions = {e["action"] for e in (await http.get("/api/admin/audit")).json()}
            assert {"settings_hours_saved", "settings_widget_saved"} <= actions
            assert "settings_hours_reset" in actions
    finally:
        await console.close()


async def test_bad_values_get_clear_422s(server: Server) -> None:
    token = await admin_token(server)
    async with server.http(token) as http:
        r = await http.put(
            HOURS,
            json={
                "days": {"mon": [{"open": "17:00", "close": "09:00"}]},
                "timezone": "Mars/Olympus",
                "holidays": ["2025-02-30"],
            },
        )
        assert r.status_code == 422
        detail = r.json()["detail"]
        assert "mon: closes at 09:00, not after it opens at 17:00" in detail
        assert "unknown time zone 'Mars/Olympus'" in detail
        assert "holiday '2025-02-30' is not a real date" in detail
        r = await http.put(WIDGET, json={"color": "javascript:alert(1)", "ticket_promise": "{x}"})
        assert r.status_code == 422 and "use #rrggbb" in r.json()["detail"]
        assert "unknown placeholder {x}" in r.json()["detail"]
        assert (await http.get(HOURS)).json()["source"] == "environment"
        zones = (await http.get("/api/admin/settings/timezones")).json()
        assert "Europe/Berlin" in zones and zones == sorted(zones)


async def test_the_widget_config_is_public_cached_and_cross_origin(server: Server) -> None:
    token = await admin_token(server)
    async with server.http() as anonymous, server.http(token) as http:
        r = await anonymous.get("/api/widget/config")
        assert r.json() == {"title": None, "greeting": None, "color": None}
        await http.put(WIDGET, json={"greeting": "Hello from the console", "color": "#AA3300"})
        r = await anonymous.get("/api/widget/config")
        saved = {"title": None, "greeting": "Hello from the console", "color": "#aa3300"}
        assert r.json() == saved
        assert r.headers["access-control-allow-origin"] == "*"
        assert "max-age" in r.headers["cache-control"]
        etag = {"If-None-Match": r.headers["etag"]}
        again = await anonymous.get("/api/widget/config", headers=etag)
        assert again.status_code == 304
        # The preview page: admins only, framed by our own pages only.
        cookie = {"Cookie": f"{PAGE_COOKIE}={token}"}
        page = await anonymous.get("/admin/widget-preview", headers=cookie)
        assert page.status_code == 200 and "widget-preview.js" in page.text
        assert page.headers["x-frame-options"] == "SAMEORIGIN"
        assert "frame-ancestors 'self'" in page.headers["content-security-policy"]
        other = await anonymous.get("/admin")
        assert other.headers["x-frame-options"] == "DENY"
        openapi = (await anonymous.get("/openapi.json")).json()["paths"]
        documented = {HOURS, WIDGET, "/api/widget/config", "/api/admin/settings/timezones"}
        assert documented <= set(openapi)


async def test_another_replica_applies_a_change_at_once(database_url: str) -> None:
    if not redis_up():
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    await seed_kb(database_url)
    bus_url = f"{REDIS_URL}#test-{uuid.uuid4().hex[:8]}"
    settings = make_settings(database_url, bus_url=bus_url)
    async with run_server(settings) as a, run_server(settings) as b:
        token = await admin_token(a)
        console = await agent(b, token)
        try:
            assert (await escalation(b))[0] == "queued"
            async with a.http(token) as on_a, b.http(token) as on_b:
                assert (await on_a.put(HOURS, json=closed_today())).status_code == 200
                await on_a.put(WIDGET, json={"title": "Help desk"})
                # B hears both changes on the bus (two messages, each may land
                # later than the other): no waiting for its periodic re-read (10 s).
                for _ in range(250):
                    closed = (await on_b.get("/api/agent/hours")).json()["open_now"] is False
                    title = (await on_b.get("/api/widget/config")).json()["title"]
                    if closed and title == "Help desk":
                        break
                    await asyncio.sleep(0.02)
                assert closed and title == "Help desk"
                state, said = await escalation(b)
                assert state == "ticket" and "closed" in said
        finally:
            await console.close()
