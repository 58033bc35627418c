"""Admins edit the knowledge base over REST; the bot answers from the change without a restart."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from app.db import make_engine, make_sessionmaker
from handoff import agents
from tests.client import visitor
from tests.conftest import AGENT_PASSWORD, Server

BIKES = {
    "id": "bikes-sold",
    "question": "Do you sell bicycles?",
    "variants": ["Can I buy a bike from you?", "Do you have mountain bikes?"],
    "answer": "Yes: our bikes are at https://shop.example.com/bikes.",
}


async def admin_token(server: Server) -> str:
    engine = make_engine(server.settings.database_url)
    try:
        async with make_sessionmaker(engine)() as s:
            await agents.create_agent(
                session=s, email="admin@example.com", name="Ada", password=AGENT_PASSWORD,
                is_admin=True,
            )
    finally:
        await engine.dispose()
    async with server.http() as http:
        r = await http.post(
            "/api/agent/login", json={"email": "admin@example.com", "password": AGENT_PASSWORD}
        )
        return str(r.json()["token"])


async def rebuilt(http: httpx.AsyncClient, entries: int) -> dict[str, Any]:
    """Wait until the bot answers from a knowledge base of `entries` entries."""
    for _ in range(300):
        status = (await http.get("/api/admin/kb/status")).json()
        if status["entries"] == entries and not status["building"]:
            return dict(status)
        await asyncio.sleep(0.1)
    raise AssertionError(f"bot never rebuilt: {status}")


async def ask(server: Server, text: str) -> dict[str, Any]:
    client, _ = await visitor(server)
    await client.say(text)
    reply = await client.expect(
        lambda f: f.get("type") == "message" and f["sender"] in ("bot", "system")
    )
    await client.close()
    return reply


async def test_new_entry_is_answered_without_a_restart(server: Server) -> None:
    before = await ask(server, "do you have mountain bikes for sale?")
    assert before["meta"].get("entry_id") != "bikes-sold"

    async with server.http(await admin_token(server)) as http:
        r = await http.post("/api/admin/kb", json=BIKES)
        assert r.status_code == 201, r.text
        status = await rebuilt(http, entries=9)
        assert status["thresholds"]["answer"] > 0

    after = await ask(server, "do you have mountain bikes for sale?")
    assert after["meta"]["entry_id"] == "bikes-sold"
    assert "https://shop.example.com/bikes" in after["text"]


async def test_edit_variants_and_delete(server: Server) -> None:
    async with server.http(await admin_token(server)) as http:
        assert (await http.post("/api/admin/kb", json=BIKES)).status_code == 201
        r = await http.put(
            "/api/admin/kb/bikes-sold",
            json={"question": "Do you sell bicycles?", "answer": "Only e-bikes, sorry."},
        )
        assert r.json()["answer"] == "Only e-bikes, sorry."
        assert len(r.json()["variants"]) == 2, "variants kept when not given"

        added = await http.post("/api/admin/kb/bikes-sold/variants", json={"text": "e-bike?"})
        assert added.status_code == 201
        entry = (await http.get("/api/admin/kb/bikes-sold")).json()
        assert [v["text"] for v in entry["variants"]][-1] == "e-bike?"
        gone = await http.delete(f"/api/admin/kb/bikes-sold/variants/{added.json()['id']}")
        assert gone.status_code == 204
        assert len((await http.get("/api/admin/kb/bikes-sold")).json()["variants"]) == 2

        assert (await http.delete("/api/admin/kb/bikes-sold")).status_code == 204
        assert (await http.get("/api/admin/kb/bikes-sold")).status_code == 404
        await rebuilt(http, entries=8)


async def test_bad_input_is_refused_and_nothing_is_lost(server: Server) -> None:
    async with server.http(await admin_token(server)) as http:
        before = (await http.get("/api/admin/kb")).json()
        assert len(before) == 8
        bad = [
            {**BIKES, "id": "has spaces/and slashes"},
            {**BIKES, "question": "   "},
            {**BIKES, "answer": ""},
            {"id": "x", "question": "q"},
        ]
        for body in bad:
            assert (await http.post("/api/admin/kb", json=body)).status_code == 422, body
        dup = await http.post("/api/admin/kb", json={**BIKES, "id": "shipping-cost"})
        assert dup.status_code == 409
        assert (await http.delete("/api/admin/kb/no-such-entry")).status_code == 404
        assert (await http.get("/api/admin/kb")).json() == before


async def test_only_admins_edit_the_knowledge_base(server: Server) -> None:
    token = await server.create_agent()  # an ordinary agent
    async with server.http(token) as http:
        assert (await http.post("/api/admin/kb", json=BIKES)).status_code == 403
        assert (await http.get("/api/admin/kb")).status_code == 403
    async with server.http() as anonymous:
        assert (await anonymous.get("/api/admin/kb")).status_code == 401
