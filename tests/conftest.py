"""Shared fixtures: a real database (SQLite file or PostgreSQL) and a real server on loopback.

The database is chosen by CHATDESK_TEST_DATABASE (`sqlite`, the default, or `postgresql`);
`make test` runs the database-backed tests once for each.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import os
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from aiosmtpd.controller import Controller
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from app.cli import upgrade_database  # noqa: E402
from app.db import make_engine, make_sessionmaker  # noqa: E402
from app.main import create_app  # noqa: E402
from app.settings import Environment, Settings  # noqa: E402
from app.ws.frames import MAX_FRAME_BYTES  # noqa: E402
from bot import load_entries  # noqa: E402
from handoff import agents, knowledge  # noqa: E402
from handoff.models import Base  # noqa: E402

TEST_KB = Path(__file__).parent / "data" / "shop_kb.jsonl"
PG_ADMIN_URL = os.environ.get(
    "CHATDESK_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
TEST_SECRET = "test-secret-" + "x" * 32
AGENT_PASSWORD = "correct horse battery"
SHUTDOWN_S = 10  # as `chatdesk serve`: a test server never outlives its test by more


def test_backend() -> str:
    return os.environ.get("CHATDESK_TEST_DATABASE", "sqlite")


@pytest.fixture(scope="session")
async def postgres_database() -> AsyncIterator[str | None]:
    """A throw-away PostgreSQL database for this test run, migrated once (None on SQLite)."""
    if test_backend() != "postgresql":
        yield None
        return
    name = f"chatdesk_test_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_ADMIN_URL).execution_options(isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    await asyncio.to_thread(upgrade_database, url)
    try:
        yield url
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@pytest.fixture
async def database_url(tmp_path: Path, postgres_database: str | None) -> AsyncIterator[str]:
    """An empty, migrated database for one test."""
    if postgres_database is not None:
        url = postgres_database
        engine = make_engine(url)
        async with engine.begin() as conn:
            tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        await engine.dispose()
        yield url
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'chatdesk.db'}"
        await asyncio.to_thread(upgrade_database, url)
        yield url


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as s:
            yield s
    finally:
        await engine.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running chatdesk on loopback, its settings and its app."""

    base_url: str
    ws_url: str
    settings: Settings
    app: object
    server: uvicorn.Server

    def http(self, token: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=30)

    async def create_agent(self, email: str = "alice@example.com", name: str = "Alice") -> str:
        """Create an agent and return a login token."""
        engine = make_engine(self.settings.database_url)
        try:
            async with make_sessionmaker(engine)() as s:
                await agents.create_agent(
                    session=s, email=email, name=name, password=AGENT_PASSWORD
                )
        finally:
            await engine.dispose()
        async with self.http() as client:
            r = await client.post(
                "/api/agent/login", json={"email": email, "password": AGENT_PASSWORD}
            )
            r.raise_for_status()
            return str(r.json()["token"])


async def seed_kb(url: str, path: Path = TEST_KB) -> None:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:
            await knowledge.replace_all(session=s, entries=load_entries(path))
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def run_server(settings: Settings) -> AsyncIterator[Server]:
    """Serve the real app with uvicorn on a free loopback port until the block ends."""
    app = create_app(settings)
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on",
        timeout_graceful_shutdown=SHUTDOWN_S, ws_per_message_deflate=False,
        # As `chatdesk serve` (app/cli.py): its frame limit, its trusted proxies.
        ws_max_size=MAX_FRAME_BYTES,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # startup failed: raise its error here
        await asyncio.sleep(0.02)
    try:
        yield Server(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", settings, app, server)
    finally:
        server.should_exit = True
        await task


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "env": Environment.TEST,
        "database_url": database_url,
        "secret_key": TEST_SECRET,
        # Chats stay in the queue until an agent takes them, unless a test asks for "auto".
        "routing_mode": "manual",
        # The chat tests need the bot to decide the same way throughout a test; the
        # background training stages have their own tests in tests/bot.
        "bot_improve": False,
        "bot_fine_tune": False,
        # Tests make many visitors from one loopback address quickly; the abuse limits have
        # their own tests (tests/e2e/test_limits.py), which turn them on.
        "rate_limits": False,
        # Many tests take chats over REST with no console open: the re-route sweep would hand
        # them back as "agent gone" a few seconds in. Its own tests (test_reroute*.py) set it short.
        "reroute_sweep_s": 300,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[Server]:
    """chatdesk with the small test knowledge base, on the test database."""
    await seed_kb(database_url)
    async with run_server(make_settings(database_url)) as srv:
        yield srv


@dataclass
class Inbox:
    """Mail the local SMTP server accepted, readable from the test's event loop."""

    loop: asyncio.AbstractEventLoop
    messages: list[EmailMessage] = field(default_factory=list)
    arrived: asyncio.Queue[EmailMessage] = field(default_factory=asyncio.Queue)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.loop.call_soon_threadsafe(self.arrived.put_nowait, msg)
        return "250 OK"

    async def next(self) -> EmailMessage:
        msg = await asyncio.wait_for(self.arrived.get(), 20)
        self.messages.append(msg)
        return msg


@pytest.fixture
async def smtp() -> AsyncIterator[tuple[Inbox, int]]:
    """A real SMTP server (aiosmtpd) on a free loopback port, and what it received."""
    inbox = Inbox(asyncio.get_running_loop())
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()
