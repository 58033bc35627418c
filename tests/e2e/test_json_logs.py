"""`CHATDESK_LOG_FORMAT=json`: every line `chatdesk serve` logs is one JSON object with ids."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import httpx
import websockets

from tests.conftest import free_port


async def test_json_logs_carry_the_request_id_the_client_sent(tmp_path: Path) -> None:
    port = free_port()
    env = dict(
        os.environ,
        HF_HUB_OFFLINE="1",
        CHATDESK_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'logs.db'}",
        CHATDESK_LOG_FORMAT="json",
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app.cli", "serve", "--port", str(port),
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            for _ in range(480):
                try:
                    if (await http.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.25)
            r = await http.get("/api/health", headers={"X-Request-ID": "req-from-proxy-42"})
            assert r.headers["x-request-id"] == "req-from-proxy-42"
            made_up = await http.get("/api/health", headers={"X-Request-ID": "no spaces {}"})
            assert made_up.headers["x-request-id"] != "no spaces {}"  # ours instead
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws/visitor") as ws:
            await ws.send(json.dumps({"type": "hello"}))
            assert json.loads(await ws.recv())["type"] == "welcome"
    finally:
        proc.terminate()
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    lines = [json.loads(line) for line in err.decode().splitlines() if line.strip()]
    assert lines, "nothing logged"
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    access = [line for line in lines if line["logger"] == "uvicorn.access"]
    assert any(
        line["request_id"] == "req-from-proxy-42" and "/api/health" in line["message"]
        for line in access
    ), access
    assert any(line["request_id"] == made_up.headers["x-request-id"] for line in access)
    assert any("WebSocket /ws/visitor" in line["message"] and line["request_id"] for line in lines)
