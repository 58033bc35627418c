"""Two replicas behind no balancer at all: whatever a client does on one, the other sees live."""

from __future__ import annotations

import asyncio
import subprocess
import time

from app.db import make_engine, make_sessionmaker
from bot import Entry
from handoff import knowledge
from tests.client import agent, visitor
from tests.conftest import Server
from tests.scale.conftest import REDIS_CMD, redis_up, start_redis

LIVE_S = 5.0  # "live": well under a second here; the margin is for a busy CI machine


def from_(sender: str):  # noqa: ANN201 - small matcher factory
    return lambda f: f.get("type") == "message" and f["sender"] == sender


async def queued_chat(a: Server) -> tuple[object, int]:
    client, welcome = await visitor(a)
    await client.send({"type": "handoff", "client_msg_id": "h1"})
    await client.expect_ack("h1")
    await client.expect_type("state", state="queued")  # the handoff's effect, after its message
    return client, welcome["conversation_id"]


async def test_visitor_on_a_and_agent_on_b_talk_live(replicas: tuple[Server, Server]) -> None:
    a, b = replicas
    token = await b.create_agent(name="Bea")
    console = await agent(b, token)
    client, cid = await queued_chat(a)
    # The queue change made on A reaches the console on B.
    await console.expect_type("conversation", conversation_id=cid, state="queued")
    async with b.http(token) as http:
        assert (await http.post(f"/api/agent/conversations/{cid}/take")).status_code == 200
    # B took it; the visitor on A hears the status change and who joined.
    state = await client.expect_type("state", state="assigned")
    assert state["agent"]["name"] == "Bea"
    await console.send({"type": "watch", "conversation_id": cid, "last_seq": 0})

    await client.say("Hello from replica A")
    got = await console.expect(
        lambda f: from_("visitor")(f) and f["text"].startswith("Hello"), timeout=LIVE_S
    )
    assert got["text"] == "Hello from replica A"

    await console.send({"type": "typing", "conversation_id": cid})
    typing = await client.expect_type("typing", conversation_id=cid)
    assert typing["sender"] == "agent"
    await console.send(
        {"type": "message", "conversation_id": cid, "client_msg_id": "r1", "text": "Hi from B"}
    )
    reply = await client.expect(from_("agent"), timeout=LIVE_S)
    assert reply["text"] == "Hi from B"
    await client.close()
    await console.close()


async def test_presence_crosses_replicas(replicas: tuple[Server, Server]) -> None:
    a, b = replicas
    watcher = await agent(a, await a.create_agent("watch@example.com", "Watcher"))
    bob = await agent(b, await b.create_agent("bob@example.com", "Bob"))
    bob_id = next(f["agent_id"] for f in bob.frames if f["type"] == "welcome")
    await watcher.expect_type("presence", agent_id=bob_id, status="online")
    await bob.close()
    await watcher.expect_type("presence", agent_id=bob_id, status="offline")
    await watcher.close()


async def test_an_agent_on_two_replicas_stays_online_when_one_socket_closes(
    replicas: tuple[Server, Server],
) -> None:
    a, b = replicas
    token = await a.create_agent()
    on_a, on_b = await agent(a, token), await agent(b, token)
    await on_a.close()
    # Still online through B: an escalation now queues instead of opening a ticket.
    client, _ = await visitor(a)
    await client.send({"type": "handoff", "client_msg_id": "h1"})
    state = await client.expect_type("state")
    assert state["state"] == "queued"
    await client.close()
    await on_b.close()


async def test_claims_are_race_free_across_replicas(replicas: tuple[Server, Server]) -> None:
    a, b = replicas
    tokens = [await a.create_agent(f"agent{i}@example.com", f"Agent {i}") for i in range(4)]
    consoles = [await agent(a if i % 2 else b, t) for i, t in enumerate(tokens)]
    chats = [await queued_chat(a if i % 2 else b) for i in range(6)]

    async def take(token: str, server: Server, cid: int) -> int:
        async with server.http(token) as http:
            return (await http.post(f"/api/agent/conversations/{cid}/take")).status_code

    results = await asyncio.gather(
        *(take(t, (a, b)[i % 2], cid) for _, cid in chats for i, t in enumerate(tokens))
    )
    per_chat = [results[i * len(tokens) : (i + 1) * len(tokens)] for i in range(len(chats))]
    for codes in per_chat:
        assert sorted(codes) == [200, 409, 409, 409], codes
    for client, _ in chats:
        await client.close()
    for console in consoles:
        await console.close()


async def test_knowledge_base_edit_is_live_on_every_replica(
    replicas: tuple[Server, Server],
) -> None:
    a, b = replicas
    engine = make_engine(a.settings.database_url)
    try:
        async with make_sessionmaker(engine)() as s:
            entries = await knowledge.load_entries(session=s)
            new = Entry(
                id="gift-wrap",
                question="Do you offer gift wrapping?",
                answer="Yes: gift wrapping costs €2.50 and you can add a card.",
                variants=("Can you wrap my order as a present?",),
            )
            await knowledge.replace_all(session=s, entries=[*entries, new])
    finally:
        await engine.dispose()
    for server in (a, b):
        deadline = time.monotonic() + 30  # the watcher polls every 5 s; a busy CI is slower
        while True:
            client, _ = await visitor(server)
            await client.say("Could you wrap it as a present?")
            answer = await client.expect(lambda f: f.get("type") == "message"
                                         and f["sender"] in ("bot", "system"))
            await client.close()
            if answer.get("meta", {}).get("entry_id") == "gift-wrap":
                break
            assert time.monotonic() < deadline, "the new entry never went live"
            await asyncio.sleep(1)


async def test_redis_loss_then_every_socket_catches_up(replicas: tuple[Server, Server]) -> None:
    a, b = replicas
    token = await b.create_agent(name="Bea")
    console = await agent(b, token)
    client, cid = await queued_chat(a)
    async with b.http(token) as http:
        assert (await http.post(f"/api/agent/conversations/{cid}/take")).status_code == 200
    await client.expect_type("state", state="assigned")
    await console.send({"type": "watch", "conversation_id": cid, "last_seq": 0})
    try:
        await asyncio.to_thread(
            subprocess.run, [*REDIS_CMD, "shutdown", "nosave"], capture_output=True, check=False
        )
        async with a.http() as http:
            for _ in range(100):
                if (await http.get("/readyz")).status_code == 503:
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("readiness did not notice the bus was gone")
        # Sent while the replicas cannot talk to each other: committed, not announced.
        for i in range(5):
            await console.send({"type": "message", "conversation_id": cid,
                                "client_msg_id": f"out{i}", "text": f"during outage {i}"})
            await console.expect_ack(f"out{i}")
    finally:
        if not redis_up():
            await asyncio.to_thread(start_redis)
    texts = []
    while len(texts) < 5:
        got = await client.expect(from_("agent"), timeout=15)
        texts.append(got["text"])
    assert texts == [f"during outage {i}" for i in range(5)]
    seqs = [m["seq"] for m in client.messages(cid)]
    assert seqs == sorted(set(seqs)), "in order, no duplicates"
    # And live again afterwards, across replicas.
    await client.say("back?")
    assert await console.expect(
        lambda f: from_("visitor")(f) and f["text"] == "back?", timeout=15
    )
    await client.close()
    await console.close()
