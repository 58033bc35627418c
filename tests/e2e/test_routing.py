"""Routing over real websockets: capacity, longest idle, queue drain, manual mode, races."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.db import make_engine, make_sessionmaker
from handoff import agents
from tests.client import ChatClient, agent, visitor
from tests.conftest import AGENT_PASSWORD, Server, make_settings, run_server, seed_kb


async def add_agent(server: Server, email: str, name: str, capacity: int) -> str:
    """An agent with the given capacity; returns a login token."""
    engine = make_engine(server.settings.database_url)
    try:
        async with make_sessionmaker(engine)() as s:
            await agents.create_agent(
                session=s, email=email, name=name, password=AGENT_PASSWORD, capacity=capacity
            )
    finally:
        await engine.dispose()
    async with server.http() as http:
        r = await http.post("/api/agent/login", json={"email": email, "password": AGENT_PASSWORD})
        r.raise_for_status()
        return str(r.json()["token"])


@pytest.fixture
async def auto_server(database_url: str) -> AsyncIterator[Server]:
    await seed_kb(database_url)
    async with run_server(make_settings(database_url, routing_mode="auto")) as srv:
        yield srv


@pytest.fixture
async def manual_server(database_url: str) -> AsyncIterator[Server]:
    await seed_kb(database_url)
    async with run_server(make_settings(database_url, routing_mode="manual")) as srv:
        yield srv


async def escalated(server: Server) -> tuple[ChatClient, int, dict[str, Any]]:
    """A visitor who asked for a person; returns client, conversation id and first state."""
    client, welcome = await visitor(server)
    await client.send({"type": "handoff", "client_msg_id": "h1"})
    state = await client.expect(
        lambda f: f.get("type") == "state" and f["state"] in ("queued", "assigned", "ticket")
    )
    return client, welcome["conversation_id"], state


async def assigned_to(client: ChatClient) -> str:
    state = await client.expect_type("state", state="assigned")
    return str(state["agent"]["name"])


async def test_most_free_capacity_then_longest_idle(auto_server: Server) -> None:
    ann = await agent(auto_server, await add_agent(auto_server, "ann@x.io", "Ann", 1))
    bob = await agent(auto_server, await add_agent(auto_server, "bob@x.io", "Bob", 2))

    v1, _, _ = await escalated(auto_server)
    assert await assigned_to(v1) == "Bob", "Bob has two free slots, Ann one"
    v2, _, _ = await escalated(auto_server)
    assert await assigned_to(v2) == "Ann", "one free slot each: Ann has been idle longer"
    v3, _, _ = await escalated(auto_server)
    assert await assigned_to(v3) == "Bob", "Ann is full"
    v4, _, state = await escalated(auto_server)
    assert state["state"] == "queued" and state["queue_position"] == 1, "everyone is full"
    for c in (v1, v2, v3, v4, ann, bob):
        await c.close()


async def test_queue_drains_in_arrival_order_when_capacity_frees(auto_server: Server) -> None:
    token = await add_agent(auto_server, "ann@x.io", "Ann", 1)
    ann = await agent(auto_server, token)
    v1, c1, _ = await escalated(auto_server)
    assert await assigned_to(v1) == "Ann"
    v2, c2, s2 = await escalated(auto_server)
    v3, c3, s3 = await escalated(auto_server)
    assert (s2["queue_position"], s3["queue_position"]) == (1, 2)

    async with auto_server.http(token) as http:
        r = await http.post(f"/api/agent/conversations/{c1}/close")
        assert r.status_code == 200
    assert await assigned_to(v2) == "Ann", "the first in line gets the freed slot"
    moved_up = await v3.expect_type("state", state="queued", queue_position=1)
    assert moved_up["conversation_id"] == c3
    async with auto_server.http(token) as http:
        queued = (await http.get("/api/agent/conversations", params={"filter": "queued"})).json()
    assert [c["id"] for c in queued] == [c3]
    for c in (v1, v2, v3, ann):
        await c.close()


async def test_agent_coming_online_takes_the_waiting_chat(auto_server: Server) -> None:
    ann = await agent(auto_server, await add_agent(auto_server, "ann@x.io", "Ann", 1))
    v1, _, _ = await escalated(auto_server)
    assert await assigned_to(v1) == "Ann"
    v2, c2, state = await escalated(auto_server)
    assert state["state"] == "queued"
    bob = await agent(auto_server, await add_agent(auto_server, "bob@x.io", "Bob", 3))
    assert await assigned_to(v2) == "Bob"
    for c in (v1, v2, ann, bob):
        await c.close()


async def test_away_agents_get_no_chats_until_back(auto_server: Server) -> None:
    ann_token = await add_agent(auto_server, "ann@x.io", "Ann", 2)
    bob_token = await add_agent(auto_server, "bob@x.io", "Bob", 2)
    ann, bob = await agent(auto_server, ann_token), await agent(auto_server, bob_token)
    await ann.send({"type": "status", "status": "away"})
    await ann.expect_type("status", status="away")
    await ann.send({"type": "ping"})  # a heartbeat must not bring her back
    await ann.expect_type("pong")
    second_tab = await agent(auto_server, ann_token)  # nor does opening another console
    async with auto_server.http(ann_token) as http:
        roster = {a["name"]: a["status"] for a in (await http.get("/api/agent/agents")).json()}
    assert roster["Ann"] == "away"
    v1, _, _ = await escalated(auto_server)
    assert await assigned_to(v1) == "Bob"
    await bob.send({"type": "status", "status": "away"})
    await bob.expect_type("status", status="away")
    v2, _, state = await escalated(auto_server)
    assert state["state"] == "ticket", "nobody available: the visitor gets a ticket"
    await ann.send({"type": "status", "status": "online"})
    await ann.expect_type("status", status="online")
    v3, _, _ = await escalated(auto_server)
    assert await assigned_to(v3) == "Ann"
    for c in (v1, v2, v3, ann, second_tab, bob):
        await c.close()


async def test_manual_mode_leaves_chats_in_the_queue(manual_server: Server) -> None:
    token = await add_agent(manual_server, "ann@x.io", "Ann", 3)
    ann = await agent(manual_server, token)
    v1, c1, state = await escalated(manual_server)
    assert state["state"] == "queued"
    await ann.expect_type("conversation", conversation_id=c1, state="queued")
    async with manual_server.http(token) as http:
        queued = (await http.get("/api/agent/conversations", params={"filter": "queued"})).json()
    assert [c["id"] for c in queued] == [c1]
    await v1.close()
    await ann.close()


async def test_simultaneous_claims_exactly_one_wins(manual_server: Server) -> None:
    tokens = [
        await add_agent(manual_server, f"agent{i}@x.io", f"Agent {i}", 3) for i in range(4)
    ]
    consoles = [await agent(manual_server, t) for t in tokens]
    client, cid, _ = await escalated(manual_server)

    async def claim(token: str) -> int:
        async with manual_server.http(token) as http:
            return (await http.post(f"/api/agent/conversations/{cid}/take")).status_code

    codes = await asyncio.gather(*(claim(t) for t in tokens))
    assert sorted(codes) == [200, 409, 409, 409]
    winner = f"Agent {codes.index(200)}"
    assert await assigned_to(client) == winner
    await client.drain()
    joined = [m for m in client.messages() if m["meta"].get("kind") == "assigned"]
    assert len(joined) == 1, "the visitor is told about one agent, once"
    for c in (client, *consoles):
        await c.close()


async def test_visitor_sees_estimated_wait_from_recent_pickups(manual_server: Server) -> None:
    token = await add_agent(manual_server, "ann@x.io", "Ann", 5)
    ann = await agent(manual_server, token)
    v1, c1, s1 = await escalated(manual_server)
    assert s1["estimated_wait_s"] is None, "no pickups yet: no made-up estimate"
    async with manual_server.http(token) as http:
        assert (await http.post(f"/api/agent/conversations/{c1}/take")).status_code == 200
    v2, _, _ = await escalated(manual_server)
    v3, _, s3 = await escalated(manual_server)
    assert s3["queue_position"] == 2
    assert isinstance(s3["estimated_wait_s"], int) and s3["estimated_wait_s"] >= 0
    for c in (v1, v2, v3, ann):
        await c.close()
