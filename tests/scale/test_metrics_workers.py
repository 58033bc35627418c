"""`chatdesk serve --workers 2`: one scrape of /metrics sums what both worker processes did."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid

import httpx
import pytest

from tests.client import ChatClient
from tests.conftest import free_port, seed_kb
from tests.e2e.test_metrics import scrape, value
from tests.scale.conftest import REDIS_URL, redis_up

VISITORS = 8  # new connections: the kernel spreads them over both workers


async def test_a_scrape_sums_every_worker(database_url: str) -> None:
    if not redis_up():
        pytest.skip("Redis is not running on 127.0.0.1:6379 (see .ci/run)")
    await seed_kb(database_url)
    port = free_port()
    env = dict(
        os.environ,
        HF_HUB_OFFLINE="1",
        CHATDESK_DATABASE_URL=database_url,
        CHATDESK_BUS_URL=f"{REDIS_URL}#metrics-{uuid.uuid4().hex[:8]}",
        CHATDESK_RATE_LIMITS="false",
        CHATDESK_BOT_IMPROVE="false",
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # serve makes its own
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--workers", "2",
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base) as http:
            for _ in range(600):
                try:
                    if (await http.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
            before = await scrape(http)
            for n in range(VISITORS):
                client = await ChatClient.connect(f"ws://127.0.0.1:{port}/ws/visitor")
                await client.send({"type": "hello"})
                await client.expect_type("welcome")
                await client.say(f"hello there, number {n}")
                await client.expect_ack()
                await client.close()
            # Each scrape is answered by either worker: every one must see the sum of both.
            scrapes = [await scrape(http) for _ in range(10)]
    finally:
        proc.terminate()
        _, err = await asyncio.wait_for(proc.communicate(), 60)
    stored = "chatdesk_messages_stored_total"
    gained = [
        value(after, stored, sender="visitor") - value(before, stored, sender="visitor")
        for after in scrapes
    ]
    assert gained == [VISITORS] * len(scrapes), err.decode()[-2000:]
