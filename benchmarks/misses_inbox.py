"""Print the misses inbox's figures (issue 15): how long the inbox takes to group real misses.

Usage: python benchmarks/misses_inbox.py [--kb KB.jsonl] [--traffic TRAFFIC.jsonl]

Builds the bot from KB (default: CLINC150's 10-shot FAQ with 30 entries missing), lets it
decide every TRAFFIC question, collects the ones it misses (`bot.learn.miss_reason`) as the
bot's turn does, in a fresh SQLite database, then times `handoff.misses.open_groups` (what
`GET /api/admin/misses` runs): the first call (encoding and clustering; wall clock and this
process's CPU time) and a repeat (cached for the same open misses). Prints the number of misses
and groups, the biggest groups' sizes, and how often a group's questions share one label
(TRAFFIC's `expected`).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.cli import upgrade_database  # noqa: E402
from app.db import make_engine, make_sessionmaker  # noqa: E402
from bot import Brain, learn, load_entries  # noqa: E402
from bot.evaluate import load_queries  # noqa: E402
from handoff import knowledge, misses, visitors  # noqa: E402
from handoff.messages import append_message  # noqa: E402
from handoff.models import Conversation, Sender  # noqa: E402

BENCH = ROOT.parent / "shared" / "benchmarks" / "clinc150"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kb", type=Path, default=BENCH / "faq-10shot-gaps.jsonl")
    parser.add_argument("--traffic", type=Path, default=BENCH / "traffic.jsonl")
    args = parser.parse_args()
    entries = load_entries(args.kb)
    queries = load_queries(args.traffic)
    brain = await Brain.create(entries, improve=False, cache_dir=None)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        await asyncio.to_thread(upgrade_database, url)
        engine = make_engine(url)
        sessions = make_sessionmaker(engine)
        labels = []
        async with brain, sessions() as session:
            await knowledge.replace_all(session=session, entries=entries)
            decisions = await asyncio.gather(*(brain.decide(text) for text, _ in queries))
            visitor = await visitors.create_visitor(session=session)
            for (text, expected), decision in zip(queries, decisions, strict=True):
                reason = learn.miss_reason(decision)
                if reason is None:
                    continue
                conv = Conversation(visitor_id=visitor.id)
                session.add(conv)
                await session.flush()
                await append_message(
                    session=session, conversation_id=conv.id, sender=Sender.VISITOR, text=text
                )
                await misses.record(
                    session=session, conversation_id=conv.id, seq=1, text=text, reason=reason
                )
                labels.append((text, expected))
            await session.commit()
            start, cpu = time.perf_counter(), time.process_time()
            groups = await misses.open_groups(session=session, brain=brain)
            first, first_cpu = time.perf_counter() - start, time.process_time() - cpu
            start = time.perf_counter()
            await misses.open_groups(session=session, brain=brain)
            again = time.perf_counter() - start
        await engine.dispose()
    label_of = dict(labels)
    pure = sum(
        Counter(label_of[m.text] for m in g.misses).most_common(1)[0][1] for g in groups
    ) / max(sum(len(g.misses) for g in groups), 1)
    print(f"traffic questions: {len(queries)}, misses collected: {len(labels)}")
    print(f"groups: {len(groups)}, biggest: {[g.count for g in groups[:10]]}")
    print(f"questions sharing their group's most common label: {pure:.3f}")
    print(
        f"open_groups: first {first * 1000:.0f} ms ({first_cpu * 1000:.0f} ms CPU),"
        f" again (cached) {again * 1000:.1f} ms"
    )


if __name__ == "__main__":
    asyncio.run(main())
