"""Measure the bot on a knowledge base and a labelled query file (benchmark README figures)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bot.brain import Brain
from bot.decision import Action, Decision
from bot.kb import Entry
from bot.kbfile import KBFormatError, load_entries, load_oos_examples, oos_sidecar
from bot.runtime import DEFAULT_MODEL

CONCURRENCY = 200  # the throughput scenario: 200 questions arriving together
LATENCY_SAMPLE = 300  # one-at-a-time decisions timed for p50/p99; enough for a stable p99


def load_queries(path: str | Path) -> list[tuple[str, str | None]]:
    """Read `{"text", "expected"}` lines; raise KBFormatError naming the bad line."""
    queries: list[tuple[str, str | None]] = []
    for number, raw in enumerate(Path(path).read_text(encoding="utf-8-sig").splitlines(), 1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
            text, expected = record["text"], record.get("expected")
        except (json.JSONDecodeError, KeyError, TypeError):
            raise KBFormatError(f'{path}:{number}: expected {{"text", "expected"}}') from None
        queries.append((str(text), None if expected is None else str(expected)))
    return queries


async def _run(
    kb_path: str | Path, queries_path: str | Path, fine_tune: bool, model: str
) -> dict[str, Any]:
    entries = load_entries(kb_path)
    queries = load_queries(queries_path)
    report, _, _ = await measure(
        entries, queries, oos_examples=kb_oos_examples(kb_path), fine_tune=fine_tune, model=model
    )
    return report


def kb_oos_examples(kb_path: str | Path) -> list[str] | None:
    """Out-of-scope examples are part of a KB when its admin collected some (`KB.oos.jsonl`)."""
    sidecar = oos_sidecar(kb_path)
    return load_oos_examples(sidecar) if sidecar.exists() else None


async def measure(
    entries: list[Entry],
    queries: Sequence[tuple[str, str | None]],
    *,
    oos_examples: list[str] | None,
    fine_tune: bool,
    model: str,
    also: Sequence[str] = (),
) -> tuple[dict[str, Any], list[Decision], Brain]:
    """Build a fresh brain, report on the queries, decide `also` (first messages) with it;
    the brain is returned stopped (its index still embeds and decides, unbatched)."""
    started = time.perf_counter()
    brain = await Brain.create(
        entries, model=model, fine_tune=fine_tune, oos_examples=oos_examples
    )
    build_s = time.perf_counter() - started
    texts = [text for text, _ in queries]
    async with brain:
        # Measure the bot as it runs once background training has finished.
        await brain.ready()
        improve_s = time.perf_counter() - started - build_s
        await brain.decide("warm up")
        decisions: list[Decision] = []
        started = time.perf_counter()
        for begin in range(0, len(texts), CONCURRENCY):
            chunk = texts[begin : begin + CONCURRENCY]
            decisions.extend(await asyncio.gather(*(brain.decide(t) for t in chunk)))
        elapsed = time.perf_counter() - started
        latencies = []
        for text in texts[:LATENCY_SAMPLE]:
            one = time.perf_counter()
            await brain.decide(text)
            latencies.append((time.perf_counter() - one) * 1000)
        extra: list[Decision] = []
        for begin in range(0, len(also), CONCURRENCY):
            visits = also[begin : begin + CONCURRENCY]
            extra.extend(await asyncio.gather(*(brain.decide(t) for t in visits)))
    report = score(queries, decisions)
    report |= {
        "p50_ms": round(float(np.percentile(latencies, 50)), 2) if latencies else 0.0,
        "p99_ms": round(float(np.percentile(latencies, 99)), 2) if latencies else 0.0,
        "throughput_qps": round(len(texts) / elapsed, 1) if elapsed > 0 else 0.0,
        "build_s": round(build_s, 2),
        "improve_s": round(improve_s, 2),
        "stage": brain.status["stage"],
        "model": model,
        "oos_examples": len(oos_examples or []),
        "thresholds": brain.status["thresholds"],
    }
    return report, extra, brain


def score(
    queries: Sequence[tuple[str, str | None]], decisions: Sequence[Decision]
) -> dict[str, Any]:
    """The README figures from decisions on labelled queries (fractions of in-scope / OOS)."""
    counts = dict.fromkeys(
        ["top1", "answered_correct", "wrong_answer", "clarified", "clarified_wrong", "escalated"], 0
    )
    oos = dict.fromkeys(["escalated", "answered", "clarified"], 0)
    for (_, expected), decision in zip(queries, decisions, strict=True):
        best = decision.candidates[0].entry_id if decision.candidates else None
        if expected is None:
            key = {Action.ESCALATE: "escalated", Action.ANSWER: "answered"}
            oos[key.get(decision.action, "clarified")] += 1
            continue
        counts["top1"] += best == expected
        if decision.action is Action.ANSWER:
            counts["answered_correct" if decision.entry_id == expected else "wrong_answer"] += 1
        elif decision.action is Action.CLARIFY:
            offered = {c.entry_id for c in decision.candidates[:3]}
            counts["clarified" if expected in offered else "clarified_wrong"] += 1
        else:
            counts["escalated"] += 1
    n_in = sum(1 for _, expected in queries if expected is not None)
    n_oos = len(queries) - n_in

    def frac(value: int, total: int) -> float:
        return round(value / total, 4) if total else 0.0

    return {
        "top1_accuracy": frac(counts["top1"], n_in),
        "answered_correct": frac(counts["answered_correct"], n_in),
        "wrong_answer": frac(counts["wrong_answer"], n_in),
        "clarified": frac(counts["clarified"], n_in),
        "escalated": frac(counts["escalated"], n_in),
        "oos_recall": frac(oos["escalated"], n_oos),
        "oos_answered": frac(oos["answered"], n_oos),
        "in_scope": n_in,
        "out_of_scope": n_oos,
        "counts": counts | {f"oos_{k}": v for k, v in oos.items()},
    }


def evaluate(
    kb_path: str | Path,
    queries_path: str | Path,
    *,
    fine_tune: bool = True,
    model: str = DEFAULT_MODEL,
) -> dict[str, Any]:
    """Build a fresh index from the KB file, decide every query as a first message, report."""
    return asyncio.run(_run(kb_path, queries_path, fine_tune, model))


def _table(report: dict[str, Any]) -> str:
    rows = [
        ("top-1 accuracy", report["top1_accuracy"]),
        ("answered correctly", report["answered_correct"]),
        ("wrong answer", report["wrong_answer"]),
        ("clarified (right entry offered)", report["clarified"]),
        ("escalated (in scope)", report["escalated"]),
        ("out-of-scope recall", report["oos_recall"]),
        ("out-of-scope answered", report["oos_answered"]),
    ]
    lines = [f"{name:<34}{value:>8.3f}" for name, value in rows]
    lines += [
        f"{'latency p50 / p99 (ms)':<34}{report['p50_ms']:>8.1f} / {report['p99_ms']:.1f}",
        f"{'throughput (decisions/s)':<34}{report['throughput_qps']:>8.0f}",
        f"{'queries in scope / out of scope':<34}"
        f"{report['in_scope']:>8} / {report['out_of_scope']}",
        f"{'stage / build s / improve s':<34}"
        f"{report['stage']} / {report['build_s']} / {report['improve_s']}",
        f"{'thresholds':<34}{json.dumps(report['thresholds'])}",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: `--kb KB --queries Q [--json]`; prints a table or one JSON object."""
    parser = argparse.ArgumentParser(
        prog="chatdesk eval",
        description=__doc__,
        epilog="With --learn-from TRAFFIC --actions K: the learning loop (bot/loop.py).",
    )
    parser.add_argument("--kb", required=True, help="knowledge base (.jsonl, .csv or .md)")
    parser.add_argument("--queries", required=True, help="JSONL of {text, expected}")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--no-fine-tune", action="store_true", help="skip the encoder fine-tune (quick check)"
    )
    parser.add_argument(
        "--model", default=DEFAULT_MODEL, help="encoder (e.g. multilingual-e5-small)"
    )
    args = parser.parse_args(argv)
    try:
        report = evaluate(
            args.kb, args.queries, fine_tune=not args.no_fine_tune, model=args.model
        )
    except (KBFormatError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report) if args.json else _table(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
