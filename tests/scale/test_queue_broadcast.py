"""Issue 16 across replicas: one queue broadcast through Redis, every visitor's own place."""

from __future__ import annotations

from tests.client import agent, visitor
from tests.conftest import Server


async def test_visitors_on_both_replicas_move_up_from_one_broadcast(
    replicas: tuple[Server, Server],
) -> None:
    a, b = replicas
    token = await b.create_agent(name="Bea")
    console = await agent(b, token)  # online: escalations queue
    waiting = []
    for i in range(6):
        client, welcome = await visitor(a if i % 2 else b)
        await client.send({"type": "handoff", "client_msg_id": "h1"})
        state = await client.expect_type("state", state="queued")
        assert state["queue_position"] == i + 1
        waiting.append((client, welcome["conversation_id"]))

    head = waiting[0][1]
    async with b.http(token) as http:
        assert (await http.post(f"/api/agent/conversations/{head}/take")).status_code == 200

    for place, (client, cid) in enumerate(waiting[1:], start=1):
        moved = await client.expect_type("state", state="queued", queue_position=place)
        assert moved["conversation_id"] == cid
    for client, _ in waiting:
        await client.close()
    await console.close()
