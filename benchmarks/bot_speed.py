"""Print the bot's speed figures: cold start, one-message latency and batched throughput.

Usage: python benchmarks/bot_speed.py [--kb KB.jsonl] [--queries Q.jsonl] [--fine-tune]

- cold start: `Brain.create` on a 1,000-entry KB in a fresh process (model load included),
  built from the CLINC150 full KB: 1,000 entries of 3 phrasings each (question + 2 variants),
  with the encoder's ONNX export in the bot cache as after the first start (or in the image);
  `--no-export` measures a first start that has only the torch model.
- latency: one message at a time, p50 / p99 over 300 decisions.
- throughput: 200 questions arriving together, repeated; decisions per second.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot import Brain, Entry, load_entries  # noqa: E402
from bot.cache import base_export_dir, default_cache_dir, load_cached  # noqa: E402
from bot.evaluate import load_queries  # noqa: E402
from bot.runtime import DEFAULT_MODEL  # noqa: E402

BENCH = ROOT.parent / "shared" / "benchmarks" / "clinc150"
COLD_START_ENTRIES = 1000  # the cold-start scenario
PHRASINGS_PER_ENTRY = 3  # question + 2 variants: a typical hand-written FAQ entry
LATENCY_SAMPLES = 300
CONCURRENT = 200  # the throughput scenario
THROUGHPUT_ROUNDS = 10


def thousand_entries(source: list[Entry]) -> list[Entry]:
    """Cut the full KB's phrasings into 1,000 small entries."""
    pool = [(e.id, p) for e in source for p in e.phrasings()]
    entries = []
    for n in range(COLD_START_ENTRIES):
        group = [p for _, p in pool[n * PHRASINGS_PER_ENTRY : (n + 1) * PHRASINGS_PER_ENTRY]]
        entries.append(Entry(f"e{n:04d}", group[0], f"answer {n}", tuple(group[1:])))
    return entries


async def main() -> None:
    """Measure and print the figures as a table and one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", default=str(BENCH / "faq-10shot.jsonl"))
    parser.add_argument("--queries", default=str(BENCH / "dev-queries.jsonl"))
    parser.add_argument("--fine-tune", action="store_true", help="wait for the fine-tune too")
    parser.add_argument("--no-export", action="store_true", help="cold start without the export")
    args = parser.parse_args()
    cache = None if args.no_export else default_cache_dir()
    if cache is not None and load_cached(base_export_dir(cache, DEFAULT_MODEL)) is None:
        # A separate process, so the cold start below still loads everything itself.
        subprocess.run([sys.executable, "-m", "bot.warm_cache"], check=True, cwd=ROOT)

    big = thousand_entries(load_entries(BENCH / "faq-full.jsonl"))
    started = time.perf_counter()
    cold = await Brain.create(big, improve=False, cache_dir=cache)
    cold_start_s = time.perf_counter() - started
    cold_runtime = cold.status["runtime"]
    first = await cold.decide("how do i freeze my card")
    del cold

    brain = await Brain.create(load_entries(args.kb), fine_tune=args.fine_tune)
    texts = [text for text, _ in load_queries(args.queries)]
    async with brain:
        await brain.ready()
        await brain.decide("warm up")
        latencies = []
        for text in texts[:LATENCY_SAMPLES]:
            one = time.perf_counter()
            await brain.decide(text)
            latencies.append((time.perf_counter() - one) * 1000)
        started = time.perf_counter()
        decided = 0
        for round_ in range(THROUGHPUT_ROUNDS):
            chunk = texts[round_ * CONCURRENT : (round_ + 1) * CONCURRENT]
            decided += len(await asyncio.gather(*(brain.decide(t) for t in chunk)))
        throughput = decided / (time.perf_counter() - started)

    figures = {
        "cold_start_s_1000_entries": round(cold_start_s, 2),
        "p50_ms": round(float(np.percentile(latencies, 50)), 2),
        "p99_ms": round(float(np.percentile(latencies, 99)), 2),
        "throughput_qps_200_concurrent": round(throughput, 1),
        "stage": brain.status["stage"],
        "cold_first_decision": str(first.action),
        "cold_start_runtime": cold_runtime,
        "runtime": brain.status["runtime"],
    }
    print(f"cold start, 1,000 entries     {figures['cold_start_s_1000_entries']:8.2f} s")
    print(f"latency p50 / p99             {figures['p50_ms']:8.2f} / {figures['p99_ms']:.2f} ms")
    print(f"throughput, 200 concurrent    {figures['throughput_qps_200_concurrent']:8.1f} /s")
    print(json.dumps(figures))


if __name__ == "__main__":
    asyncio.run(main())
