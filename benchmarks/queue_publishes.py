"""Redis publishes per queue change with many queued visitors: before and after issue 16.

Before, a queue change published one `state` event per queued visitor (their new place);
now it publishes one broadcast of the ordered queue and each visitor socket works out its
own place. This queues N visitors on a fresh SQLite file, then makes one queue change (the
head of the queue is taken) and counts the publishes both ways, twice over: Redis's own
`INFO commandstats` (cmdstat_publish calls; other clients of the same Redis add noise) and
a pattern subscription on this run's own namespace (exact).

    .venv/bin/python benchmarks/queue_publishes.py [--queued 500] [--redis redis://127.0.0.1:6379/0]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from sqlalchemy import select, update

from app.db import make_engine, make_sessionmaker
from handoff.bus import RedisBus
from handoff.events import conversation_channel, state_event
from handoff.models import Base, Conversation, Visitor, utcnow
from handoff.queue import estimated_wait_s, publish_queue_positions, recent_wait_s
from handoff.states import ConversationState as S


async def publish_per_visitor(*, session: Any, bus: RedisBus) -> None:
    """The code before issue 16 (handoff/queue.py): one `state` publish per queued visitor."""
    queued = (
        await session.scalars(
            select(Conversation)
            .where(Conversation.state == S.QUEUED)
            .order_by(Conversation.queued_at, Conversation.id)
        )
    ).all()
    median = await recent_wait_s(session=session) if queued else None
    for position, conv in enumerate(queued, start=1):
        await bus.publish_after_commit(
            conversation_channel(conv.id),
            state_event(
                conv, queue_position=position, estimated_wait_s=estimated_wait_s(median, position)
            ),
        )


async def publish_calls(r: aioredis.Redis) -> int:
    stats = await r.info("commandstats")
    return int(stats.get("cmdstat_publish", {}).get("calls", 0))


async def measure(url: str, n: int) -> dict[str, tuple[int, int]]:
    namespace = "bench-" + uuid.uuid4().hex[:8]
    bus = RedisBus(f"{url}#{namespace}")
    r = aioredis.from_url(url)
    heard = 0

    async def count_ours() -> None:
        nonlocal heard
        pubsub = r.pubsub()
        await pubsub.psubscribe(f"chatdesk:{namespace}:*")
        async for raw in pubsub.listen():
            if raw.get("type") == "pmessage":
                heard += 1

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        sessions = make_sessionmaker(engine)
        start = utcnow() - timedelta(hours=1)
        async with sessions() as session:
            visitors = [Visitor() for _ in range(n + 1)]
            session.add_all(visitors)
            await session.flush()
            session.add_all(
                Conversation(
                    visitor_id=v.id, state=S.QUEUED, queued_at=start + timedelta(seconds=k)
                )
                for k, v in enumerate(visitors)
            )
            await session.commit()
        listener = asyncio.create_task(count_ours())
        await asyncio.sleep(0.2)  # the pattern subscription is in place
        results: dict[str, tuple[int, int]] = {}
        try:
            for label, publish in (("before", publish_per_visitor), ("after", None)):
                async with sessions() as session:
                    # One queue change: the head of the queue is taken by an agent.
                    head = await session.scalar(
                        select(Conversation.id)
                        .where(Conversation.state == S.QUEUED)
                        .order_by(Conversation.queued_at, Conversation.id)
                        .limit(1)
                    )
                    await session.execute(
                        update(Conversation)
                        .where(Conversation.id == head)
                        .values(state=S.ASSIGNED, assigned_at=utcnow())
                    )
                    await session.commit()
                    heard_before, calls_before = heard, await publish_calls(r)
                    if publish is None:
                        await publish_queue_positions(session=session, bus=bus)
                    else:
                        await publish(session=session, bus=bus)
                    await asyncio.sleep(0.5)  # the counting subscriber hears every one
                    results[label] = (heard - heard_before, await publish_calls(r) - calls_before)
        finally:
            listener.cancel()
            await r.aclose()
            await engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queued", type=int, default=500)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    results = asyncio.run(measure(args.redis, args.queued))
    print(f"one queue change with {args.queued} visitors queued:")
    for label, (ours, calls) in results.items():
        print(f"  {label:6}: {ours} publishes on the bus (Redis cmdstat_publish +{calls})")


if __name__ == "__main__":
    main()
