"""How long each report takes (issue 15) on 100,000 conversations.

Seeds a fresh database with bulk inserts: conversations over the last 90 days with their
messages, bot answers and "was this helpful?" votes, escalations (queue and tickets), agents'
replies, closes, ratings and NPS answers; then times every report (handoff/reports.py) over the
90 days and over the last 30, with business hours Monday to Friday 09:00-17:00 in Berlin.

    .venv/bin/python benchmarks/reports.py                       # a temporary SQLite file
    .venv/bin/python benchmarks/reports.py --db postgresql+asyncpg://postgres@127.0.0.1/test

With PostgreSQL, a throw-away database is created next to the one named (and dropped after).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Table, insert, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.cli import upgrade_database  # noqa: E402
from app.db import make_engine, make_sessionmaker  # noqa: E402
from handoff import reports  # noqa: E402
from handoff.hours import BusinessHours  # noqa: E402
from handoff.models import (  # noqa: E402
    Agent,
    Conversation,
    Message,
    MessageFeedback,
    Rating,
    Ticket,
    Visitor,
)
from handoff.report_figures import make_period  # noqa: E402
from handoff.report_models import NpsAnswer  # noqa: E402

DAYS = 90
AGENTS = 10
CHUNK = 5000  # rows per INSERT batch
ENTRIES = [f"entry-{i}" for i in range(150)]
REASONS = ["low_confidence", "asked_for_human", "repeated_misses", "none_of_these", "language"]
HOURS = BusinessHours.parse(
    {d: "09:00-17:00" for d in ("mon", "tue", "wed", "thu", "fri")}, "Europe/Berlin"
)


def table(model: Any) -> Table:
    return model.__table__  # type: ignore[no-any-return]


def make_rows(n: int, seed: int = 15) -> dict[str, list[dict[str, Any]]]:
    """n conversations and everything around them, as rows per table."""
    rnd = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    rows: dict[str, list[dict[str, Any]]] = {k: [] for k in (
        "visitors", "agents", "conversations", "messages", "feedback", "ratings", "nps", "tickets")}
    rows["agents"] = [{"id": i, "email": f"a{i}@x.io", "name": f"Agent {i}", "password_hash": "-",
                       "is_admin": False, "capacity": 3, "status": "offline", "created_at": now}
                      for i in range(1, AGENTS + 1)]
    # Ids grow with time, as they do in a live database.
    starts = sorted(now - timedelta(seconds=rnd.randrange(DAYS * 86400)) for _ in range(n))
    for cid, created in enumerate(starts, 1):
        rows["visitors"].append({"id": cid, "created_at": created, "last_seen_at": created})
        msgs = [("visitor", None, None, created)]
        conv: dict[str, Any] = {"id": cid, "visitor_id": cid, "state": "bot", "bot_misses": 0,
                                "created_at": created, "escalation_reason": None,
                                "assigned_agent_id": None, "queued_at": None,
                                "assigned_at": None, "closed_at": None}
        answered = created + timedelta(seconds=1)
        msgs.append(("bot", None, {"kind": "answer", "entry_id": rnd.choice(ENTRIES)}, answered))
        if rnd.random() < 0.2:
            rows["feedback"].append({"conversation_id": cid, "seq": 2,
                                     "helpful": rnd.random() < 0.75, "created_at": answered})
        if rnd.random() < 0.4:  # escalated
            conv["escalation_reason"] = rnd.choice(REASONS)
            at = answered + timedelta(seconds=30)
            msgs.append(("system", None, {"kind": "escalate"}, at))
            reply = at + timedelta(seconds=rnd.randrange(30, 6 * 3600))
            agent = rnd.randrange(1, AGENTS + 1)
            if rnd.random() < 0.75:  # queue, then an agent
                closed = reply + timedelta(minutes=rnd.randrange(60))
                conv.update(state="closed", queued_at=at, assigned_agent_id=agent,
                            assigned_at=reply, closed_at=closed)
            else:
                conv.update(state="ticket")
                rows["tickets"].append({"conversation_id": cid, "status": "open",
                                        "created_at": at, "updated_at": at})
            msgs.append(("agent", agent, None, reply))
            if conv["closed_at"] and rnd.random() < 0.5:
                rows["ratings"].append({"conversation_id": cid, "stars": rnd.randint(1, 5),
                                        "created_at": conv["closed_at"]})
                if rnd.random() < 0.3:
                    rows["nps"].append({"conversation_id": cid, "score": rnd.randint(0, 10),
                                        "created_at": conv["closed_at"]})
        for seq, (sender, agent_id, meta, at) in enumerate(msgs, 1):
            rows["messages"].append({"conversation_id": cid, "seq": seq, "sender": sender,
                                     "agent_id": agent_id, "client_msg_id": None, "text": "…",
                                     "meta": meta, "created_at": at})
        conv["last_seq"] = len(msgs)
        rows["conversations"].append(conv)
    return rows


async def seed(url: str, n: int) -> float:
    started = time.perf_counter()
    rows = make_rows(n)
    engine = make_engine(url)
    order = [("visitors", Visitor), ("agents", Agent), ("conversations", Conversation),
             ("messages", Message), ("feedback", MessageFeedback), ("tickets", Ticket),
             ("ratings", Rating), ("nps", NpsAnswer)]
    try:
        async with engine.begin() as conn:
            for key, model in order:
                for i in range(0, len(rows[key]), CHUNK):
                    await conn.execute(insert(table(model)), rows[key][i:i + CHUNK])
            if engine.dialect.name == "postgresql":
                await conn.execute(text("ANALYZE"))
        print(f"seeded {n:,} conversations, {len(rows['messages']):,} messages, "
              f"{len(rows['tickets']):,} tickets, {len(rows['ratings']):,} ratings, "
              f"{len(rows['nps']):,} NPS answers in {time.perf_counter() - started:.1f} s")
    finally:
        await engine.dispose()
    return time.perf_counter() - started


async def time_reports(url: str) -> None:
    engine = make_engine(url)
    today = datetime.now(HOURS.timezone).date()
    periods = {f"{DAYS} days": DAYS, "30 days": 30}
    try:
        print(f"{'report':<16}" + "".join(f"{p:>12}" for p in periods))
        for name in reports.REPORTS:
            cells = []
            for days in periods.values():
                period = make_period(first=today - timedelta(days=days), last=today,
                                     timezone=HOURS.timezone)
                scope = reports.Scope(period=period, hours=HOURS, nps_enabled=True)
                async with make_sessionmaker(engine)() as s:
                    start = time.perf_counter()
                    await reports.build(session=s, name=name, scope=scope)
                    cells.append(time.perf_counter() - start)
            print(f"{name:<16}" + "".join(f"{c * 1000:>9.0f} ms" for c in cells))
    finally:
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="postgresql+asyncpg://... (default: a temporary SQLite file)")
    parser.add_argument("--conversations", type=int, default=100_000)
    args = parser.parse_args()
    if args.db is None:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{tmp}/bench.db"
            await asyncio.to_thread(upgrade_database, url)
            await seed(url, args.conversations)
            await time_reports(url)
        return
    name = f"chatdesk_bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(args.db).execution_options(isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = args.db.rsplit("/", 1)[0] + "/" + name
    try:
        await asyncio.to_thread(upgrade_database, url)
        await seed(url, args.conversations)
        await time_reports(url)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


if __name__ == "__main__":
    asyncio.run(main())
