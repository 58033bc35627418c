"""Oldest first across replicas (issue 16): 20 agents free a slot at once on 3 replicas on
PostgreSQL and Redis; the 20 longest-waiting chats are assigned, in queue order, each once."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from app.db import make_engine, make_sessionmaker
from handoff import agents, visitors
from handoff.models import Conversation, Message, Sender, utcnow
from handoff.states import ConversationState as S
from tests.client import ChatClient, agent
from tests.conftest import make_settings, run_server, seed_kb
from tests.conftest import test_backend as backend
from tests.scale.conftest import REDIS_URL, _bus_ready, redis_up

AGENTS = 20
WAITING = 30  # more than the freed slots: the youngest 10 must still be waiting
SETTLE_ROUNDS = 400  # polls of the database (0.05 s apart) for the drains to finish


async def test_twenty_agents_freeing_slots_on_three_replicas_assign_oldest_first_once(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend() != "postgresql" or not redis_up():
        pytest.skip("needs PostgreSQL and Redis (several replicas on one database)")
    # Cheap argon2 parameters: 20 production-cost hashes would be most of this test's time.
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(agents, "_hasher", cheap)
    await seed_kb(database_url)
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    now = utcnow()
    async with sessions() as s:
        team = [
            await agents.create_agent(
                session=s, email=f"a{i}@x.io", name=f"Agent {i}", password="x" * 12, capacity=1
            )
            for i in range(AGENTS)
        ]
        await s.commit()
        ids = [a.id for a in team]

    bus_url = f"{REDIS_URL}#test-{uuid.uuid4().hex[:8]}"
    settings = make_settings(database_url, bus_url=bus_url, routing_mode="auto")
    consoles: list[ChatClient] = []
    async with contextlib.AsyncExitStack() as stack:
        replicas = [await stack.enter_async_context(run_server(settings)) for _ in range(3)]
        await asyncio.gather(*(_bus_ready(r) for r in replicas))
        tokens = [replicas[0].app.state.tokens.for_agent(i) for i in ids]  # type: ignore[attr-defined]
        for n, token in enumerate(tokens):
            consoles.append(await agent(replicas[n % 3], token))

        # The chats only now that every agent has a console: the re-route sweep would hand
        # back chats held by agents without one.
        async with sessions() as s:
            held, waiting = [], []
            for i in range(AGENTS + WAITING):
                visitor = await visitors.create_visitor(session=s)
                conv = await visitors.open_conversation(session=s, visitor_id=visitor.id)
                conv.queued_at = now - timedelta(hours=1) + timedelta(seconds=i)
                if i < AGENTS:  # every agent's one slot is taken
                    conv.state, conv.assigned_agent_id, conv.assigned_at = S.ASSIGNED, ids[i], now
                    held.append(conv.id)
                else:
                    conv.state = S.QUEUED
                    waiting.append(conv.id)
            await s.commit()

        async def close(n: int) -> None:
            async with replicas[(n + 1) % 3].http(tokens[n]) as http:
                r = await http.post(f"/api/agent/conversations/{held[n]}/close")
                assert r.status_code == 200, r.text

        await asyncio.gather(*(close(n) for n in range(AGENTS)))  # every slot frees at once
        async with sessions() as s:
            for _ in range(SETTLE_ROUNDS):
                assigned = await s.scalar(
                    select(func.count()).where(
                        Conversation.id.in_(waiting), Conversation.state == S.ASSIGNED
                    )
                )
                if assigned == AGENTS:
                    break
                await s.commit()
                await asyncio.sleep(0.05)
            rows = (
                await s.execute(
                    select(
                        Conversation.id, Conversation.assigned_agent_id, Conversation.assigned_at
                    )
                    .where(Conversation.id.in_(waiting), Conversation.state == S.ASSIGNED)
                    .order_by(Conversation.assigned_at)
                )
            ).all()
            joined = dict(
                (
                    await s.execute(
                        select(Message.conversation_id, func.count())
                        .where(
                            Message.conversation_id.in_(waiting), Message.sender == Sender.SYSTEM
                        )
                        .group_by(Message.conversation_id)
                    )
                ).all()
            )
        for console in consoles:
            await console.close()
    await engine.dispose()

    assert [cid for cid, _, _ in rows] == waiting[:AGENTS], "the oldest 20, in queue order"
    assert sorted(agent_id for _, agent_id, _ in rows) == sorted(ids), "one chat per freed slot"
    assert all(joined.get(cid) == 1 for cid in waiting[:AGENTS]), "each assigned once"
    assert not any(cid in joined for cid in waiting[AGENTS:]), "the youngest still wait"
