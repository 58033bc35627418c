"""A client gone silent (no frame, not even a ping) is closed with 1001; a pinging one stays."""

from __future__ import annotations

import asyncio

import pytest

from app.ws import hub
from tests.client import visitor
from tests.conftest import Server

CLOSE_IDLE = 1001


async def test_silent_socket_is_closed_and_pinging_socket_stays(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hub, "IDLE_TIMEOUT_S", 1.0)
    silent, _ = await visitor(server)
    pinging, _ = await visitor(server)

    async def ping_until_closed() -> None:
        while silent.ws.close_code is None:
            await pinging.send({"type": "ping"})
            await asyncio.sleep(0.3)

    pinger = asyncio.create_task(ping_until_closed())
    await asyncio.wait_for(silent.ws.wait_closed(), 20)  # the hub checks every few seconds
    await pinger
    assert silent.ws.close_code == CLOSE_IDLE

    await pinging.say("Is shipping free?")
    answer = await pinging.expect(lambda f: f.get("type") == "message" and f["sender"] == "bot")
    assert answer["meta"]["entry_id"] == "shipping-cost"
