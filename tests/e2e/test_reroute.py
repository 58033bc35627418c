"""Re-routing over real websockets (issue 16): an agent whose presence expires mid-chat loses
it to the head of the queue and a colleague gets it with nothing lost; a silent agent's console
is warned, then the chat goes to a colleague."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from tests.client import ChatClient, agent
from tests.conftest import make_settings, run_server, seed_kb
from tests.e2e.test_routing import add_agent, assigned_to, escalated

PING_S = 0.3  # well inside the tests' 2 s presence timeout


@contextlib.asynccontextmanager
async def pinging(console: ChatClient) -> AsyncIterator[None]:
    """Keep an agent's console heartbeating (the console's own heartbeat is every 25 s)."""

    async def beat() -> None:
        while True:
            await console.send({"type": "ping"})
            await asyncio.sleep(PING_S)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        # Read the pongs: a client whose unread frames fill its queue never sees the close.
        await console.drain(0.1)


async def test_presence_expires_mid_chat_the_chat_goes_first_to_the_colleague(
    database_url: str,
) -> None:
    await seed_kb(database_url)
    settings = make_settings(
        database_url, routing_mode="auto", presence_timeout_s=2, reroute_sweep_s=0.2
    )
    async with run_server(settings) as srv:
        ann = await agent(srv, await add_agent(srv, "ann@x.io", "Ann", 1))
        bob_token = await add_agent(srv, "bob@x.io", "Bob", 1)
        bob = await agent(srv, bob_token)
        async with pinging(bob):
            async with pinging(ann):
                v1, c1, _ = await escalated(srv)
                assert await assigned_to(v1) == "Ann"
                v2, c2, _ = await escalated(srv)
                assert await assigned_to(v2) == "Bob"
                v3, c3, s3 = await escalated(srv)
                assert s3["state"] == "queued" and s3["queue_position"] == 1
                await v1.say("my order 1234 never came")
                await v1.expect_ack()
            # Ann's console stops heartbeating (a hung laptop, a dead replica): after the
            # presence timeout her chat is back in the queue, ahead of the one waiting.
            await v1.expect(lambda f: f.get("type") == "message" and f["sender"] == "system"
                            and "A colleague will take over" in f["text"])
            back = await v1.expect_type("state", state="queued")
            assert back["queue_position"] == 1
            await v3.expect_type("state", state="queued", queue_position=2)
            await v1.say("still there?")
            await v1.expect_ack()
            async with srv.http(bob_token) as http:
                r = await http.post(f"/api/agent/conversations/{c2}/close")
                assert r.status_code == 200
                assert await assigned_to(v1) == "Bob", "the re-queued chat was first in line"
                transcript = (await http.get(f"/api/agent/conversations/{c1}")).json()
        texts = [m["text"] for m in transcript["messages"]]
        assert "my order 1234 never came" in texts and "still there?" in texts, texts
        assert texts.index("my order 1234 never came") < texts.index("still there?")
        await v3.drain(0.2)
        assert [f["state"] for f in v3.frames if f.get("type") == "state"][-1] == "queued"
        for c in (v1, v2, v3, ann, bob):
            await c.close()


async def test_a_silent_agent_is_warned_then_a_colleague_takes_over(database_url: str) -> None:
    await seed_kb(database_url)
    settings = make_settings(
        database_url,
        routing_mode="auto",
        agent_silent_warn_s=1,
        agent_silent_reroute_s=1,
        reroute_sweep_s=0.2,
    )
    async with run_server(settings) as srv:
        ann = await agent(srv, await add_agent(srv, "ann@x.io", "Ann", 2))
        bob = await agent(srv, await add_agent(srv, "bob@x.io", "Bob", 2))
        v1, c1, _ = await escalated(srv)
        assert await assigned_to(v1) == "Ann"
        warning = await ann.expect_type("agent_silent", conversation_id=c1)
        assert warning["reroute_at"] is not None
        assert await assigned_to(v1) == "Bob", "re-routed to someone else, not back to Ann"
        for c in (v1, ann, bob):
            await c.close()
