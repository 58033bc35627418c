"""Two replicas of the real app on one database and one Redis: the multi-replica fixtures."""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from collections.abc import AsyncIterator

import pytest

from tests.conftest import Server, make_settings, run_server, seed_kb

REDIS_URL = "redis://127.0.0.1:6379/0"
REDIS_CMD = ["redis-cli", "-h", "127.0.0.1", "-p", "6379"]


def redis_up() -> bool:
    try:
        out = subprocess.run([*REDIS_CMD, "ping"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.stdout.strip() == "PONG"


def start_redis() -> None:
    subprocess.run(
        ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", "6379",
         "--save", "", "--appendonly", "no"],
        check=True, capture_output=True,
    )
    for _ in range(50):
        if redis_up():
            return
        time.sleep(0.1)
    raise RuntimeError("redis did not start")


@pytest.fixture
async def replicas(database_url: str) -> AsyncIterator[tuple[Server, Server]]:
    """Replicas A and B: same database, same Redis namespace (unique to this test)."""
    if not redis_up():
        pytest.skip("Redis is not running on 127.0.0.1:6379 (see .ci/run)")
    await seed_kb(database_url)
    bus_url = f"{REDIS_URL}#test-{uuid.uuid4().hex[:8]}"
    settings = make_settings(database_url, bus_url=bus_url, routing_mode="manual")
    async with run_server(settings) as a, run_server(settings) as b:
        await asyncio.gather(_bus_ready(a), _bus_ready(b))
        yield a, b


async def _bus_ready(server: Server) -> None:
    async with server.http() as http:
        for _ in range(100):
            if (await http.get("/readyz")).status_code == 200:
                return
            await asyncio.sleep(0.05)
    raise AssertionError("replica never became ready")
