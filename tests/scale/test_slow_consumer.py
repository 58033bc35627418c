"""A socket that cannot keep up is cut loose and resumes by seq; nobody else waits for it."""

from __future__ import annotations

import asyncio

from handoff.bus import SUBSCRIPTION_QUEUE_MAX
from handoff.events import conversation_channel
from tests.client import visitor
from tests.conftest import Server

CLOSE_TOO_SLOW = 1013


async def test_overflowing_socket_is_closed_and_resumes_without_delaying_others(
    server: Server,
) -> None:
    slow, slow_welcome = await visitor(server)
    other, _ = await visitor(server)
    cid = slow_welcome["conversation_id"]
    await slow.say("Is shipping free?")
    answer = await slow.expect(lambda f: f.get("type") == "message" and f["sender"] == "bot")

    # More events than its queue holds arrive before its pump can run once: the socket fell
    # too far behind (the same thing a stalled reader causes, only faster).
    bus = server.app.state.bus  # type: ignore[attr-defined]
    for _ in range(SUBSCRIPTION_QUEUE_MAX + 50):
        await bus.publish_after_commit(
            conversation_channel(cid),
            {"type": "typing", "conversation_id": cid, "sender": "agent", "name": "x"},
        )
    await asyncio.wait_for(slow.ws.wait_closed(), 20)
    assert slow.ws.close_code == CLOSE_TOO_SLOW

    # Nobody else noticed.
    await other.say("Do you accept returns?")
    reply = await other.expect(lambda f: f.get("type") == "message" and f["sender"] == "bot")
    assert reply["meta"]["entry_id"] == "returns-policy"

    # The cut socket resumes from its last seq: nothing missing, nothing twice.
    again, welcome = await visitor(
        server, token=slow_welcome["token"], conversation_id=cid, last_seq=answer["seq"]
    )
    assert welcome["conversation_id"] == cid
    await again.say("How long does delivery take?")
    after = await again.expect(lambda f: f.get("type") == "message" and f["sender"] == "bot")
    await again.drain()
    seqs = [m["seq"] for m in again.messages(cid)]
    assert seqs == sorted(set(seqs)) and seqs[0] == answer["seq"] + 1
    assert after["meta"]["entry_id"] == "shipping-time"
