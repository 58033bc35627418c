"""Decisions on the small test knowledge base."""

from __future__ import annotations

import asyncio

import pytest

from bot import Action, Brain, Entry, Reason

HUMAN_REQUESTS = {
    "en": ["talk to a human", "Can I speak with a real person please?", "agent"],
    "es": ["quiero hablar con un agente", "¿Puedo hablar con una persona?"],
    "fr": ["je veux parler à un humain", "Passez-moi un conseiller s'il vous plaît"],
    "de": [
        "Ich möchte mit einem Menschen sprechen",
        "Bitte verbinden Sie mich mit einem Mitarbeiter",
    ],
    "pt": ["quero falar com um atendente", "Posso falar com uma pessoa?"],
    "zh": ["人工客服", "我要转人工"],
    "cs": ["chci mluvit s člověkem", "Spojte mě prosím s operátorem"],
    "fa": ["می‌خواهم با یک انسان صحبت کنم", "لطفا با اپراتور صحبت کنم"],
}
NOT_HUMAN_REQUESTS = [
    "how do I reset my password",
    "are you a real person or a bot?",
    "what is artificial intelligence",
    "人工智能是什么",
    "human resources phone number",
]


async def test_answers_a_paraphrase_with_the_right_entry(brain: Brain) -> None:
    decision = await brain.decide("I can't remember my password")
    assert decision.action is Action.ANSWER
    assert decision.entry_id == "reset-password"
    assert decision.reason is None
    assert decision.candidates[0].entry_id == "reset-password"
    assert len(decision.candidates) >= 2  # the agent sees the runner-ups too
    assert brain.entry(decision.entry_id) is not None


async def test_escalates_an_out_of_scope_question(brain: Brain) -> None:
    decision = await brain.decide("what is the boiling point of mercury in kelvin")
    assert decision.action is Action.ESCALATE
    assert decision.reason is Reason.LOW_CONFIDENCE
    assert decision.entry_id is None
    assert decision.candidates  # still shows what the bot tried


async def test_asks_which_one_when_two_entries_are_close(kb: list[Entry]) -> None:
    # A strict answer threshold makes a two-topic message a "did you mean" question.
    strict = await Brain.create(
        kb, thresholds={"answer": 0.99, "clarify": 0.0}, improve=False, fine_tune=False
    )
    decision = await strict.decide("cancel my order and refund my money")
    assert decision.action is Action.CLARIFY
    offered = {c.entry_id for c in decision.candidates[:3]}
    assert {"cancel-order", "refund"} & offered
    assert 2 <= len(offered) <= 3


@pytest.mark.parametrize(
    "text", [t for texts in HUMAN_REQUESTS.values() for t in texts], ids=lambda t: t[:24]
)
async def test_explicit_request_for_a_person_escalates(brain: Brain, text: str) -> None:
    decision = await brain.decide(text)
    assert decision.action is Action.ESCALATE
    assert decision.reason is Reason.ASKED_FOR_HUMAN
    assert brain.is_human_request(text)


@pytest.mark.parametrize("text", NOT_HUMAN_REQUESTS)
def test_questions_that_mention_people_are_not_requests(text: str) -> None:
    assert not Brain.is_human_request(text)


async def test_two_misses_in_a_row_escalate(brain: Brain) -> None:
    assert (await brain.decide("where is my parcel", misses=1)).action is not Action.ESCALATE
    decision = await brain.decide("where is my parcel", misses=2)
    assert decision.action is Action.ESCALATE
    assert decision.reason is Reason.REPEATED_MISSES


async def test_concurrent_questions_are_all_answered(brain: Brain) -> None:
    texts = ["is shipping free?", "when do you open?", "can I pay with paypal"] * 20
    decisions = await asyncio.gather(*(brain.decide(t) for t in texts))
    expected = {"is shipping free?": "shipping-cost", "when do you open?": "opening-hours"}
    for text, decision in zip(texts, decisions, strict=True):
        assert decision.candidates[0].entry_id == expected.get(text, "payment-methods")


async def test_status_reports_stage_and_thresholds(brain: Brain) -> None:
    status = brain.status
    assert status["entries"] == 8
    assert status["stage"] == "trained-head"
    assert status["building"] is False
    assert set(status["thresholds"]) == {"answer", "clarify", "margin", "sure"}
    assert status["thresholds"]["clarify"] <= status["thresholds"]["answer"]


async def test_empty_knowledge_base_escalates() -> None:
    empty = await Brain.create([], fine_tune=False)
    async with empty:
        decision = await empty.decide("hello?")
    assert decision.action is Action.ESCALATE
    assert decision.candidates == ()


async def test_a_question_nearest_an_out_of_scope_example_is_handed_over(
    kb: list[Entry],
) -> None:
    # The cinema's hours are nearest the shop's opening hours in the test KB; once an admin
    # marks such questions out of scope, the bot hands them over, and still answers the KB's.
    text = "what time does the cinema open tonight"
    plain = await Brain.create(kb, thresholds={"answer": 1e-6, "clarify": 1e-6}, fine_tune=False)
    assert (await plain.decide(text)).action is Action.ANSWER  # any match is taken
    marked = await Brain.create(
        kb,
        thresholds={"answer": 1e-6, "clarify": 1e-6},
        fine_tune=False,
        oos_examples=["when does the cinema open tonight", "cinema opening times tonight"],
    )
    declined = await marked.decide(text)
    assert declined.action is Action.ESCALATE and declined.reason is Reason.LOW_CONFIDENCE
    assert declined.candidates  # the agent still sees what it was near
    assert (await marked.decide("what time does the shop open")).entry_id == "opening-hours"
