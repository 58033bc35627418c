"""The evaluation command on a tiny KB and query file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot import dump_jsonl
from bot.evaluate import evaluate
from bot.evaluate import main as eval_main
from bot.kb import Entry

FRACTIONS = [
    "top1_accuracy",
    "answered_correct",
    "wrong_answer",
    "clarified",
    "escalated",
    "oos_recall",
    "oos_answered",
]
QUERIES = [
    {"text": "I forgot my password", "expected": "reset-password"},
    {"text": "how much is delivery", "expected": "shipping-cost"},
    {"text": "when do you open on monday", "expected": "opening-hours"},
    {"text": "who won the football world cup in 1998", "expected": None},
]


@pytest.fixture
def files(tmp_path: Path, kb: list[Entry]) -> tuple[Path, Path]:
    kb_path, queries_path = tmp_path / "kb.jsonl", tmp_path / "queries.jsonl"
    dump_jsonl(kb, kb_path)
    queries_path.write_text("".join(json.dumps(q) + "\n" for q in QUERIES), encoding="utf-8")
    return kb_path, queries_path


def test_report_has_every_figure_in_range(files: tuple[Path, Path]) -> None:
    report = evaluate(*files, fine_tune=False)
    for key in FRACTIONS:
        assert 0.0 <= report[key] <= 1.0, key
    assert report["answered_correct"] + report["wrong_answer"] <= 1.0
    assert report["in_scope"] == 3 and report["out_of_scope"] == 1
    assert report["p50_ms"] > 0 and report["p99_ms"] >= report["p50_ms"]
    assert report["throughput_qps"] > 0
    assert report["top1_accuracy"] == 1.0  # three easy paraphrases


def test_cli_json_prints_one_object(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture
) -> None:
    kb_path, queries_path = files
    code = eval_main(
        ["--kb", str(kb_path), "--queries", str(queries_path), "--json", "--no-fine-tune"]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert set(FRACTIONS + ["p50_ms", "p99_ms", "throughput_qps"]) <= set(report)


def test_cli_reports_a_broken_kb(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "kb.jsonl"
    bad.write_text('{"id": "a", "question": "Q"}\n', encoding="utf-8")
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"text": "hi", "expected": null}\n', encoding="utf-8")
    assert eval_main(["--kb", str(bad), "--queries", str(queries)]) == 2
    assert f"{bad}:1:" in capsys.readouterr().err


def test_oos_examples_sidecar_is_part_of_the_kb(files: tuple[Path, Path]) -> None:
    kb_path, queries_path = files
    sidecar = kb_path.with_name("kb.oos.jsonl")
    sidecar.write_text(
        '{"text": "what is the weather on mars", "expected": null}\n"tell me a joke"\n',
        encoding="utf-8",
    )
    report = evaluate(kb_path, queries_path, fine_tune=False)
    assert report["oos_examples"] == 2
    assert 0.0 <= report["oos_recall"] <= 1.0
