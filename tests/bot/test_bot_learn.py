"""bot/learn.py: which decisions are misses, and misses grouped by meaning (issue 15)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import Brain, Entry, dump_jsonl
from bot.build import learned_mask
from bot.decision import Action, Candidate, Decision, Reason
from bot.kbfile import KBFormatError, load_entries
from bot.learn import group_misses, miss_reason

GIFT_CARDS = [
    "can I buy a gift card",
    "do you sell gift vouchers",
    "gift card for my sister",
]
WEATHER = ["what's the weather tomorrow", "will it rain this weekend"]
PASSWORD = "I lost my password again"


def _decision(action: Action, reason: Reason | None) -> Decision:
    entry = "refund" if action is Action.ANSWER else None
    return Decision(action, entry, 0.5, (Candidate("refund", 0.5),), reason)


@pytest.mark.parametrize(
    ("action", "reason", "expected"),
    [
        (Action.ESCALATE, Reason.LOW_CONFIDENCE, "low_confidence"),
        (Action.ESCALATE, Reason.LANGUAGE, "language"),
        (Action.ESCALATE, Reason.NONE_OF_THESE, "none_of_these"),
        (Action.ESCALATE, Reason.REPEATED_MISSES, "repeated_misses"),
        (Action.ESCALATE, Reason.ASKED_FOR_HUMAN, None),  # the bot was not asked
        (Action.ANSWER, None, None),
        (Action.CLARIFY, None, None),  # not yet: "none of these" is the miss
    ],
)
def test_miss_reason(action: Action, reason: Reason | None, expected: str | None) -> None:
    assert miss_reason(_decision(action, reason)) == expected


async def test_an_unknown_topic_is_a_miss(brain: Brain) -> None:
    assert miss_reason(await brain.decide("who won the football world cup in 1998")) is not None
    assert miss_reason(await brain.decide("How do I reset my password?")) is None


async def test_groups_biggest_first_with_nearest_entries(brain: Brain) -> None:
    texts = [WEATHER[0], GIFT_CARDS[0], PASSWORD, GIFT_CARDS[1], WEATHER[1], GIFT_CARDS[2]]
    groups = await group_misses(brain=brain, texts=texts)
    assert [sorted(texts[i] for i in g.members) for g in groups] == [
        sorted(GIFT_CARDS),
        sorted(WEATHER),
        [PASSWORD],
    ]
    assert sorted(i for g in groups for i in g.members) == list(range(len(texts)))
    password = groups[2]
    assert password.nearest[0][0] == "reset-password"
    assert len(password.nearest) == 3
    scores = [score for _, score in password.nearest]
    assert scores == sorted(scores, reverse=True)
    assert await group_misses(brain=brain, texts=texts) == groups  # deterministic
    assert await group_misses(brain=brain, texts=[]) == []
    single = await group_misses(brain=brain, texts=[PASSWORD])
    assert single[0].members == (0,) and single[0].nearest[0][0] == "reset-password"


def test_learned_questions_are_marked_for_calibration() -> None:
    entry = Entry("a", "Q?", "A.", ("v1", "v2"), learned=("l1", "v1", "l2"))
    # question, v1, v2, l1, l2 (the duplicate v1 is the author's)
    assert entry.phrasings() == ("Q?", "v1", "v2", "l1", "l2")
    assert learned_mask([entry, Entry("b", "B?", "B.")]).tolist() == [
        False, False, False, True, True, False
    ]  # fmt: skip


def test_learned_questions_survive_a_jsonl_round_trip(tmp_path: Path) -> None:
    entry = Entry("a", "Q?", "A.", ("v1",), learned=("l1", "l2"))
    path = tmp_path / "kb.jsonl"
    dump_jsonl([entry], path)
    assert load_entries(path) == [entry]
    path.write_text('{"id": "a", "question": "Q", "answer": "A", "learned": "x"}\n')
    with pytest.raises(KBFormatError, match="'learned' must be a list"):
        load_entries(path)
