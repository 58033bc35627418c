"""The learning loop, measured: `chatdesk eval --kb KB --queries TEST --learn-from TRAFFIC
--actions K [--json]` (issue 15's exact contract).

Build the bot from KB and measure it on TEST; send every TRAFFIC question as a new
conversation's first message; the misses (`bot.learn.miss_reason`, the inbox's rule) are
grouped as the inbox shows them (`bot.learn.group_misses`). A simulated admin takes up to K
actions in that order, reading TRAFFIC's labels only to decide what a person would click:
a group whose questions agree on one label for at least 60 % adds those questions to that
entry as learnt questions (`Entry.learned`), or, when the KB lacks the entry, creates it
from them with a placeholder answer; a
group mostly out of scope marks those questions out of scope (the KB's admin-collected
out-of-scope examples, which calibration uses); anything else is skipped (still an action).
Then the bot is rebuilt from the changed KB and measured on TEST again.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from bot.evaluate import kb_oos_examples, load_queries, measure
from bot.evaluate import main as plain_main
from bot.kb import Entry
from bot.kbfile import KBFormatError, load_entries
from bot.learn import MissGroup, group_misses, miss_reason
from bot.runtime import DEFAULT_MODEL

AGREEMENT = 0.6  # the contract: a group's labels agree for at least this share of it
PLACEHOLDER_ANSWER = "(answer to be written)"  # what an admin creating the entry fills in later


@dataclass
class Admin:
    """The simulated admin's knowledge base as it changes, and what it did."""

    entries: list[Entry]
    oos: list[str] = field(default_factory=list)
    actions: int = 0
    variants_added: int = 0
    entries_created: int = 0
    oos_marked: int = 0

    def act(self, group: MissGroup, texts: Sequence[str], labels: Sequence[str | None]) -> None:
        """Take one action on a group (the labels stand for what a person reading it sees)."""
        self.actions += 1
        mine = [labels[i] for i in group.members]
        label, count = Counter(mine).most_common(1)[0]
        if count / len(mine) < AGREEMENT:
            return  # no one topic: skipped
        chosen = [texts[i] for i, lab in zip(group.members, mine, strict=True) if lab == label]
        if label is None:
            self.oos.extend(chosen)
            self.oos_marked += len(chosen)
            return
        by_id = {entry.id: n for n, entry in enumerate(self.entries)}
        if label not in by_id:
            # The admin writes the missing entry from the visitors' words: the group's most
            # central question is its question, the others its learnt variants, as the inbox
            # stores them (handoff/miss_actions.py create_entry).
            self.entries.append(
                Entry(label, chosen[0], PLACEHOLDER_ANSWER, learned=tuple(chosen[1:]))
            )
            self.entries_created += 1
            self.variants_added += len(chosen) - 1
            return
        entry = self.entries[by_id[label]]
        self.entries[by_id[label]] = replace(entry, learned=(*entry.learned, *chosen))
        self.variants_added += len(chosen)


async def _run(
    kb: str, test: str, traffic: str, actions: int, *, fine_tune: bool, model: str
) -> dict[str, Any]:
    entries = load_entries(kb)
    queries = load_queries(test)
    visits = load_queries(traffic)
    oos = kb_oos_examples(kb) or []
    texts = [text for text, _ in visits]
    before, decisions, brain = await measure(
        entries, queries, oos_examples=oos or None, fine_tune=fine_tune, model=model, also=texts
    )
    missed = [n for n, decision in enumerate(decisions) if miss_reason(decision)]
    groups = await group_misses(brain=brain, texts=[texts[n] for n in missed])
    admin = Admin(list(entries), list(oos))
    labels = [visits[n][1] for n in missed]
    for group in groups[:actions]:
        admin.act(group, [texts[n] for n in missed], labels)
    after, _, _ = await measure(
        admin.entries,
        queries,
        oos_examples=admin.oos or None,
        fine_tune=fine_tune,
        model=model,
    )
    return {
        "before": before,
        "after": after,
        "actions": admin.actions,
        "variants_added": admin.variants_added,
        "entries_created": admin.entries_created,
        "oos_marked": admin.oos_marked,
        "misses": len(missed),
        "groups": len(groups),
    }


def learn_loop(
    kb: str,
    test: str,
    traffic: str,
    actions: int,
    *,
    fine_tune: bool = True,
    model: str = DEFAULT_MODEL,
) -> dict[str, Any]:
    """Measure on TEST, learn from TRAFFIC's misses with up to `actions` admin actions, measure."""
    return asyncio.run(_run(kb, test, traffic, actions, fine_tune=fine_tune, model=model))


ROWS = ("top1_accuracy", "answered_correct", "wrong_answer", "clarified", "escalated",
        "oos_recall", "oos_answered")  # fmt: skip


def _table(report: dict[str, Any]) -> str:
    lines = [f"{'':<20}{'before':>8}{'after':>8}"]
    for key in ROWS:
        lines.append(f"{key:<20}{report['before'][key]:>8.3f}{report['after'][key]:>8.3f}")
    lines.append(
        f"misses {report['misses']} in {report['groups']} groups; actions {report['actions']}: "
        f"variants added {report['variants_added']}, entries created "
        f"{report['entries_created']}, out of scope marked {report['oos_marked']}"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """`chatdesk eval`: the plain eval, or with `--learn-from TRAFFIC --actions K` the loop."""
    args_in = list(sys.argv[1:] if argv is None else argv)
    if "--learn-from" not in args_in:
        return plain_main(args_in)
    parser = argparse.ArgumentParser(prog="chatdesk eval", description=__doc__)
    parser.add_argument("--kb", required=True, help="knowledge base (.jsonl, .csv or .md)")
    parser.add_argument("--queries", required=True, help="TEST: JSONL of {text, expected}")
    parser.add_argument("--learn-from", required=True, help="TRAFFIC: JSONL of {text, expected}")
    parser.add_argument("--actions", type=int, required=True, help="admin actions (K >= 0)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--no-fine-tune", action="store_true", help="skip the encoder fine-tune")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="encoder")
    args = parser.parse_args(args_in)
    if args.actions < 0:
        parser.error("--actions must be 0 or more")
    try:
        report = learn_loop(
            args.kb,
            args.queries,
            args.learn_from,
            args.actions,
            fine_tune=not args.no_fine_tune,
            model=args.model,
        )
    except (KBFormatError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report) if args.json else _table(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
