"""Abuse limits over real websockets: a flooding client is refused with `rate_limited` and a
`retry_after`, nothing of the refused frames is stored, its socket stays usable, and other
visitors are served as usual; with a Redis bus two replicas share one budget.

Each test sets a tiny limit for one action ("3/hour"), so nothing refills while it runs.
"""

from __future__ import annotations

import contextlib
import subprocess
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import websockets
from sqlalchemy import func, select

from app.db import make_engine, make_sessionmaker
from handoff.models import Conversation, Message, Sender, Visitor
from tests.client import ChatClient, agent, as_ack, visitor
from tests.conftest import Server, make_settings, run_server, seed_kb

REDIS_URL = "redis://127.0.0.1:6379/0"
POSTAGE = "how much do you charge for postage?"  # the bot answers it (tests/data/shop_kb.jsonl)


@pytest.fixture
def limited(database_url: str):  # noqa: ANN201 - a server factory
    """A server with the limits on, and the given limit settings."""

    @contextlib.asynccontextmanager
    async def start(**limits: str) -> AsyncIterator[Server]:
        await seed_kb(database_url)
        settings = make_settings(database_url, rate_limits=True, **limits)
        async with run_server(settings) as server:
            yield server

    return start


async def count(server: Server, model: Any, *where: Any) -> int:
    engine = make_engine(server.settings.database_url)
    try:
        async with make_sessionmaker(engine)() as s:
            query = select(func.count()).select_from(model).where(*where)
            return int(await s.scalar(query) or 0)
    finally:
        await engine.dispose()


async def answer_to(client: ChatClient, cmid: str) -> dict[str, Any]:
    """The acknowledgement (as an `ack` frame) or the error about one client_msg_id."""
    answer = await client.expect(
        lambda f: client.is_ack(f, cmid) or (f.get("type") == "error" and f.get("ref") == cmid)
    )
    return answer if answer["type"] == "error" else as_ack(answer)


async def test_a_flooding_visitor_is_refused_and_another_is_served(limited) -> None:
    async with limited(limit_message_per_visitor="3/hour") as server:
        flooder, welcome = await visitor(server)
        answers = [await answer_to(flooder, await flooder.say(POSTAGE)) for _ in range(8)]
        assert [a["type"] for a in answers] == ["ack"] * 3 + ["error"] * 5
        for refused in answers[3:]:
            assert refused["code"] == "rate_limited"
            assert refused["retry_after"] >= 1
        cid = welcome["conversation_id"]
        from_visitor = (Message.conversation_id == cid, Message.sender == Sender.VISITOR)
        assert await count(server, Message, *from_visitor) == 3, "refused messages are not stored"

        # Another visitor, from the same address, is answered as usual.
        other, _ = await visitor(server)
        assert (await answer_to(other, await other.say(POSTAGE)))["type"] == "ack"
        answer = await other.expect(lambda f: f.get("type") == "message" and f["sender"] == "bot")
        assert answer["meta"]["entry_id"] == "shipping-cost"

        # The flooder's socket still works for what is within its limits.
        await flooder.send({"type": "ping"})
        await flooder.expect_type("pong")
        await flooder.send({"type": "email", "email": "flood@example.com"})
        saved = await flooder.expect(lambda f: f.get("meta", {}).get("kind") == "email")
        assert "flood@example.com" in saved["text"]
        await flooder.close()
        await other.close()


async def test_new_visitors_from_one_address_are_limited(limited) -> None:
    async with limited(limit_new_visitor_per_ip="2/hour") as server:
        first, welcome = await visitor(server)
        second, _ = await visitor(server)
        third = await ChatClient.connect(server.ws_url + "/ws/visitor")
        await third.send({"type": "hello"})
        refused = await third.expect_type("error")
        assert refused["code"] == "rate_limited" and refused["retry_after"] >= 1
        assert await count(server, Visitor) == 2
        assert await count(server, Conversation) == 2

        # A returning visitor is no new visitor: the same socket says hello with a token.
        await third.send({"type": "hello", "token": welcome["token"]})
        back = await third.expect_type("welcome")
        assert back["visitor_id"] == welcome["visitor_id"]
        assert back["conversation_id"] == welcome["conversation_id"]
        assert await count(server, Visitor) == 2
        for client in (first, second, third):
            await client.close()


async def hello_from(server: Server, address: str) -> dict[str, Any]:
    """A first visit through a trusted proxy (loopback) that forwarded `address`."""
    ws = await websockets.connect(
        server.ws_url + "/ws/visitor", additional_headers={"X-Forwarded-For": address}
    )
    client = ChatClient(ws)
    await client.send({"type": "hello"})
    first = await client.expect(lambda f: f.get("type") in ("welcome", "error"))
    await client.close()
    return first


