"""A replica killed mid-delivery (SIGKILL) and restarted: every event is still delivered, at
least once, with the same idempotency key; the dead process's claims are taken over after
their lease."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from app.db import make_engine, make_sessionmaker
from handoff import webhook_admin, webhooks
from handoff.bus import make_bus
from handoff.webhook_models import WebhookDelivery
from handoff.webhooks import Targets
from tests.conftest import TEST_SECRET, free_port, seed_kb
from tests.webhook_receiver import Receiver

ROOT = Path(__file__).resolve().parents[2]
EVENTS = 12
READY_TIMEOUT_S = 180  # the model loads first: seconds alone, more on a busy machine
LEASE_S = 3


@contextlib.asynccontextmanager
async def serve(database_url: str, log: Path) -> AsyncIterator[subprocess.Popen[bytes]]:
    """`chatdesk serve` in its own process, ready; killed (if still alive) at the end."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HF_HUB_OFFLINE": "1",
        "CHATDESK_ENV": "test",
        "CHATDESK_DATABASE_URL": database_url,
        "CHATDESK_SECRET_KEY": TEST_SECRET,
        "CHATDESK_BOT_IMPROVE": "false",
        "CHATDESK_BOT_FINE_TUNE": "false",
        "CHATDESK_WEBHOOK_TIMEOUT_S": str(LEASE_S),
        "CHATDESK_WEBHOOK_LEASE_S": str(LEASE_S),
        "CHATDESK_WEBHOOK_RETRY_BASE_S": "0.1",
    }
    with log.open("ab") as out:
        proc = subprocess.Popen(  # noqa: ASYNC220 - started here, waited on below
            [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
            env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        async with httpx.AsyncClient(timeout=2) as http:
            while True:
                assert proc.poll() is None, tail(log)
                assert time.monotonic() < deadline, "not ready: " + tail(log)
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                        break
                await asyncio.sleep(0.2)
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


async def test_sigkill_mid_delivery_then_restart_delivers_every_event(
    database_url: str, tmp_path: Path
) -> None:
    await seed_kb(database_url)
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    log = tmp_path / "serve.log"
    try:
        with Receiver(delay_s=2.0) as receiver:  # slow: requests are in flight at the kill
            async with sessions() as s:
                await webhook_admin.create_endpoint(
                    session=s, bus=make_bus("memory://"), targets=Targets(), url=receiver.url,
                    event_types=["ticket.created"], description="restart test", enabled=True,
                    agent_id=None,
                )
            async with sessions() as s:  # committed events, as a service commits them
                for i in range(EVENTS):
                    await webhooks.emit(s, "ticket.created", {"ticket": {"id": i}})
                await s.commit()
            webhooks.SUBSCRIBED.forget()  # this test process is no replica
            async def deliveries() -> list[WebhookDelivery]:
                async with sessions() as s:
                    return list((await s.scalars(select(WebhookDelivery))).all())

            async with serve(database_url, log) as proc:
                await until(lambda: len(receiver.arrivals()) >= 2, 60)
                proc.send_signal(signal.SIGKILL)  # mid-delivery: no answer has come back yet
                proc.wait(10)
            in_flight = {r.event["id"]: r.headers for r in receiver.arrivals()}
            assert all(r.status == "pending" for r in await deliveries())
            receiver.delay_s = 0.0
            async with serve(database_url, log):
                deadline = time.monotonic() + 120
                while {r.status for r in await deliveries()} != {"delivered"}:
                    rows = await deliveries()
                    assert time.monotonic() < deadline, [(r.status, r.attempts) for r in rows]
                    await asyncio.sleep(0.2)
                rows = await deliveries()
        assert len(rows) == EVENTS, rows
        everything = receiver.arrivals()
        assert len({r.event["id"] for r in everything}) == EVENTS  # every event, none invented
        assert in_flight
        for event_id in in_flight:  # in flight when the process died: sent again, the same key
            resent = [r for r in everything if r.event["id"] == event_id]
            assert len(resent) >= 2, (event_id, len(resent))
            assert {r.headers["X-Chatdesk-Delivery"] for r in resent} == {
                in_flight[event_id]["X-Chatdesk-Delivery"]
            }
            assert len({r.body for r in resent}) == 1  # the very same body
        taken_over = {r.uuid for r in rows if r.attempts >= 2}
        assert {h["X-Chatdesk-Delivery"] for h in in_flight.values()} <= taken_over
    finally:
        await engine.dispose()


def tail(log: Path) -> str:
    return log.read_text()[-3000:]


async def until(done: object, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail("timed out")
        await asyncio.sleep(0.1)
