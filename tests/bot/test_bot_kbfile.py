"""Importing knowledge-base files in every format, including broken ones."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bot import Entry, KBFormatError, dump_jsonl, load_entries


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_jsonl_benchmark_format(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "kb.jsonl",
        '{"id": "faq-001", "question": "Q one?", "variants": ["v1", "v2"], "answer": "A one."}\n'
        "\n"
        '{"id": "faq-002", "question": "Q two?", "answer": "A two."}\n',
    )
    assert load_entries(path) == [
        Entry("faq-001", "Q one?", "A one.", ("v1", "v2")),
        Entry("faq-002", "Q two?", "A two.", ()),
    ]


def test_csv_with_pipe_separated_variants(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "kb.csv",
        "question,answer,variants\n"
        '"Do you ship abroad, too?","Yes, to the EU.","international shipping|ship to france"\n'
        "Opening hours?,9-17,\n",
    )
    entries = load_entries(path)
    assert entries[0].question == "Do you ship abroad, too?"
    assert entries[0].variants == ("international shipping", "ship to france")
    assert entries[1] == Entry("faq-002", "Opening hours?", "9-17", ())


def test_csv_keeps_given_ids(tmp_path: Path) -> None:
    path = write(tmp_path, "kb.csv", "id,question,answer\nhours,Opening hours?,9-17\n")
    assert load_entries(path)[0].id == "hours"


def test_markdown_faq_with_also_asked(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "kb.md",
        "# Shop FAQ\n\n"
        "## How do I reset my password?\n"
        "Use *Forgot password* on the sign-in page.\n\n"
        "It takes a minute.\n\n"
        "Also asked:\n"
        "- I forgot my password\n"
        "- password reset link\n\n"
        "## What are your opening hours?\n"
        "9:00-17:00 on weekdays.\n",
    )
    first, second = load_entries(path)
    assert first.question == "How do I reset my password?"
    assert first.answer == "Use *Forgot password* on the sign-in page.\n\nIt takes a minute."
    assert first.variants == ("I forgot my password", "password reset link")
    assert second.answer == "9:00-17:00 on weekdays."
    assert second.variants == ()


def test_dump_jsonl_round_trips(tmp_path: Path) -> None:
    entries = [Entry("a", "Qué hora es?", "Las 5.", ("hora",)), Entry("b", "Q", "A")]
    path = tmp_path / "out.jsonl"
    dump_jsonl(entries, path)
    assert load_entries(path) == entries
    buffer = io.StringIO()
    dump_jsonl(entries, buffer)
    assert json.loads(buffer.getvalue().splitlines()[0])["question"] == "Qué hora es?"


@pytest.mark.parametrize(
    ("name", "text", "where", "problem"),
    [
        (
            "bad.jsonl",
            '{"id": "a", "question": "Q", "answer": "A"}\n{"id": "b", "question": \n',
            ":2:",
            "invalid JSON",
        ),
        ("bad.jsonl", '{"id": "a", "question": "Q"}\n', ":1:", "'answer'"),
        ("bad.jsonl", '{"id": "a", "question": "  ", "answer": "A"}\n', ":1:", "empty question"),
        (
            "bad.jsonl",
            '{"id": "a", "question": "Q", "answer": "A"}\n'
            '{"id": "a", "question": "R", "answer": "B"}\n',
            ":2:",
            "duplicate id",
        ),
        ("bad.jsonl", '{"question": "Q", "answer": "A", "variants": "x"}\n', ":1:", "variants"),
        ("bad.csv", "question,variants\nQ,v\n", ":1:", "answer"),
        ("bad.csv", "question,answer\nQ one,A\nQ two,\n", ":3:", "empty answer"),
        ("bad.csv", "question,answer\nQ,A,extra\n", ":2:", "more cells"),
        ("bad.md", "Some intro text\n## Q?\nA\n", ":1:", "before the first"),
        ("bad.md", "## Q one?\nA\n## Q two?\n\n", ":3:", "empty answer"),
        ("bad.txt", "whatever", ":0:", "unknown file type"),
    ],
)
def test_broken_files_name_line_and_problem(
    tmp_path: Path, name: str, text: str, where: str, problem: str
) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(KBFormatError) as caught:
        load_entries(path)
    message = str(caught.value)
    assert message.startswith(f"{path}{where}")
    assert problem in message


def test_missing_file_is_a_format_error(tmp_path: Path) -> None:
    with pytest.raises(KBFormatError, match="not found"):
        load_entries(tmp_path / "nope.jsonl")


def test_every_problem_is_named_with_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "bad.jsonl",
        '{"id": "a", "question": "Q", "answer": "A"}\n'
        "{broken\n"
        '{"id": "a", "question": "R", "answer": "B"}\n'
        '{"id": "c", "question": "S"}\n',
    )
    with pytest.raises(KBFormatError) as caught:
        load_entries(path)
    lines = str(caught.value).splitlines()
    assert [line.split(": ")[0] for line in lines] == [f"{path}:2", f"{path}:3", f"{path}:4"]
    assert [p.line for p in caught.value.problems] == [2, 3, 4]


def test_problems_are_capped(tmp_path: Path) -> None:
    from bot.kbfile import MAX_PROBLEMS, parse_text

    parsed = parse_text("x\n" * (MAX_PROBLEMS + 50), "jsonl")
    assert len(parsed.problems) == MAX_PROBLEMS
    assert parsed.problems[-1].message == "... and 51 more problems"


def test_csv_and_markdown_round_trip_with_ids() -> None:
    from bot.kbfile import dumps, parse_text

    entries = [
        Entry("a.1", "Do you ship, too?", "Yes.\n\n- to the EU\n- to the UK", ("abroad?",)),
        Entry("b", "Q", "A"),
    ]
    for fmt in ("jsonl", "csv", "md"):
        parsed = parse_text(dumps(entries, fmt), fmt)
        assert parsed.problems == [] and parsed.entries == entries, fmt
