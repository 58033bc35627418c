"""Reports over REST (JSON and CSV) and the NPS question over a real websocket (issue 15)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from tests.client import agent, visitor
from tests.conftest import Server, make_settings, run_server, seed_kb
from tests.e2e.test_privacy import admin_token


@pytest.fixture
async def nps_server(database_url: str) -> AsyncIterator[Server]:
    await seed_kb(database_url)
    async with run_server(make_settings(database_url, nps_question=True)) as srv:
        yield srv


async def test_nps_after_the_stars_lands_in_the_reports(nps_server: Server) -> None:
    server = nps_server
    admin = await admin_token(server)
    console = await agent(server, admin)
    client, welcome = await visitor(server)
    cid = welcome["conversation_id"]
    await client.send({"type": "nps", "score": 9})
    assert (await client.expect_type("error"))["code"] == "conflict", "nothing closed yet"
    await client.send({"type": "handoff", "client_msg_id": "h1"})
    await client.expect_type("state", state="queued")
    async with server.http(admin) as http:
        assert (await http.post(f"/api/agent/conversations/{cid}/take")).status_code == 200
        assert (await http.post(f"/api/agent/conversations/{cid}/close")).status_code == 200
    await client.expect(lambda f: f.get("type") == "message"
                        and f["meta"].get("kind") == "rating_request")
    await client.send({"type": "rating", "stars": 5})
    assert (await client.expect_type("rating_saved"))["nps"] is True  # ask the second question
    await client.send({"type": "nps", "score": 11})
    assert (await client.expect_type("error"))["code"] == "invalid_frame"
    await client.send({"type": "nps", "score": 6})
    await client.expect_type("nps_saved")
    await client.send({"type": "nps", "score": 10})  # changed their mind: replaces it
    await client.expect_type("nps_saved")

    today = datetime.now(UTC).date().isoformat()
    period = {"from": today, "to": today}
    async with server.http(admin) as http:
        nps = (await http.get("/api/admin/reports/nps", params=period)).json()
        csat = await http.get("/api/admin/reports/csat.csv", params=period)
        same = await http.get("/api/admin/reports/csat", params={**period, "format": "csv"})
        esc = (await http.get("/api/admin/reports/escalations", params=period)).json()
        bad = await http.get("/api/admin/reports/nps", params={"from": today, "to": "2000-01-01"})
        unknown = await http.get("/api/admin/reports/nonsense")
    assert nps["summary"] == {"enabled": True, "answers": 1, "promoters": 1, "passives": 0,
                              "detractors": 0, "nps": 100.0}
    assert nps["rows"][10] == [10, 1]
    assert csat.headers["content-type"].startswith("text/csv")
    assert "attachment" in csat.headers["content-disposition"]
    assert csat.text == same.text
    assert list(csv.reader(io.StringIO(csat.text))) == [
        ["stars", "ratings"], ["1", "0"], ["2", "0"], ["3", "0"], ["4", "0"], ["5", "1"]]
    assert esc["rows"] == [["asked_for_human", 1, 1.0]]
    assert bad.status_code == 422 and unknown.status_code == 404
    for c in (client, console):
        await c.close()


async def test_nps_is_refused_when_switched_off(server: Server) -> None:
    token = await server.create_agent()
    console = await agent(server, token)
    client, welcome = await visitor(server)
    cid = welcome["conversation_id"]
    await client.send({"type": "handoff", "client_msg_id": "h1"})
    await client.expect_type("state", state="queued")
    async with server.http(token) as http:
        await http.post(f"/api/agent/conversations/{cid}/take")
        await http.post(f"/api/agent/conversations/{cid}/close")
        # Reports are for admins (and read keys): an agent gets 403.
        assert (await http.get("/api/admin/reports/csat")).status_code == 403
    await client.send({"type": "rating", "stars": 3})
    assert (await client.expect_type("rating_saved"))["nps"] is False  # one question only
    await client.send({"type": "nps", "score": 9})
    assert (await client.expect_type("error"))["code"] == "conflict"
    for c in (client, console):
        await c.close()
