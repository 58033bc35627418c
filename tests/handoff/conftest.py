"""Fixtures for direct tests of the handoff services: the real test database, an in-memory bus.

No server and no bot model: a test calls the services with the `session` of tests/conftest.py
and listens on the bus the way a socket would, to see what was published after the commit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import make_engine
from handoff import agents, visitors
from handoff.bus import Event, MemoryBus
from handoff.models import Agent, AgentStatus, Conversation, utcnow
from handoff.writer import MessageWriter

PASSWORD = "correct horse battery"


@pytest.fixture
def bus() -> MemoryBus:
    return MemoryBus()


@pytest.fixture
async def writer(database_url: str, bus: MemoryBus) -> AsyncIterator[MessageWriter]:
    """The group-commit message writer, on connections of its own as in the app.

    On SQLite a test's own `session` holds the write lock from its first statement until it
    commits (BEGIN IMMEDIATE), so a test commits before it lets the writer write.
    """
    engine = make_engine(database_url)
    try:
        async with MessageWriter(engine, bus) as started:
            yield started
    finally:
        await engine.dispose()


class Listener:
    """A socket's view of the bus: what was published on its channels since the last look."""

    def __init__(self, bus: MemoryBus, channels: tuple[str, ...]) -> None:
        self.sub = bus.subscribe()
        for channel in channels:
            self.sub.add(channel)

    def events(self, type_: str | None = None) -> list[Event]:
        """Everything heard since the last call (of one frame type, if given)."""
        heard = []
        while (event := self.sub.get_nowait()) is not None:
            heard.append(event)
        return [e for e in heard if type_ is None or e["type"] == type_]


@pytest.fixture
def listen(bus: MemoryBus) -> Callable[..., Listener]:
    return lambda *channels: Listener(bus, channels)


@pytest.fixture
def new_chat(session: AsyncSession) -> Callable[..., Awaitable[Conversation]]:
    """A new visitor's conversation, with the bot (optionally with their e-mail on file)."""

    async def make(email: str | None = None) -> Conversation:
        visitor = await visitors.create_visitor(session=session)
        if email is not None:
            visitor.email = email  # as if they had typed it into the `email` frame
            await session.commit()
        return await visitors.open_conversation(session=session, visitor_id=visitor.id)

    return make


@pytest.fixture
def new_agent(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Awaitable[Agent]]:
    """An agent with a console that heartbeated `seen_ago_s` ago (none when OFFLINE)."""
    # Still argon2, with the cheapest parameters: the production cost (~0.1-0.7 s a hash)
    # would be most of these tests' time, and no test here is about passwords.
    monkeypatch.setattr(
        agents, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )

    async def make(
        name: str,
        *,
        capacity: int = 3,
        status: AgentStatus = AgentStatus.ONLINE,
        seen_ago_s: float = 0,
    ) -> Agent:
        agent = await agents.create_agent(
            session=session,
            email=f"{name.lower()}@example.com",
            name=name,
            password=PASSWORD,
            capacity=capacity,
        )
        if status != AgentStatus.OFFLINE:
            await agents.set_presence(
                session=session,
                agent_id=agent.id,
                status=status,
                now=utcnow() - timedelta(seconds=seen_ago_s),
            )
            await session.commit()
        return agent

    return make
