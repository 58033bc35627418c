"""Compare the bot's encoders across languages: the figures of docs/bot.md "Languages".

Usage: python benchmarks/languages.py [--models M ...] [--no-clinc] [--json]

For each model (default: the bundled all-MiniLM-L6-v2 and multilingual-e5-small from the
`multilingual` extra), with a trained head and no fine-tune (e5 has no torch weights to tune,
so both are measured at the same stage):
- the multilingual shop set (tests/data/multilingual_shop.jsonl on app/data/demo_faq.jsonl):
  per language answered correctly, clarified, wrong (a wrong entry, or any answer to an
  out-of-scope question), escalated (of which for reason "language");
- English: CLINC150 10-shot FAQ on the dev queries (../shared/benchmarks), `chatdesk eval`'s
  figures with p50/p99 latency of one question and batched throughput;
- memory: peak RSS of a fresh process that loads the encoder, and of one that builds the
  language detector (high and low accuracy), with the detector's cost per question (one at
  a time and batched).
Bounded: about 2 minutes for MiniLM and 6 for e5 on 2 busy cores; `--no-clinc` skips the
English part (seconds).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot import Action, Brain, load_entries  # noqa: E402
from bot.decision import Reason  # noqa: E402
from bot.runtime import DEFAULT_MODEL, MULTILINGUAL_MODEL  # noqa: E402

SHOP_KB = ROOT / "app" / "data" / "demo_faq.jsonl"
SHOP_SET = ROOT / "tests" / "data" / "multilingual_shop.jsonl"
CLINC = ROOT.parent / "shared" / "benchmarks" / "clinc150"
DETECT_SAMPLE = 300  # questions timed one at a time


def load_set(path: Path = SHOP_SET) -> list[dict[str, Any]]:
    """The test set's rows: text, expected (entry id or null), language (zh-Hans, fa, ...)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def outcome(expected: str | None, action: Action, entry_id: str | None, offered: list[str],
            reason: Reason | None) -> str:
    """correct / clarified / wrong / escalated / language for one decision."""
    if action is Action.ANSWER:
        return "correct" if entry_id == expected and expected is not None else "wrong"
    if action is Action.CLARIFY:
        return "clarified" if expected in offered else "clarified_wrong"
    return "language" if reason is Reason.LANGUAGE else "escalated"


async def shop_counts(model: str) -> dict[str, Counter[str]]:
    """Per language (zh for both scripts) the outcomes of every question of the set."""
    rows = load_set()
    brain = await Brain.create(load_entries(SHOP_KB), model=model, fine_tune=False)
    async with brain:
        await brain.ready()
        # One at a time, as a visitor alone asks: the int8 MiniLM export's activations are
        # quantized per batch, so a question's embedding moves a little (cosine ~0.99) with
        # what it is batched with, and batches depend on timing (bot/onnx_export.py).
        decisions = [await brain.decide(r["text"]) for r in rows]
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for row, d in zip(rows, decisions, strict=True):
        language = row["language"].split("-")[0]
        offered = [c.entry_id for c in d.candidates[:3]]
        counts[language][outcome(row["expected"], d.action, d.entry_id, offered, d.reason)] += 1
        counts[language]["in_scope" if row["expected"] else "out_of_scope"] += 1
    return counts


def memory(code: str) -> tuple[float, float]:
    """(peak RSS in MiB, seconds) of a fresh interpreter running `code`.

    VmHWM, not ru_maxrss: a child's ru_maxrss starts at its parent's peak.
    """
    probe = (
        f"import sys, time; sys.path.insert(0, {str(ROOT)!r}); t = time.perf_counter(); {code}; "
        "t = time.perf_counter() - t; "
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]; "
        "print(int(hwm.split()[1]), t)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    kib, seconds = out.stdout.split()[-2:]
    return round(int(kib) / 1024, 1), round(float(seconds), 2)


