"""Graceful shutdown of a real `chatdesk serve` process, and workers that must share a bus."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import websockets

from app.cli import upgrade_database
from tests.conftest import TEST_KB, free_port, seed_kb

START_TIMEOUT_S = 120  # model load on a busy two-core machine


def serve(db_url: str, port: int, *extra: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ, CHATDESK_DATABASE_URL=db_url, CHATDESK_PORT=str(port),
               CHATDESK_BOT_IMPROVE="false", HF_HUB_OFFLINE="1")
    return subprocess.Popen([sys.executable, "-m", "app.cli", "serve", *extra], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def test_sigterm_closes_sockets_with_1012_and_exits(tmp_path: Path) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'shutdown.db'}"
    await asyncio.to_thread(upgrade_database, db_url)
    await seed_kb(db_url, TEST_KB)
    port = free_port()
    proc = serve(db_url, port)
    try:
        ws = None
        for _ in range(START_TIMEOUT_S * 10):
            try:
                ws = await websockets.connect(f"ws://127.0.0.1:{port}/ws/visitor")
                break
            except OSError:
                await asyncio.sleep(0.1)
        assert ws is not None, "server never started"
        await ws.send(json.dumps({"type": "hello"}))
        assert json.loads(await ws.recv())["type"] == "welcome"

        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(ws.wait_closed(), 30)
        assert ws.close_code == 1012, "clients are told to reconnect elsewhere"
        # uvicorn finishes its graceful shutdown, then re-raises SIGTERM on itself.
        assert await asyncio.to_thread(proc.wait, 30) in (0, -signal.SIGTERM)
    finally:
        if proc.poll() is None:
            proc.kill()


async def test_several_workers_refuse_the_in_memory_bus(tmp_path: Path) -> None:
    proc = serve(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", free_port(), "--workers", "2")
    assert await asyncio.to_thread(proc.wait, 60) == 2
