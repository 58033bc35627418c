""""Try a question": the bot's decision on a question, with the reason an admin can act on."""

from __future__ import annotations

from bot import Action, Brain, Entry
from bot.explain import Why


async def test_the_trained_brain_explains_its_decisions(brain: Brain) -> None:
    answered = await brain.explain("how much does delivery cost?")
    assert answered.decision.action is Action.ANSWER
    assert answered.decision.entry_id == "shipping-cost"
    assert answered.why == Why.CONFIDENT
    assert answered.confidence >= answered.thresholds["answer"]
    assert answered.runner_up_gap is not None and answered.runner_up_gap > 0

    person = await brain.explain("I want to talk to a real person")
    assert (person.decision.action, person.why) == (Action.ESCALATE, Why.ASKED_FOR_HUMAN)

    lost = await brain.explain("what is the airspeed velocity of an unladen swallow")
    assert (lost.decision.action, lost.why) == (Action.ESCALATE, Why.BELOW_CLARIFY)
    assert lost.confidence < lost.thresholds["clarify"]


async def test_asking_back_says_whether_too_low_or_too_close(kb: list[Entry]) -> None:
    # Thresholds forced from settings: between clarify and answer, the bot asks back.
    unsure = await Brain.create(
        kb, improve=False, cache_dir=None, thresholds={"answer": 1.5, "clarify": 0.0}
    )
    low = await unsure.explain("how much does delivery cost?")
    assert (low.decision.action, low.why) == (Action.CLARIFY, Why.BELOW_ANSWER)
    assert low.stage == "nearest-neighbour"
    # Nearest-neighbour mode: a runner-up within the margin is "not sure which".
    close = await Brain.create(
        kb, improve=False, cache_dir=None,
        thresholds={"answer": 0.0, "clarify": 0.0, "margin": 1.0},
    )
    near = await close.explain("how much does delivery cost?")
    assert (near.decision.action, near.why) == (Action.CLARIFY, Why.TOO_CLOSE)
    assert near.runner_up_gap is not None and near.runner_up_gap <= 1.0


async def test_an_empty_knowledge_base_sends_everything_to_a_person() -> None:
    empty = await Brain.create([], improve=False, cache_dir=None)
    ex = await empty.explain("hello?")
    assert (ex.decision.action, ex.why) == (Action.ESCALATE, Why.EMPTY)
    status = empty.status
    assert status["rebuilding"] is False and status["calibrated_at"].endswith("+00:00")
