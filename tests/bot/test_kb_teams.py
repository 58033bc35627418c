"""An FAQ entry's team (issue 16) in every knowledge-base file format."""

from __future__ import annotations

import json

import pytest

from bot import Entry
from bot.kb import Translation
from bot.kbfile import dumps, parse_text

ENTRIES = [
    Entry("track", "Where is my order?", "Under My Account.", ("order status",),
          (Translation("cs", "Kde je moje objednávka?", "V Můj účet.", ()),), team="Orders"),
    Entry("hours", "Opening hours?", "9-17"),
    Entry("refund", "When is my refund?", "In 5 days.", team="Returns & refunds"),
]


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "md"])
def test_teams_round_trip_in_every_format(fmt: str) -> None:
    text = dumps(ENTRIES, fmt)
    parsed = parse_text(text, fmt)
    assert parsed.problems == []
    assert parsed.entries == ENTRIES
    assert dumps(parsed.entries, fmt) == text


def test_teams_as_an_admin_writes_them() -> None:
    jsonl = '{"question": "Q?", "answer": "A.", "team": " Orders "}\n'
    assert parse_text(jsonl, "jsonl").entries[0].team == "Orders"
    csv = "question,answer,team\nQ?,A.,Orders\nR?,B.,\n"
    assert [e.team for e in parse_text(csv, "csv").entries] == ["Orders", None]
    md = "## Q?\n<!-- team: Orders -->\nA.\n\n## R?\nB.\n"
    assert [e.team for e in parse_text(md, "md").entries] == ["Orders", None]


def test_a_kb_without_teams_is_written_as_before() -> None:
    plain = [ENTRIES[1]]
    assert dumps(plain, "csv").splitlines()[0] == "id,question,variants,answer"
    assert "team" not in json.loads(dumps(plain, "jsonl"))
    assert "team:" not in dumps(plain, "md")


def test_a_bad_team_is_a_problem_with_its_line() -> None:
    jsonl = '{"question": "Q?", "answer": "A."}\n{"question": "R?", "answer": "B.", "team": 3}\n'
    parsed = parse_text(jsonl, "jsonl")
    assert [(p.line, p.message) for p in parsed.problems] == [
        (2, "'team' must be a team's name (text)")
    ]
    long_name = "x" * 101
    parsed = parse_text(f"question,answer,team\nQ?,A.,{long_name}\n", "csv")
    assert parsed.problems[0].line == 2 and "team name longer" in parsed.problems[0].message
