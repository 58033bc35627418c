"""End to end over real websockets against the real app and a real database."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import func, select

from app.db import make_engine, make_sessionmaker
from handoff.messages import append_message
from handoff.models import Message, Sender
from tests.client import agent, visitor
from tests.conftest import Server


async def count_messages(server: Server) -> int:
    engine = make_engine(server.settings.database_url)
    try:
        async with make_sessionmaker(engine)() as s:
            return int(await s.scalar(select(func.count()).select_from(Message)) or 0)
    finally:
        await engine.dispose()


def from_(sender: str):  # noqa: ANN201 - small matcher factory
    return lambda f: f.get("type") == "message" and f["sender"] == sender


async def test_faq_question_in_own_words_is_answered(server: Server) -> None:
    client, welcome = await visitor(server)
    assert welcome["state"]["state"] == "bot"
    cmid = await client.say("how much do you charge for postage?")
    ack = await client.expect_ack(cmid)
    assert ack["seq"] == 1 and ack["duplicate"] is False
    answer = await client.expect(from_("bot"))
    assert answer["meta"]["entry_id"] == "shipping-cost"
    assert "€4.95" in answer["text"]
    assert answer["meta"]["candidates"], "the bot records what it considered"
    await client.close()


async def test_a_message_comes_back_once_as_its_own_acknowledgement(server: Server) -> None:
    client, _ = await visitor(server)
    cmid = await client.say("how much do you charge for postage?")
    await client.expect(from_("bot"))
    await client.drain()
    mine = [f for f in client.frames if f.get("client_msg_id") == cmid]
    assert [(f["type"], f["seq"]) for f in mine] == [("message", 1)], "one frame: no ack besides"
    await client.say("how much do you charge for postage?", client_msg_id=cmid)  # a resend
    again = await client.expect_type("ack", client_msg_id=cmid)
    assert again["seq"] == 1 and again["duplicate"] is True
    await client.close()


async def test_unknown_question_goes_to_the_queue_with_position(server: Server) -> None:
    token = await server.create_agent()
    console = await agent(server, token)
    client, _ = await visitor(server)
    await client.say("Can your quantum tractor beam lift my neighbour's goat?")
    note = await client.expect(from_("system"))
    assert "number 1 in the queue" in note["text"]
    state = await client.expect_type("state", state="queued")
    assert state["queue_position"] == 1
    assert state["escalation_reason"] == "low_confidence"
    await console.expect_type("conversation", state="queued")
    await client.close()
    await console.close()


async def test_explicit_request_for_a_person_escalates(server: Server) -> None:
    token = await server.create_agent()
    console = await agent(server, token)
    client, _ = await visitor(server)
    await client.say("I want to talk to a person")
    state = await client.expect_type("state", state="queued")
    assert state["escalation_reason"] == "asked_for_human"
    await client.close()
    await console.close()


async def test_agent_takes_replies_and_closes(server: Server) -> None:
    token = await server.create_agent(name="Alice")
    console = await agent(server, token)
    client, welcome = await visitor(server)
    cid = welcome["conversation_id"]
    await client.say("Is shipping free?")
    await client.expect(from_("bot"))
    await client.say("talk to a human please")
    await client.expect_type("state", state="queued")

    async with server.http(token) as http:
        queued = (await http.get("/api/agent/conversations", params={"filter": "queued"})).json()
        assert [c["id"] for c in queued] == [cid]
        transcript = (await http.get(f"/api/agent/conversations/{cid}")).json()
        senders = [m["sender"] for m in transcript["messages"]]
        assert senders[:3] == ["visitor", "bot", "visitor"], "agent sees what the bot tried"
        assert transcript["messages"][1]["meta"]["entry_id"] == "shipping-cost"
        r = await http.post(f"/api/agent/conversations/{cid}/take")
        assert r.status_code == 200 and r.json()["state"] == "assigned"

    assigned = await client.expect_type("state", state="assigned")
    assert assigned["agent"]["name"] == "Alice"
    await console.send({"type": "watch", "conversation_id": cid, "last_seq": 0})
    await console.say("Hi, I'm Alice. How can I help?", conversation_id=cid)
    await console.expect_ack()
    reply = await client.expect(from_("agent"))
    assert reply["text"] == "Hi, I'm Alice. How can I help?"
    assert reply["author"]["name"] == "Alice"

    # The visitor's answer reaches the agent live.
    await client.say("Where is my parcel?")
    seen = await console.expect(
        lambda f: (
            f.get("type") == "message"
            and f["sender"] == "visitor"
            and f["text"] == "Where is my parcel?"
        )
    )
    assert seen["conversation_id"] == cid

    async with server.http(token) as http:
        r = await http.post(f"/api/agent/conversations/{cid}/close")
        assert r.json()["state"] == "closed"
    await client.expect_type("state", state="closed")
    await client.close()
    await console.close()


async def test_agent_cannot_reply_before_taking(server: Server) -> None:
    token = await server.create_agent()
    console = await agent(server, token)
    client, welcome = await visitor(server)
    await client.say("I need a human")
    await client.expect_type("state", state="queued")
    cmid = await console.say("hello?", conversation_id=welcome["conversation_id"])
    error = await console.expect_type("error", ref=cmid)
    assert error["code"] == "forbidden"


async def test_an_agent_typing_fast_is_stored_in_order_of_sending(server: Server) -> None:
    """The console does not wait for one ack before sending the next: order still holds."""
    token = await server.create_agent(name="Alice")
    console = await agent(server, token)
    client, welcome = await visitor(server)
    cid = welcome["conversation_id"]
    await client.say("I need a human")
    await client.expect_type("state", state="queued")
    async with server.http(token) as http:
        assert (await http.post(f"/api/agent/conversations/{cid}/take")).status_code == 200
    sent = [await console.say(f"line {i}", conversation_id=cid) for i in range(30)]
    acks = {}
    for _ in sent:
        frame = await console.expect_ack()
        acks[frame["client_msg_id"]] = frame["seq"]
    seqs = [acks[cmid] for cmid in sent]
    assert seqs == sorted(seqs) and len(set(seqs)) == 30
    shown = [(await client.expect(from_("agent")))["text"] for _ in range(30)]
    assert shown == [f"line {i}" for i in range(30)]
    # A reply to a chat this agent does not hold is still refused, about that message.
    other, other_welcome = await visitor(server)
    cmid = await console.say("wrong chat", conversation_id=other_welcome["conversation_id"])
    assert (await console.expect_type("error", ref=cmid))["code"] == "forbidden"
    await other.close()
    await client.close()
    await console.close()


async def test_reconnect_gets_exactly_the_missed_messages(server: Server) -> None:
    token = await server.create_agent()
    console = await agent(server, token)
    client, welcome = await visitor(server)
    cid = welcome["conversation_id"]
    await client.say("a person please")
    await client.expect_type("state", state="queued")
    async with server.http(token) as http:
        await http.post(f"/api/agent/conversations/{cid}/take")
    await client.expect_type("state", state="assigned")
    last_seen = max(m["seq"] for m in client.messages())
    await client.close()

    for i in range(5):
        await console.say(f"update {i}", conversation_id=cid)
        await console.expect_ack()

    again, welcome2 = await visitor(
        server, token=welcome["token"], conversation_id=cid, last_seq=last_seen
    )
    assert welcome2["conversation_id"] == cid
    for i in range(5):
        msg = await again.expect(from_("agent"))
        assert msg["text"] == f"update {i}"
    await again.drain()
    seqs = [m["seq"] for m in again.messages()]
    assert seqs == list(range(last_seen + 1, last_seen + 6)), "exactly the missed, in order"


async def test_resent_client_msg_id_is_stored_once(server: Server) -> None:
    client, _ = await visitor(server)
    await client.say("What ways can I pay?", client_msg_id="m-1")
    first = await client.expect_ack("m-1")
    await client.expect(from_("bot"))
    before = await count_messages(server)
    await client.say("What ways can I pay?", client_msg_id="m-1")
    second = await client.expect_ack("m-1")
    assert second["seq"] == first["seq"] and second["duplicate"] is True
    await client.drain()
    assert await count_messages(server) == before, "nothing new stored, the bot did not re-answer"


async def test_concurrent_resends_store_once(server: Server) -> None:
    client, welcome = await visitor(server)
    other, _ = await visitor(server, token=welcome["token"])
    await asyncio.gather(
        client.say("Can I cancel my order?", client_msg_id="same"),
        other.say("Can I cancel my order?", client_msg_id="same"),
    )
    a = await client.expect_ack("same")
    b = await other.expect_ack("same")
    assert a["seq"] == b["seq"]
    # Both sockets watch the conversation, so both see the stored message come back; the one
    # whose send was the resend is also told so.
    await client.drain()
    await other.drain()
    acks = [f for c in (client, other) for f in c.frames if f.get("type") == "ack"]
    assert [f["duplicate"] for f in acks if f["duplicate"]] == [True]


async def test_no_agent_online_opens_a_ticket(server: Server) -> None:
    client, welcome = await visitor(server)
    await client.say("I want to speak to someone")
    note = await client.expect(from_("system"))
    assert "ticket" in note["text"]
    state = await client.expect_type("state", state="ticket")
    ticket_id = state["ticket"]["id"]
    await client.send({"type": "email", "email": "Jane.Doe@Example.com"})
    await client.expect(lambda f: f.get("type") == "state" and (f.get("ticket") or {}).get("email"))

    token = await server.create_agent()
    async with server.http(token) as http:
        tickets = (await http.get("/api/agent/tickets")).json()
    assert [(t["id"], t["conversation_id"], t["email"]) for t in tickets] == [
        (ticket_id, welcome["conversation_id"], "Jane.Doe@example.com")
    ]


async def test_bad_email_is_refused_and_nothing_changes(server: Server) -> None:
    client, _ = await visitor(server)
    await client.say("human please")
    await client.expect_type("state", state="ticket")
    await client.send({"type": "email", "email": "not an address"})
    error = await client.expect_type("error")
    assert error["code"] == "invalid"


async def test_visitor_token_cannot_open_another_conversation(server: Server) -> None:
    alice, alice_welcome = await visitor(server)
    await alice.say("my secret order number is 12345, is it shipped?")
    await alice.expect_ack()
    await alice.drain()

    mallory, mallory_welcome = await visitor(
        server, conversation_id=alice_welcome["conversation_id"], last_seq=0
    )
    assert mallory_welcome["conversation_id"] != alice_welcome["conversation_id"]
    assert any(f["type"] == "error" and f["code"] == "forbidden" for f in mallory.frames)
    await mallory.drain()
    assert not any("12345" in m["text"] for m in mallory.messages())

    forged = alice_welcome["token"][:-2] + (
        "AA" if not alice_welcome["token"].endswith("AA") else "BB"
    )
    eve, eve_welcome = await visitor(
        server, token=forged, conversation_id=alice_welcome["conversation_id"]
    )
    assert eve_welcome["visitor_id"] != alice_welcome["visitor_id"]
    await eve.drain()
    assert not any("12345" in m["text"] for m in eve.messages())


async def test_bad_frames_get_errors_and_the_socket_stays_usable(server: Server) -> None:
    client, _ = await visitor(server)
    before = await count_messages(server)
    cases = [
        ("this is not json", "bad_json"),
        (json.dumps([1, 2, 3]), "bad_frame"),
        (json.dumps({"type": "teleport"}), "unknown_type"),
        (json.dumps({"type": "message", "text": "hi"}), "invalid_frame"),
        (json.dumps({"type": "message", "client_msg_id": "x", "text": "a" * 8193}), "too_long"),
        (json.dumps({"type": "message", "client_msg_id": "y", "text": "   "}), "invalid_frame"),
        (json.dumps({"type": "message", "client_msg_id": "z" * 65, "text": "hi"}), "invalid_frame"),
    ]
    # A frame over MAX_FRAME_BYTES never reaches the app: the server closes it with 1009
    # (tests/e2e/test_hostile_input.py).
    for raw, code in cases:
        await client.send(raw)
        error = await client.expect_type("error")
        assert error["code"] == code, raw[:40]
    await client.ws.send(b"\x00\x01binary")
    assert (await client.expect_type("error"))["code"] == "bad_frame"
    assert await count_messages(server) == before, "nothing stored for bad frames"

    await client.say("Do you accept returns?")
    answer = await client.expect(from_("bot"))
    assert answer["meta"]["entry_id"] == "returns-policy"


async def test_heartbeat_ping_gets_pong(server: Server) -> None:
    client, welcome = await visitor(server)
    assert welcome["heartbeat_s"] > 0
    await client.send({"type": "ping"})
    await client.expect_type("pong")


async def test_resend_of_a_message_the_bot_never_answered_gets_its_answer(
    server: Server,
) -> None:
    # As if the replica that stored the message died before the bot answered it.
    client, welcome = await visitor(server)
    cid = welcome["conversation_id"]
    engine = make_engine(server.settings.database_url)
    try:
        async with make_sessionmaker(engine)() as s:
            await append_message(
                session=s,
                conversation_id=cid,
                sender=Sender.VISITOR,
                text="Do you accept returns?",
                client_msg_id="lost-reply",
            )
            await s.commit()
    finally:
        await engine.dispose()
    await client.say("Do you accept returns?", client_msg_id="lost-reply")
    ack = await client.expect_ack("lost-reply")
    assert ack["duplicate"] is True
    answer = await client.expect(from_("bot"))
    assert answer["meta"]["entry_id"] == "returns-policy"

    # A second resend finds the answer stored: nothing more is said.
    await client.say("Do you accept returns?", client_msg_id="lost-reply")
    await client.expect_ack("lost-reply")
    await client.drain()
    assert len([m for m in client.messages() if m["sender"] == "bot"]) == 1
