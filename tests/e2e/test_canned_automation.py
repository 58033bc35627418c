"""Canned replies that earn automation, end to end over real websockets: agents answer
visitors with the same canned reply, the chats close well, the admin automates it, and the
bot answers the next visitor who asks the same."""

from __future__ import annotations

import pytest

from tests.client import ChatClient, agent, visitor
from tests.conftest import Server, make_settings, run_server, seed_kb
from tests.e2e.test_kb_admin import admin_token, ask, rebuilt

GIFT = "We gift-wrap any order for free: tick \"gift wrap\" at checkout."
ASKED = ["Do you offer gift wrapping?", "can you gift wrap my order", "Is gift wrapping available?"]


@pytest.fixture
async def server(database_url: str):  # noqa: ANN201 - as tests/conftest.py, a lower threshold
    await seed_kb(database_url)
    settings = make_settings(
        database_url, canned_automation_min_uses=3, canned_automation_success_percent=100
    )
    async with run_server(settings) as srv:
        yield srv


async def answer_with_canned(
    server: Server, console: ChatClient, token: str, question: str, canned_id: int
) -> None:
    """A visitor asks, wants a person; the agent replies with the canned reply, closes; 5 stars."""
    client, welcome = await visitor(server)
    cid = welcome["conversation_id"]
    await client.say(question)
    await client.expect(lambda f: f.get("type") == "message" and f["sender"] != "visitor")
    await client.say("talk to a person please")
    await client.expect_type("state", state="queued")
    async with server.http(token) as http:
        assert (await http.post(f"/api/agent/conversations/{cid}/take")).status_code == 200
        await console.say(GIFT, conversation_id=cid, canned_reply_id=canned_id)
        await console.expect_ack()
        await client.expect(lambda f: f.get("type") == "message" and f["sender"] == "agent")
        assert (await http.post(f"/api/agent/conversations/{cid}/close")).status_code == 200
    await client.expect_type("state", state="closed")
    await client.send({"type": "rating", "stars": 5})
    await client.expect_type("rating_saved")
    await client.close()


async def test_a_canned_reply_that_ends_well_becomes_the_bots_answer(server: Server) -> None:
    admin = await admin_token(server)
    token = await server.create_agent(name="Alice")
    console = await agent(server, token)
    async with server.http(admin) as http:
        r = await http.post(
            "/api/agent/canned", json={"shortcut": "giftwrap", "title": "Gift wrapping",
                                       "text": GIFT},
        )
        canned_id = r.json()["id"]
        before = await ask(server, ASKED[0])
        assert before["meta"].get("entry_id") != "canned-giftwrap"

        for question in ASKED[:2]:
            await answer_with_canned(server, console, token, question, canned_id)
        refused = await http.post(f"/api/admin/canned/{canned_id}/automate")
        assert refused.status_code == 422
        assert "ended well 2 of 2 times (100 %)" in refused.json()["detail"]

        await answer_with_canned(server, console, token, ASKED[2], canned_id)
        listed = (await http.get("/api/admin/canned")).json()
        assert (listed["min_uses"], listed["success_percent"]) == (3, 100)
        row = next(r for r in listed["replies"] if r["id"] == canned_id)
        assert (row["uses"], row["ended_well"], row["offered"]) == (3, 3, True)

        r = await http.post(f"/api/admin/canned/{canned_id}/automate")
        assert r.status_code == 201, r.text
        assert r.json()["entry_id"] == "canned-giftwrap"
        assert sorted(r.json()["variants"]) == sorted(ASKED)
        await rebuilt(http, entries=9)
        audit = (await http.get("/api/admin/audit", params={"action": "canned_automated"})).json()
        assert [e["action"] for e in audit] == ["canned_automated"]

    after = await ask(server, "do you do gift wrapping?")
    assert after["sender"] == "bot" and after["meta"]["entry_id"] == "canned-giftwrap"
    assert after["text"] == GIFT
    await console.close()


async def test_replies_over_rest_and_on_tickets_count_their_canned_reply(server: Server) -> None:
    admin = await admin_token(server)
    token = await server.create_agent(name="Alice")
    console = await agent(server, token)  # online: a request for a person queues
    async with server.http(admin) as http:
        r = await http.post(
            "/api/agent/canned", json={"shortcut": "gift", "title": "Gift", "text": GIFT}
        )
        canned_id = r.json()["id"]
    chat, chat_welcome = await visitor(server)
    await chat.send({"type": "handoff", "client_msg_id": "h1"})
    await chat.expect_type("state", state="queued")
    ticket, ticket_welcome = await visitor(server)
    await ticket.send({"type": "handoff", "client_msg_id": "h1"})
    await ticket.expect_type("state", state="queued")
    await ticket.send({"type": "request_ticket", "client_msg_id": "t1"})
    await ticket.expect_type("state", state="ticket")
    chat_id, ticket_id = chat_welcome["conversation_id"], ticket_welcome["conversation_id"]
    async with server.http(token) as http:
        assert (await http.post(f"/api/agent/conversations/{chat_id}/take")).status_code == 200
        body = {"client_msg_id": "r1", "text": GIFT, "canned_reply_id": canned_id}
        for _ in range(2):  # a retry is counted once
            r = await http.post(f"/api/conversations/{chat_id}/messages", json=body)
            assert r.status_code == 201, r.text
        r = await http.post(f"/api/agent/conversations/{ticket_id}/ticket-reply", json=body)
        assert r.status_code == 201, r.text
    async with server.http(admin) as http:
        listed = (await http.get("/api/admin/canned")).json()
    row = next(r for r in listed["replies"] if r["id"] == canned_id)
    assert (row["uses"], row["ended_well"]) == (2, 0)  # neither conversation is closed
    await chat.close()
    await ticket.close()
    await console.close()
