"""Time to first answer and bot reply latency over real websockets against `chatdesk serve`.

Starts the real server (`chatdesk serve --demo`) on a fresh SQLite file, then:
  - start-up: process start -> first bot answer received by a visitor;
  - sequential: one visitor asks the demo FAQ questions one at a time (send -> bot reply);
  - concurrent: N visitors ask at once (send -> bot reply for each).

    .venv/bin/python benchmarks/chat_latency.py [--rounds 3] [--concurrent 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import websockets

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "where is my parcel?",
    "how much is delivery?",
    "can I send this back?",
    "when do I get my money back?",
    "do you take paypal?",
    "I forgot my password",
    "what size should I get?",
    "can I cancel my order?",
    "do you ship to Switzerland?",
    "how do I use a discount code?",
]


async def ask(url: str, text: str, hello: dict[str, object] | None = None) -> tuple[float, dict]:
    """Seconds from sending `text` to the bot's (or system's) reply, and that reply."""
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps({"type": "hello", **(hello or {})}))
        while json.loads(await ws.recv())["type"] != "welcome":
            pass
        start = time.perf_counter()
        await ws.send(
            json.dumps({"type": "message", "client_msg_id": uuid.uuid4().hex, "text": text})
        )
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == "message" and frame["sender"] in ("bot", "system"):
                return time.perf_counter() - start, frame


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrent", type=int, default=50)
    parser.add_argument("--port", type=int, default=8791)
    args = parser.parse_args()

    tmp = tempfile.mkdtemp()
    env = dict(
        os.environ,
        HF_HUB_OFFLINE="1",
        CHATDESK_PORT=str(args.port),
        CHATDESK_DATABASE_URL=f"sqlite+aiosqlite:///{tmp}/bench.db",
        CHATDESK_RATE_LIMITS="false",  # every simulated visitor is one loopback address
    )
    url = f"ws://127.0.0.1:{args.port}/ws/visitor"
    started = time.perf_counter()
    proc = subprocess.Popen(  # noqa: ASYNC220 - started once, before any timing
        [str(ROOT / ".venv/bin/chatdesk"), "serve", "--demo"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                _, first = await ask(url, QUESTIONS[0])
                break
            except OSError:
                await asyncio.sleep(0.1)
        startup = time.perf_counter() - started
        print(f"start-up to first answer: {startup:.1f} s (migrate, load demo KB, model, index)")
        print(f"  first answer: {first['meta'].get('entry_id')}: {first['text'][:60]}")

        sequential = []
        for _ in range(args.rounds):
            for q in QUESTIONS:
                seconds, _ = await ask(url, q)
                sequential.append(seconds * 1000)
        print(
            f"sequential reply time over {len(sequential)} questions: "
            f"p50 {statistics.median(sequential):.1f} ms, p99 {pct(sequential, 0.99):.1f} ms"
        )

        t0 = time.perf_counter()
        results = await asyncio.gather(
            *(ask(url, QUESTIONS[i % len(QUESTIONS)]) for i in range(args.concurrent))
        )
        wall = time.perf_counter() - t0
        times = [s * 1000 for s, _ in results]
        print(
            f"{args.concurrent} visitors at once (connect + ask): "
            f"p50 {statistics.median(times):.0f} ms, p99 {pct(times, 0.99):.0f} ms, "
            f"all answered in {wall:.2f} s"
        )
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
