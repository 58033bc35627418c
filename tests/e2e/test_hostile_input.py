"""Hostile input over the real server: oversized and deeply nested frames, agents typing where
they may not, blank ticket replies and transfer notes. Each is refused, nothing is stored, and
the server goes on serving everyone else."""

from __future__ import annotations

import json
from typing import Any

import pytest
import websockets
from sqlalchemy import func, select

from app.db import make_engine, make_sessionmaker
from app.ws.frames import MAX_FRAME_BYTES
from handoff.models import Message
from tests.client import ChatClient, agent, visitor
from tests.conftest import Server

CLOSE_TOO_BIG = 1009  # RFC 6455: message too big
DEEP = 20_000  # nesting levels: far past the JSON parser's recursion limit, within a frame


async def message_count(server: Server) -> int:
    engine = make_engine(server.settings.database_url)
    try:
        async with make_sessionmaker(engine)() as s:
            return int(await s.scalar(select(func.count()).select_from(Message)) or 0)
    finally:
        await engine.dispose()


async def still_serves(server: Server) -> None:
    """A new visitor is welcomed and their question answered."""
    client, _ = await visitor(server)
    cmid = await client.say("how much do you charge for postage?")
    await client.expect_ack(cmid)
    answer = await client.expect(lambda f: f.get("type") == "message" and f["sender"] == "bot")
    assert answer["meta"]["entry_id"] == "shipping-cost"
    await client.close()


async def test_an_oversized_frame_is_refused_by_the_server_not_buffered(server: Server) -> None:
    bystander, _ = await visitor(server)
    client, _ = await visitor(server)
    huge = json.dumps({"type": "message", "client_msg_id": "big", "text": "x" * (1 << 20)})
    await client.send(huge)
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:
            await client.ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == CLOSE_TOO_BIG
    assert await message_count(server) == 0
    # Everyone else is served; the bystander's socket was not touched.
    await bystander.send({"type": "ping"})
    await bystander.expect_type("pong")
    await still_serves(server)
    await bystander.close()


async def test_the_largest_valid_message_fits_in_a_frame(server: Server) -> None:
    """8192 bytes of text that JSON escapes to six bytes each is still a frame we accept."""
    client, _ = await visitor(server)
    raw = json.dumps({"type": "message", "client_msg_id": "m1", "text": "a" + "\x01" * 8191})
    assert MAX_FRAME_BYTES >= len(raw.encode()) > 6 * 8191
    await client.send(raw)
    ack = await client.expect_ack("m1")
    assert ack["seq"] == 1
    await client.close()


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


async def test_deeply_nested_json_is_bad_json_and_the_socket_stays(server: Server) -> None:
    client, _ = await visitor(server)
    raw = '{"type": "message", "client_msg_id": "m1", "text": "hi", "x": ' + nested(DEEP) + "}"
    assert len(raw.encode()) < MAX_FRAME_BYTES
    await client.send(raw)
    error = await client.expect_type("error")
    assert error["code"] == "bad_json"
    await client.send({"type": "ping"})
    await client.expect_type("pong")
    assert await message_count(server) == 0
    await client.close()


async def test_a_deeply_nested_hello_gets_an_error_frame(server: Server) -> None:
    """Before: an uncaught RecursionError dropped the socket without a word."""
    client = await ChatClient.connect(server.ws_url + "/ws/visitor")
    await client.send('{"type": "hello", "name": ' + nested(DEEP) + "}")
    error = await client.expect_type("error")
    assert error["code"] == "bad_json"
    await still_serves(server)  # a malformed hello closes only its own socket (1008)


async def queued_chat(server: Server) -> tuple[ChatClient, int]:
    client, welcome = await visitor(server)
    await client.send({"type": "handoff", "client_msg_id": "h1"})
    await client.expect_type("state", state="queued")
    return client, welcome["conversation_id"]


def typing_from_agent(f: dict[str, Any]) -> bool:
    return f.get("type") == "typing" and f.get("sender") == "agent"


async def test_an_agent_types_only_where_they_may_reply(server: Server) -> None:
    alice = await server.create_agent("alice@x.io", "Alice")
    bob = await server.create_agent("bob@x.io", "Bob")
    alice_console, bob_console = await agent(server, alice), await agent(server, bob)
    client, cid = await queued_chat(server)

    await bob_console.send({"type": "typing", "conversation_id": 999_999})
    assert (await bob_console.expect_type("error"))["code"] == "not_found"
    await bob_console.send({"type": "typing", "conversation_id": cid})  # queued: nobody's yet
    assert (await bob_console.expect_type("error"))["code"] == "forbidden"
    async with server.http(alice) as http:
        assert (await http.post(f"/api/agent/conversations/{cid}/take")).status_code == 200
    await client.expect_type("state", state="assigned")
    await bob_console.send({"type": "typing", "conversation_id": cid})  # Alice's chat
    assert (await bob_console.expect_type("error"))["code"] == "forbidden"

    await alice_console.send({"type": "typing", "conversation_id": cid})
    seen = await client.expect(typing_from_agent)
    assert seen["name"] == "Alice"
    await client.drain()
    assert [f["name"] for f in client.frames if typing_from_agent(f)] == ["Alice"]
    for c in (client, alice_console, bob_console):
        await c.close()


async def test_blank_ticket_replies_and_transfer_notes_are_refused(server: Server) -> None:
    alice = await server.create_agent("alice@x.io", "Alice")
    bob = await server.create_agent("bob@x.io", "Bob")
    # Nobody online: the handoff becomes a ticket.
    client, welcome = await visitor(server)
    ticket_cid = welcome["conversation_id"]
    await client.send({"type": "handoff", "client_msg_id": "h1"})
    await client.expect_type("state", state="ticket")
    before = await message_count(server)
    async with server.http(alice) as http:
        r = await http.post(
            f"/api/agent/conversations/{ticket_cid}/ticket-reply",
            json={"client_msg_id": "r1", "text": " \n\t "},
        )
        assert r.status_code == 422 and "blank" in r.json()["detail"]
    assert await message_count(server) == before

    consoles = [await agent(server, alice), await agent(server, bob)]
    other, cid = await queued_chat(server)
    async with server.http(alice) as a, server.http(bob) as b:
        bob_id = (await b.get("/api/agent/me")).json()["id"]
        assert (await a.post(f"/api/agent/conversations/{cid}/take")).status_code == 200
        before = await message_count(server)
        r = await a.post(
            f"/api/agent/conversations/{cid}/transfer", json={"to_agent_id": bob_id, "note": "  "}
        )
        assert r.status_code == 422 and "blank" in r.json()["detail"]
        assert await message_count(server) == before
        conv = (await a.get(f"/api/agent/conversations/{cid}")).json()["conversation"]
        assert conv["assigned_agent_id"] != bob_id, "a refused transfer moves nothing"
        # An empty note is no note (what the console sends when the field is left empty).
        r = await a.post(
            f"/api/agent/conversations/{cid}/transfer", json={"to_agent_id": bob_id, "note": ""}
        )
        assert r.status_code == 200 and r.json()["assigned_agent_id"] == bob_id
    for c in (client, other, *consoles):
        await c.close()
