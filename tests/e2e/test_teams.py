"""Teams over real websockets (issue 16): an Orders question goes to the Orders agent first and
to anyone after the fallback time; the visitor's topic choice; an agent's transfer to a team."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.client import ChatClient, agent, visitor
from tests.conftest import TEST_KB, Server, make_settings, run_server
from tests.e2e.test_kb_admin import admin_token, rebuilt
from tests.e2e.test_routing import add_agent, assigned_to

TEAMS = {
    "shipping-cost": "Orders", "shipping-time": "Orders", "order-cancel": "Orders",
    "returns-policy": "Returns", "refund-time": "Returns",
}
FALLBACK_S = 0.5  # the fallback loop looks at it every FALLBACK_S / 4: quick, yet a real wait


@pytest.fixture
async def team_server(database_url: str) -> AsyncIterator[Server]:
    settings = make_settings(
        database_url, routing_mode="auto", team_fallback_s=FALLBACK_S, topic_choice=True
    )
    async with run_server(settings) as srv:
        yield srv


async def setup_teams(server: Server, http: httpx.AsyncClient) -> dict[str, Any]:
    """The test KB imported with its entries' teams; Ann (1 chat) in Orders, Bob (3) in Returns."""
    records = [json.loads(line) for line in TEST_KB.read_text().splitlines() if line.strip()]
    for r in records:
        if r["id"] in TEAMS:
            r["team"] = TEAMS[r["id"]]
    body = "".join(json.dumps(r) + "\n" for r in records)
    r = await http.post("/api/admin/kb/import", params={"format": "jsonl"}, content=body)
    assert r.status_code == 200, r.text
    await rebuilt(http, len(records))
    exported = (await http.get("/api/admin/kb/export", params={"format": "jsonl"})).text
    assert '"team": "Orders"' in exported, "the import kept each entry's team"
    ids = {}
    for name in ("Orders", "Returns"):
        r = await http.post("/api/admin/teams", json={"name": name})
        assert r.status_code == 201, r.text
        ids[name] = r.json()["id"]
    ann = await add_agent(server, "ann@x.io", "Ann", 1)
    bob = await add_agent(server, "bob@x.io", "Bob", 3)
    agents = (await http.get("/api/admin/agents")).json()
    by_name = {a["name"]: a["id"] for a in agents}
    for team, who in (("Orders", "Ann"), ("Returns", "Bob")):
        r = await http.put(f"/api/admin/teams/{ids[team]}/members/{by_name[who]}")
        assert r.status_code == 200 and r.json()["member_ids"] == [by_name[who]], r.text
    return {"teams": ids, "ann": ann, "bob": bob, "ids": by_name}


async def asks_for_a_person(server: Server, text: str) -> ChatClient:
    client, _ = await visitor(server)
    await client.say(text)
    return client


async def test_orders_go_to_the_orders_agent_then_to_anyone(team_server: Server) -> None:
    async with team_server.http(await admin_token(team_server)) as http:
        made = await setup_teams(team_server, http)
    ann = await agent(team_server, made["ann"])
    bob = await agent(team_server, made["bob"])
    question = "My parcel has not arrived, when will it arrive? I want to talk to a person"
    first = await asks_for_a_person(team_server, question)
    assert await assigned_to(first) == "Ann", "Bob has more room, but it is an Orders question"
    second = await asks_for_a_person(team_server, question)
    queued = await second.expect_type("state", state="queued")
    assert queued["queue_position"] == 1, "Ann is full: it waits for Orders first"
    assert await assigned_to(second) == "Bob", "after the fallback time anyone gets it"
    for c in (first, second, ann, bob):
        await c.close()


async def test_the_visitor_picks_a_topic_and_an_agent_transfers_to_a_team(
    team_server: Server,
) -> None:
    admin = await admin_token(team_server)
    async with team_server.http(admin) as http:
        made = await setup_teams(team_server, http)
    ann = await agent(team_server, made["ann"])
    bob = await agent(team_server, made["bob"])
    client, welcome = await visitor(team_server)
    topics = {t["name"]: t["id"] for t in welcome["topics"]}
    assert topics == made["teams"], "the welcome offers every team with members"
    await client.send({"type": "handoff", "client_msg_id": "h1", "team_id": topics["Orders"]})
    assert await assigned_to(client) == "Ann", "the visitor picked Orders"
    conversation_id = welcome["conversation_id"]

    async with team_server.http(made["ann"]) as http:
        listed = (await http.get("/api/agent/teams")).json()
        assert [t["name"] for t in listed] == ["Orders", "Returns"]
        r = await http.post(
            f"/api/agent/conversations/{conversation_id}/transfer",
            json={"to_team_id": topics["Returns"], "note": "a return, really"},
        )
        assert r.status_code == 200, r.text
        assert r.json()["assigned_agent_id"] == made["ids"]["Bob"]
        r = await http.post(
            f"/api/agent/conversations/{conversation_id}/transfer", json={"note": "nobody"}
        )
        assert r.status_code in (403, 422), "not Ann's chat any more; and no target given"
    said = await client.expect(lambda f: f.get("type") == "message" and "Returns" in f["text"])
    assert said["sender"] == "system"
    assert await assigned_to(client) == "Bob"
    await client.send({"type": "handoff", "client_msg_id": "h2", "team_id": 999999})
    refused = await client.expect_type("error")
    assert "topic" in refused["message"], refused
    for c in (client, ann, bob):
        await c.close()