def detector_cost() -> dict[str, float]:
    """ms per question of the language detector, alone and batched."""
    from bot.evaluate import load_queries
    from bot.language import detect_many, detector

    texts = [t for t, _ in load_queries(CLINC / "dev-queries.jsonl")] if CLINC.exists() else []
    texts += [r["text"] for r in load_set()]
    detector()
    started = time.perf_counter()
    for text in texts[:DETECT_SAMPLE]:
        detect_many([text])
    single = (time.perf_counter() - started) / min(len(texts), DETECT_SAMPLE) * 1000
    started = time.perf_counter()
    detect_many(texts)
    batched = (time.perf_counter() - started) / len(texts) * 1000
    return {"single_ms": round(single, 3), "batched_ms": round(batched, 3)}


def report(models: list[str], clinc: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"models": {}}
    for model in models:
        started = time.perf_counter()
        figures: dict[str, Any] = {
            "shop": {k: dict(v) for k, v in asyncio.run(shop_counts(model)).items()}
        }
        if clinc and CLINC.exists():
            from bot.evaluate import evaluate

            english = evaluate(CLINC / "faq-10shot.jsonl", CLINC / "dev-queries.jsonl",
                               fine_tune=False, model=model)
            figures["clinc150_10shot"] = {k: v for k, v in english.items() if k != "counts"}
        load = (  # as served: MiniLM's ONNX export from the bot cache (make install writes it)
            "from bot.build import open_encoder; from bot.cache import default_cache_dir; "
            f"open_encoder({model!r}, default_cache_dir()).encode(['hi'])"
        )
        figures["encoder_rss_mib"], figures["encoder_load_s"] = memory(load)
        figures["seconds"] = round(time.perf_counter() - started, 1)
        out["models"][model] = figures
    out["detector"] = detector_cost()
    out["detector_rss_mib"], out["detector_build_s"] = memory(
        "import numpy; from bot.language import detector; detector()"
    )
    out["detector_low_rss_mib"], out["detector_low_build_s"] = memory(
        "import os, numpy; os.environ['CHATDESK_LANGUAGE_ACCURACY'] = 'low'; "
        "from bot.language import detector; detector()"
    )
    out["python_rss_mib"] = memory("import numpy")[0]
    return out


def table(result: dict[str, Any]) -> str:
    lines = ["| language | model | answered correctly | did you mean (right offered / not) | "
             "wrong answer | escalated (of which: language) |",
             "|---|---|---|---|---|---|"]
    for model, figures in result["models"].items():
        for language, c in sorted(figures["shop"].items()):
            n = c.get("in_scope", 0) + c.get("out_of_scope", 0)
            esc = c.get("escalated", 0) + c.get("language", 0)
            lines.append(
                f"| {language} | {model} | {c.get('correct', 0)}/{c.get('in_scope', 0)} | "
                f"{c.get('clarified', 0)} / {c.get('clarified_wrong', 0)} | "
                f"{c.get('wrong', 0)}/{n} | {esc} ({c.get('language', 0)}) |"
            )
    for model, figures in result["models"].items():
        e = figures.get("clinc150_10shot")
        if e:
            lines.append(
                f"{model}: CLINC150 10-shot dev top-1 {e['top1_accuracy']:.3f}, answered "
                f"correctly {e['answered_correct']:.3f}, wrong {e['wrong_answer']:.3f}, OOS "
                f"recall {e['oos_recall']:.3f}, p50/p99 {e['p50_ms']}/{e['p99_ms']} ms, "
                f"{e['throughput_qps']}/s batched"
            )
        lines.append(
            f"{model}: a process that loads the encoder and encodes once: peak RSS "
            f"{figures['encoder_rss_mib']} MiB, {figures['encoder_load_s']} s"
        )
    d = result["detector"]
    lines.append(
        f"language detector: built in {result['detector_build_s']} s, {d['single_ms']} ms "
        f"per question "
        f"alone, {d['batched_ms']} ms batched; process peak RSS {result['detector_rss_mib']} "
        f"MiB (low-accuracy mode {result['detector_low_rss_mib']} MiB, built in "
        f"{result['detector_low_build_s']} s; bare python+numpy {result['python_rss_mib']} MiB)"
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=[DEFAULT_MODEL, MULTILINGUAL_MODEL])
    parser.add_argument("--no-clinc", action="store_true", help="skip the English benchmark")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = report(args.models, clinc=not args.no_clinc)
    print(json.dumps(result, indent=1) if args.json else table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
