"""The misses inbox end to end (issue 15): a visitor asks, the bot misses, an admin acts in the
inbox, and the next visitor asking the same gets the answer; undo puts it all back."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.client import agent, visitor
from tests.conftest import Server
from tests.e2e.test_kb_admin import admin_token

VOUCHER = "can I buy a gift voucher?"  # the test KB has no gift cards: the bot escalates
FRIEND = "where can I buy gift vouchers"  # the same question: one group
WEATHER = "what's the weather like in Paris?"


async def ask(server: Server, text: str) -> dict[str, Any]:
    """A new visitor's first question; the bot's answer or the escalation's system message."""
    client, _ = await visitor(server)
    await client.say(text)
    reply = await client.expect(
        lambda f: f.get("type") == "message" and f["sender"] in ("bot", "system")
    )
    await client.close()
    return reply


async def rebuilt_after(http: httpx.AsyncClient, built_at: float) -> dict[str, Any]:
    """Wait until the bot answers from an index built after `built_at`."""
    for _ in range(300):
        status = (await http.get("/api/admin/kb/status")).json()
        if status["built_at"] > built_at and not status["building"]:
            return dict(status)
        await asyncio.sleep(0.1)
    raise AssertionError(f"bot never rebuilt: {status}")


async def built_at(http: httpx.AsyncClient) -> float:
    return float((await http.get("/api/admin/kb/status")).json()["built_at"])


async def open_texts(http: httpx.AsyncClient) -> list[str]:
    return [m["text"] for g in (await http.get("/api/admin/misses")).json() for m in g["misses"]]


def group_of(groups: list[dict[str, Any]], text: str) -> dict[str, Any]:
    return next(g for g in groups if text in [m["text"] for m in g["misses"]])


async def test_a_miss_added_as_a_variant_is_answered_next_time_and_undone(
    server: Server,
) -> None:
    for text in (VOUCHER, FRIEND, WEATHER):
        assert (await ask(server, text))["meta"]["reason"] == "low_confidence"
    async with server.http(await admin_token(server)) as http:
        groups = (await http.get("/api/admin/misses")).json()
        assert sum(g["count"] for g in groups) == 3
        assert [g["count"] for g in groups] == sorted((g["count"] for g in groups), reverse=True)
        gifts = group_of(groups, VOUCHER)
        assert sorted(m["text"] for m in gifts["misses"]) == sorted([VOUCHER, FRIEND])
        assert groups[0] == gifts  # the biggest group first
        assert gifts["nearest"][0]["entry_id"] == "payment-methods"  # suggested
        voucher = next(m for m in gifts["misses"] if m["text"] == VOUCHER)

        since = await built_at(http)
        r = await http.post(
            "/api/admin/misses/variants",
            json={"miss_ids": [voucher["id"]], "entry_id": "payment-methods"},
        )
        assert r.status_code == 201, r.text
        action = r.json()
        since = (await rebuilt_after(http, since))["built_at"]
        answered = await ask(server, VOUCHER)
        assert (answered["sender"], answered["meta"]["entry_id"]) == ("bot", "payment-methods")
        assert sorted(await open_texts(http)) == sorted([FRIEND, WEATHER])

        r = await http.post(f"/api/admin/misses/actions/{action['id']}/undo")
        assert r.status_code == 200 and r.json()["undone_at"], r.text
        twice = await http.post(f"/api/admin/misses/actions/{action['id']}/undo")
        assert twice.status_code == 409
        await rebuilt_after(http, since)
        assert (await ask(server, VOUCHER))["meta"]["reason"] == "low_confidence"
        entry = (await http.get("/api/admin/kb/payment-methods")).json()
        assert VOUCHER not in [v["text"] for v in entry["variants"]]
        # Open again, and the new visitor's miss beside it.
        assert (await open_texts(http)).count(VOUCHER) == 2


async def test_new_entry_from_an_agent_reply_and_out_of_scope(server: Server) -> None:
    token = await server.create_agent(name="Alice")
    console = await agent(server, token)  # online: the miss goes to the queue, not a ticket
    client, welcome = await visitor(server)
    cid = welcome["conversation_id"]
    await client.say(VOUCHER)
    await client.expect_type("state", state="queued")
    async with server.http(token) as http:
        assert (await http.post(f"/api/agent/conversations/{cid}/take")).status_code == 200
    await console.send({"type": "watch", "conversation_id": cid, "last_seq": 0})
    await console.say("Yes: gift cards from €10 at shop.example.com/gift", conversation_id=cid)
    await console.expect_ack()
    await client.close()
    await console.close()
    await ask(server, WEATHER)

    async with server.http(await admin_token(server)) as http:
        groups = (await http.get("/api/admin/misses")).json()
        gifts = group_of(groups, VOUCHER)
        assert gifts["replies"] == [
            {
                "conversation_id": cid,
                "text": "Yes: gift cards from €10 at shop.example.com/gift",
                "agent": "Alice",
            }
        ]
        since = await built_at(http)
        r = await http.post(
            "/api/admin/misses/entries",
            json={
                "miss_ids": [m["id"] for m in gifts["misses"]],
                "entry_id": "gift-cards",
                "question": "Do you sell gift cards?",
                "answer": gifts["replies"][0]["text"],
            },
        )
        assert r.status_code == 201, r.text
        weather = group_of(groups, WEATHER)["misses"][0]["id"]
        r = await http.post("/api/admin/misses/out-of-scope", json={"miss_ids": [weather]})
        assert r.status_code == 201, r.text
        dup = await http.post("/api/admin/misses/dismiss", json={"miss_ids": [weather]})
        assert dup.status_code == 409  # handled already
        for _ in range(300):  # both changes reach the bot (one rebuild or two)
            status = await rebuilt_after(http, since)
            if status["oos_examples"] == 1 and status["entries"] == 9:
                break
            since = status["built_at"]
        assert status["oos_examples"] == 1  # calibration now sees the admin's example
        answered = await ask(server, VOUCHER)
        assert (answered["meta"]["entry_id"], answered["text"]) == (
            "gift-cards", "Yes: gift cards from €10 at shop.example.com/gift"
        )
        assert (await http.get("/api/admin/misses")).json() == []
        bad = await http.post("/api/admin/misses/dismiss", json={"miss_ids": []})
        assert bad.status_code == 422


async def test_unhelpful_answers_and_a_person_asked_for_after_one_are_collected(
    server: Server,
) -> None:
    unhelpful, _ = await visitor(server)
    await unhelpful.say("Is shipping free?")
    answer = await unhelpful.expect(lambda f: f.get("type") == "message" and f["sender"] == "bot")
    await unhelpful.send({"type": "feedback", "seq": answer["seq"], "helpful": False})
    await unhelpful.expect_type("feedback_saved")
    handed, _ = await visitor(server)
    await handed.say("How much is postage?")
    await handed.expect(lambda f: f.get("type") == "message" and f["sender"] == "bot")
    await handed.send({"type": "handoff", "client_msg_id": "h-1"})
    await handed.expect(lambda f: f.get("type") == "message" and f["sender"] == "system")
    for client in (unhelpful, handed):
        await client.close()

    async with server.http(await admin_token(server)) as http:
        groups = (await http.get("/api/admin/misses")).json()
    got = sorted((m["text"], m["reason"], m["entry_id"]) for g in groups for m in g["misses"])
    assert got == [
        ("How much is postage?", "asked_for_human", "shipping-cost"),
        ("Is shipping free?", "unhelpful", "shipping-cost"),
    ]
