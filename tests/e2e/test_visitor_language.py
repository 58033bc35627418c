"""A Persian visitor over a real websocket: every sentence the server writes for them is
Persian, the ticket promise's date in Persian (Babel) and in the business's time zone."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date

from handoff import texts
from handoff.hours import WEEKDAYS
from handoff.locales import CATALOGUES
from tests.client import agent, visitor
from tests.conftest import Server, make_settings, run_server, seed_kb

TEHRAN = ZoneInfo("Asia/Tehran")
FA = CATALOGUES["fa"]
LATIN = re.compile(r"[A-Za-z]")


def system(f: dict) -> bool:
    return f.get("type") == "message" and f["sender"] == "system"


@pytest.fixture
async def closed_in_tehran(database_url: str) -> AsyncIterator[tuple[Server, datetime]]:
    """chatdesk in Tehran, closed now: open only the day after tomorrow, 09:00-17:00 local."""
    day = datetime.now(TEHRAN).date() + timedelta(days=2)
    await seed_kb(database_url)
    settings = make_settings(
        database_url,
        business_hours={WEEKDAYS[day.weekday()]: "09:00-17:00"},
        business_timezone="Asia/Tehran",
    )
    async with run_server(settings) as srv:
        yield srv, datetime.combine(day, time(9), TEHRAN)


async def test_a_persian_visitors_ticket_promise_is_persian_in_tehran_time(
    closed_in_tehran: tuple[Server, datetime],
) -> None:
    server, opening = closed_in_tehran
    client, welcome = await visitor(server, locale="fa")
    await client.say("می‌خواهم با یک کارشناس صحبت کنم")  # "I want to talk to an agent"
    promise = await client.expect(system)
    state = await client.expect_type("state", state="ticket")
    assert state["escalation_reason"] == "asked_for_human"
    assert datetime.fromisoformat(state["ticket"]["reply_by"]) == opening

    when = texts.local_time(opening, TEHRAN, "fa")
    assert promise["text"] == FA["ticket.opened"].format(
        why=FA["ticket.why.closed_now"], ticket_id=state["ticket"]["id"], when=when
    )
    # Babel's Persian: the weekday and month by name, 09:00 Tehran time, the zone named.
    assert format_date(opening, "EEEE", locale="fa") in when
    assert format_date(opening, "MMMM", locale="fa") in when
    assert "ساعت 9:00" in when and "(وقت عادی ایران)" in when
    assert not LATIN.search(promise["text"]), promise["text"]

    await client.send({"type": "email", "email": "dana@example.com"})
    saved = await client.expect(system)
    assert saved["text"] == FA["email.saved"].format(email="dana@example.com")
    await client.close()


async def test_a_persian_visitors_handover_is_persian_and_agents_see_the_language(
    server: Server,
) -> None:
    token = await server.create_agent(name="Alice")
    console = await agent(server, token)
    client, welcome = await visitor(server, locale="fa-IR")
    cid = welcome["conversation_id"]
    await client.send({"type": "handoff", "client_msg_id": "h1"})
    asked = await client.expect(lambda f: f.get("type") == "message" and f["sender"] == "visitor")
    assert asked["text"] == FA["visitor.asked_for_human"]
    queued = await client.expect(system)
    assert queued["text"] == FA["queue.joined"].format(position=1)

    async with server.http(token) as http:
        detail = (await http.get(f"/api/agent/conversations/{cid}")).json()
        assert detail["visitor"]["locale"] == "fa-IR"  # the console names it (language.js)
        assert (await http.post(f"/api/agent/conversations/{cid}/take")).status_code == 200
        joined = await client.expect(system)
        assert joined["text"] == FA["agent.joined"].format(agent="Alice")
        assert (await http.post(f"/api/agent/conversations/{cid}/close")).status_code == 200
    closed = await client.expect(system)
    rating = await client.expect(system)
    assert closed["text"] == FA["agent.closed"].format(agent="Alice")
    assert rating["text"] == FA["rating.request"]
    await client.close()
    await console.close()
