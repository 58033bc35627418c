"""Disabling an agent on replica A logs out their console on replica B at once (issue 14)."""

from __future__ import annotations

import asyncio

import pytest
import websockets

from tests.client import agent
from tests.conftest import Server
from tests.e2e.test_privacy import admin_token

CLOSE_POLICY = 1008  # the console's "refused": it shows the log in form


async def test_a_console_on_the_other_replica_is_closed_when_its_agent_is_disabled(
    replicas: tuple[Server, Server],
) -> None:
    a, b = replicas
    admin = await admin_token(a)
    token = await b.create_agent("bea@example.com", "Bea")
    console = await agent(b, token)  # on B
    async with a.http(admin) as http:  # the admin works on A
        bea = next(m for m in (await http.get("/api/admin/agents")).json() if m["name"] == "Bea")
        assert (await http.post(f"/api/admin/agents/{bea['id']}/disable")).status_code == 200
    with pytest.raises(websockets.ConnectionClosed) as closed:
        async with asyncio.timeout(5):
            while True:
                await console.ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == CLOSE_POLICY
    async with b.http(token) as http:
        assert (await http.get("/api/agent/me")).status_code == 401
