"""The learning loop (`chatdesk eval --learn-from`, bot/loop.py) on a tiny KB and traffic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot import dump_jsonl
from bot.kb import Entry
from bot.learn import MissGroup
from bot.loop import PLACEHOLDER_ANSWER, Admin
from bot.loop import main as eval_main

TEXTS = ["refund please", "money back", "my refund", "tell me a joke", "sing a song", "hours?"]
LABELS: list[str | None] = ["refund", "refund", "refund", None, None, "opening-hours"]


def _entries() -> list[Entry]:
    return [Entry("opening-hours", "When are you open?", "9-17.", ("business hours",))]


def test_admin_creates_adds_marks_and_skips() -> None:
    admin = Admin(_entries())
    admin.act(MissGroup((1, 0, 3), ()), TEXTS, LABELS)  # 2 of 3 agree: a new entry
    # As the inbox makes it: the most central question, the others learnt variants.
    created = Entry("refund", "money back", PLACEHOLDER_ANSWER, learned=("refund please",))
    assert admin.entries[1] == created
    admin.act(MissGroup((2,), ()), TEXTS, LABELS)  # the entry exists now: a learnt question
    assert admin.entries[1].learned == ("refund please", "my refund")
    admin.act(MissGroup((3, 4), ()), TEXTS, LABELS)
    assert admin.oos == ["tell me a joke", "sing a song"]
    admin.act(MissGroup((0, 3, 5), ()), TEXTS, LABELS)  # three labels: skipped
    admin.act(MissGroup((5,), ()), TEXTS, LABELS)
    assert admin.entries[0].learned == ("hours?",)
    assert (admin.actions, admin.entries_created, admin.variants_added, admin.oos_marked) == (
        5, 1, 3, 2
    )  # fmt: skip


def _write(path: Path, rows: list[tuple[str, str | None]]) -> Path:
    path.write_text(
        "".join(json.dumps({"text": t, "expected": e}) + "\n" for t, e in rows), encoding="utf-8"
    )
    return path


def test_cli_learns_a_missing_topic(
    tmp_path: Path, kb: list[Entry], capsys: pytest.CaptureFixture
) -> None:
    kb_path = tmp_path / "kb.jsonl"
    dump_jsonl([e for e in kb if e.id != "refund"], kb_path)  # a topic the FAQ lacks
    traffic = _write(
        tmp_path / "traffic.jsonl",
        [("I want a refund", "refund"), ("refund my money", "refund"),
         ("how do refunds work", "refund"), ("what is the capital of peru", None),
         ("where is my parcel", "track-order")],
    )  # fmt: skip
    test = _write(
        tmp_path / "test.jsonl",
        [("can I have a refund", "refund"), ("track my parcel", "track-order"),
         ("who painted the mona lisa", None)],
    )  # fmt: skip
    argv = ["--kb", str(kb_path), "--queries", str(test), "--learn-from", str(traffic)]
    code = eval_main([*argv, "--actions", "5", "--no-fine-tune", "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert {"before", "after", "actions", "variants_added", "entries_created", "oos_marked"} <= set(
        report
    )
    assert 1 <= report["actions"] <= 5
    assert report["entries_created"] == 1  # the refund questions were missed and grouped
    assert set(report["before"]) == set(report["after"]) >= {"answered_correct", "oos_recall"}
    assert report["after"]["answered_correct"] >= report["before"]["answered_correct"]


def test_cli_refuses_negative_actions(tmp_path: Path) -> None:
    missing = str(tmp_path / "none.jsonl")
    with pytest.raises(SystemExit) as exc:
        eval_main(["--kb", missing, "--queries", missing, "--learn-from", missing,
                   "--actions", "-1"])  # fmt: skip
    assert exc.value.code == 2