async def test_behind_a_proxy_each_forwarded_client_has_its_own_budget(limited) -> None:
    async with limited(limit_new_visitor_per_ip="1/hour") as server:
        assert (await hello_from(server, "203.0.113.1"))["type"] == "welcome"
        assert (await hello_from(server, "203.0.113.2"))["type"] == "welcome"
        assert (await hello_from(server, "203.0.113.1"))["code"] == "rate_limited"
    # Only a trusted proxy is believed: when loopback is not one, both count as loopback.
    untrusting = {"limit_new_visitor_per_ip": "1/hour", "forwarded_allow_ips": "192.0.2.99"}
    async with limited(**untrusting) as server:
        assert (await hello_from(server, "198.51.100.1"))["type"] == "welcome"
        assert (await hello_from(server, "198.51.100.2"))["code"] == "rate_limited"


async def test_handoffs_from_one_address_cannot_fill_the_queue(limited) -> None:
    async with limited(limit_handoff_per_ip="2/hour") as server:
        token = await server.create_agent()
        console = await agent(server, token)  # online: a handoff waits in the queue
        clients = [await visitor(server) for _ in range(3)]
        for client, _ in clients:
            await client.send({"type": "handoff", "client_msg_id": "h1"})
        for client, _ in clients[:2]:
            assert (await answer_to(client, "h1"))["type"] == "ack"
            await client.expect_type("state", state="queued")
        last, welcome = clients[2]
        refused = await answer_to(last, "h1")
        assert refused["code"] == "rate_limited"
        cid = welcome["conversation_id"]
        assert await count(server, Message, Message.conversation_id == cid) == 0
        async with server.http(token) as http:
            queued = await http.get("/api/agent/conversations", params={"filter": "queued"})
        assert cid not in [c["id"] for c in queued.json()]
        assert len(queued.json()) == 2
        for client, _ in clients:
            await client.close()
        await console.close()


@pytest.mark.parametrize(
    ("setting", "frame"),
    [
        ("limit_typing_per_visitor", {"type": "typing", "draft": "hel"}),
        ("limit_email_per_visitor", {"type": "email", "email": "a@example.com"}),
        ("limit_other_per_visitor", {"type": "rating", "stars": 5}),
        ("limit_other_per_visitor", {"type": "transcript", "email": "a@example.com"}),
    ],
)
async def test_every_writing_frame_has_a_limit(limited, setting: str, frame: dict) -> None:
    async with limited(**{setting: "1/hour"}) as server:
        client, _ = await visitor(server)
        await client.send(frame)  # the one allowed (it may be refused for its own reasons)
        await client.send(frame)
        refused = await client.expect(lambda f: f.get("code") == "rate_limited")
        assert refused["retry_after"] >= 1
        await client.close()


async def test_a_new_conversation_after_close_is_limited(limited) -> None:
    async with limited(limit_new_conversation_per_visitor="1/hour") as server:
        token = await server.create_agent()
        client, welcome = await visitor(server)

        async def close(cid: int) -> None:
            async with server.http(token) as http:
                r = await http.post(f"/api/agent/conversations/{cid}/close")
                assert r.status_code == 200
            await client.expect_type("state", state="closed")

        await close(welcome["conversation_id"])
        await client.say("one more question", client_msg_id="m1")
        again = await client.expect_type("welcome")  # the first new one is within the limit
        assert (await answer_to(client, "m1"))["type"] == "ack"
        await close(again["conversation_id"])
        await client.say("and another", client_msg_id="m2")
        refused = await answer_to(client, "m2")
        assert refused["code"] == "rate_limited"
        assert await count(server, Conversation) == 2
        assert await count(server, Message, Message.client_msg_id == "m2") == 0
        await client.close()


def redis_up() -> bool:
    try:
        out = subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "-p", "6379", "ping"],
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.stdout.strip() == "PONG"


async def test_two_replicas_share_one_budget_in_redis(database_url: str) -> None:
    if not redis_up():
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    await seed_kb(database_url)
    settings = make_settings(
        database_url,
        rate_limits=True,
        bus_url=f"{REDIS_URL}#test-{uuid.uuid4().hex[:8]}",  # this test's own counters
        limit_message_per_visitor="3/hour",
    )
    async with run_server(settings) as a, run_server(settings) as b:
        on_a, welcome = await visitor(a)
        for _ in range(2):
            assert (await answer_to(on_a, await on_a.say(POSTAGE)))["type"] == "ack"
        await on_a.close()
        # The same visitor on the other replica has one message left, not three.
        on_b, _ = await visitor(b, token=welcome["token"])
        assert (await answer_to(on_b, await on_b.say(POSTAGE)))["type"] == "ack"
        refused = await answer_to(on_b, await on_b.say(POSTAGE))
        assert refused["code"] == "rate_limited" and refused["retry_after"] >= 1
        cid = welcome["conversation_id"]
        from_visitor = (Message.conversation_id == cid, Message.sender == Sender.VISITOR)
        assert await count(a, Message, *from_visitor) == 3
        await on_b.close()
