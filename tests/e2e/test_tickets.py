"""Tickets and after-chat over real websockets, a real database and a real SMTP server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import select

from app.db import make_engine, make_sessionmaker
from handoff.hours import WEEKDAYS
from handoff.models import Conversation, MessageFeedback, Rating, Ticket
from tests.client import agent, visitor
from tests.conftest import Inbox, Server, make_settings, run_server, seed_kb


def closed_today() -> tuple[dict[str, str], datetime]:
    """Hours open only on a day two days ahead, 09:00-17:00 UTC; and when that opens."""
    today = datetime.now(UTC)
    day = today.date() + timedelta(days=2)
    opening = datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)
    return {WEEKDAYS[day.weekday()]: "09:00-17:00"}, opening


@pytest.fixture
async def mail_server(
    database_url: str, smtp: tuple[Inbox, int]
) -> AsyncIterator[tuple[Server, Inbox, datetime]]:
    """chatdesk that is closed right now, sending mail to the local SMTP server."""
    hours, opening = closed_today()
    await seed_kb(database_url)
    inbox, port = smtp
    settings = make_settings(
        database_url,
        business_hours=hours,
        smtp_host="127.0.0.1",
        smtp_port=port,
        mail_from="help@shop.example",
    )
    async with run_server(settings) as srv:
        yield srv, inbox, opening


async def db(server: Server, query: Any) -> list[Any]:
    engine = make_engine(server.settings.database_url)
    try:
        async with make_sessionmaker(engine)() as s:
            return list((await s.scalars(query)).all())
    finally:
        await engine.dispose()


def text_of(msg: EmailMessage) -> str:
    body = msg.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


async def test_after_hours_ticket_reply_reaches_widget_and_mailbox(
    mail_server: tuple[Server, Inbox, datetime],
) -> None:
    server, inbox, opening = mail_server
    token = await server.create_agent(name="Alice")
    console = await agent(server, token)  # online, but we are closed: still a ticket

    client, welcome = await visitor(server)
    cid = welcome["conversation_id"]
    await client.send({"type": "handoff", "client_msg_id": "h1"})
    promise = await client.expect(lambda f: f.get("type") == "message" and f["sender"] == "system")
    assert "closed" in promise["text"] and "9:00\u202fAM" in promise["text"]  # Babel, en
    state = await client.expect_type("state", state="ticket")
    assert datetime.fromisoformat(state["ticket"]["reply_by"]) == opening
    await client.send({"type": "email", "email": "dana@example.com"})
    await client.expect_type("state", state="ticket")
    visitor_token = welcome["token"]
    await client.close()  # the visitor leaves

    async with server.http(token) as http:
        r = await http.post(
            f"/api/agent/conversations/{cid}/ticket-reply",
            json={"client_msg_id": "r1", "text": "Your parcel left our warehouse today."},
        )
        assert r.status_code == 201, r.text
        tickets = (await http.get("/api/agent/tickets/list", params={"status": "pending"})).json()
        assert [t["conversation_id"] for t in tickets] == [cid]

    mail = await inbox.next()
    assert mail["To"] == "dana@example.com"
    assert mail["From"] == "help@shop.example"
    assert "ticket #" in mail["Subject"]
    assert "Your parcel left our warehouse today." in text_of(mail)

    # Back on the site with the same visitor token: the reply is there.
    back, again = await visitor(server, token=visitor_token)
    assert again["conversation_id"] == cid
    reply = await back.expect(lambda f: f.get("type") == "message" and f["sender"] == "agent")
    assert reply["text"] == "Your parcel left our warehouse today."
    # The customer answers: the ticket is ours again.
    await back.say("Thanks! When will it arrive?")
    await back.expect_ack()
    [ticket] = await db(server, select(Ticket))
    assert ticket.status == "open"
    await back.close()
    await console.close()


async def test_transcript_is_mailed_without_private_notes(
    mail_server: tuple[Server, Inbox, datetime],
) -> None:
    server, inbox, _ = mail_server
    token = await server.create_agent()
    client, welcome = await visitor(server)
    cid = welcome["conversation_id"]
    await client.say("how much is postage?")
    await client.expect(lambda f: f.get("type") == "message" and f["sender"] == "bot")
    console = await agent(server, token)
    await console.send(
        {"type": "note", "conversation_id": cid, "client_msg_id": "n1", "text": "SECRET NOTE"}
    )
    await console.expect_ack()
    # We are closed: the chat becomes a ticket, and the address left on it is the visitor's.
    await client.send({"type": "handoff", "client_msg_id": "h1"})
    await client.expect_type("state", state="ticket")
    await client.send({"type": "email", "email": "dana@example.com"})
    await client.expect(
        lambda f: f.get("type") == "message" and (f.get("meta") or {}).get("kind") == "email"
    )
    await client.send({"type": "transcript", "email": "dana@example.com"})
    sent = await client.expect_type("transcript_sent")
    assert sent["email"] == "dana@example.com"
    mail = await inbox.next()
    body = text_of(mail)
    assert "how much is postage?" in body and "€4.95" in body
    assert "SECRET NOTE" not in body
    await client.send({"type": "transcript", "email": "not an address"})
    assert (await client.expect_type("error"))["code"] == "invalid"
    await client.close()
    await console.close()


async def test_email_me_instead_while_queued(server: Server) -> None:
    token = await server.create_agent()
    console = await agent(server, token)
    client, welcome = await visitor(server)
    cid = welcome["conversation_id"]
    await client.send({"type": "handoff", "client_msg_id": "h1"})
    await client.expect_type("state", state="queued")
    await client.send({"type": "request_ticket", "client_msg_id": "t1"})
    # The request comes back (its acknowledgement) before the state it leads to.
    ack = await client.expect_ack("t1")
    assert ack["duplicate"] is False
    state = await client.expect_type("state", state="ticket")
    assert state["ticket"]["reply_by"] is not None
    await console.expect_type("conversation", conversation_id=cid, state="ticket")
    # A resend is acknowledged, not refused; asking again when not queued is a conflict.
    await client.send({"type": "request_ticket", "client_msg_id": "t1"})
    assert (await client.expect_ack("t1"))["duplicate"] is True
    await client.send({"type": "request_ticket", "client_msg_id": "t2"})
    assert (await client.expect_type("error", ref="t2"))["code"] == "conflict"
    async with server.http(token) as http:
        queued = (await http.get("/api/agent/conversations", params={"filter": "queued"})).json()
    assert queued == []
    await client.close()
    await console.close()


async def test_helpful_feedback_is_stored_and_no_counts_as_a_miss(server: Server) -> None:
    client, welcome = await visitor(server)
    cid = welcome["conversation_id"]
    await client.say("how much is postage?")
    answer = await client.expect(lambda f: f.get("type") == "message" and f["sender"] == "bot")
    await client.send({"type": "feedback", "seq": answer["seq"], "helpful": False})
    saved = await client.expect_type("feedback_saved")
    assert saved["seq"] == answer["seq"]
    [conv] = await db(server, select(Conversation).where(Conversation.id == cid))
    assert conv.bot_misses == 1
    # Saying "no" again does not count twice; "yes" changes the answer.
    await client.send({"type": "feedback", "seq": answer["seq"], "helpful": False})
    await client.expect_type("feedback_saved")
    await client.send({"type": "feedback", "seq": answer["seq"], "helpful": True})
    await client.expect_type("feedback_saved")
    [conv] = await db(server, select(Conversation).where(Conversation.id == cid))
    [fb] = await db(server, select(MessageFeedback))
    assert conv.bot_misses == 1 and fb.helpful is True and fb.seq == answer["seq"]
    # Only bot messages can be rated helpful.
    await client.send({"type": "feedback", "seq": 1, "helpful": True})
    assert (await client.expect_type("error"))["code"] == "not_found"
    await client.close()


async def test_rating_after_close_is_stored(server: Server) -> None:
    token = await server.create_agent()
    console = await agent(server, token)
    client, welcome = await visitor(server)
    cid = welcome["conversation_id"]
    await client.send({"type": "rating", "stars": 5})
    assert (await client.expect_type("error"))["code"] == "conflict", "nothing closed yet"
    await client.send({"type": "handoff", "client_msg_id": "h1"})
    await client.expect_type("state", state="queued")
    async with server.http(token) as http:
        assert (await http.post(f"/api/agent/conversations/{cid}/take")).status_code == 200
        assert (await http.post(f"/api/agent/conversations/{cid}/close")).status_code == 200
    request = await client.expect(
        lambda f: f.get("type") == "message" and f["meta"].get("kind") == "rating_request"
    )
    assert request["sender"] == "system"
    await client.send({"type": "rating", "stars": 6})
    assert (await client.expect_type("error"))["code"] == "invalid_frame"
    await client.send({"type": "rating", "stars": 4, "comment": "Quick and friendly."})
    await client.expect_type("rating_saved")
    # Back later (a new conversation opens): the rating still goes to the closed one.
    back, again = await visitor(server, token=welcome["token"])
    assert again["conversation_id"] != cid
    await back.send({"type": "rating", "stars": 5, "comment": "Even better on reflection."})
    await back.expect_type("rating_saved")
    [rating] = await db(server, select(Rating))
    assert (rating.conversation_id, rating.stars) == (cid, 5)
    assert rating.comment == "Even better on reflection."
    async with server.http(token) as http:
        ctx = (await http.get(f"/api/agent/conversations/{cid}/context")).json()
    assert ctx["rating"]["stars"] == 5
    for c in (client, back, console):
        await c.close()


async def test_reopen_and_transfer_rules(server: Server) -> None:
    alice = await server.create_agent("alice@x.io", "Alice")
    bob = await server.create_agent("bob@x.io", "Bob")
    consoles = [await agent(server, alice), await agent(server, bob)]
    client, welcome = await visitor(server)
    cid = welcome["conversation_id"]
    await client.send({"type": "handoff", "client_msg_id": "h1"})
    await client.expect_type("state", state="queued")
    async with server.http(alice) as a, server.http(bob) as b:
        bob_id = (await b.get("/api/agent/me")).json()["id"]
        assert (await a.post(f"/api/agent/conversations/{cid}/take")).status_code == 200
        r = await b.post(
            f"/api/agent/conversations/{cid}/transfer", json={"to_agent_id": bob_id}
        )
        assert r.status_code == 403, "only the holder can transfer"
        r = await a.post(
            f"/api/agent/conversations/{cid}/transfer",
            json={"to_agent_id": bob_id, "note": "VIP customer"},
        )
        assert r.status_code == 200 and r.json()["assigned_agent_id"] == bob_id
        assert (await b.post(f"/api/agent/conversations/{cid}/close")).status_code == 200
        r = await a.post(f"/api/agent/conversations/{cid}/reopen")
        assert r.status_code == 200 and r.json()["state"] == "assigned"
        transcript = (await a.get(f"/api/agent/conversations/{cid}")).json()
    notes = [m["text"] for m in transcript["messages"] if m["sender"] == "note"]
    assert notes == ["VIP customer"]
    state = await client.expect(
        lambda f: f.get("type") == "state" and f["state"] == "assigned"
        and f["agent"]["name"] == "Alice" and f is not None
    )
    assert state["conversation_id"] == cid
    for c in (client, *consoles):
        await c.close()
