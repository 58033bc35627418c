"""Live knowledge-base changes while a conversation is going on."""

from __future__ import annotations

import asyncio

from bot import Action, Brain, Entry

GIFT_CARDS = Entry(
    "gift-cards",
    "Do you sell gift cards?",
    "Yes, from 10 to 200 EUR.",
    ("can I buy a gift voucher", "gift certificate", "present card for a friend"),
)


async def test_rebuild_swaps_while_decisions_continue(kb: list[Entry]) -> None:
    brain = await Brain.create(kb, fine_tune=False)
    async with brain:
        answered: list[str | None] = []
        stop = asyncio.Event()

        async def chat() -> None:
            # A visitor keeps asking while the admin edits the KB: no answer may fail or pause.
            while not stop.is_set():
                decision = await brain.decide("is shipping free?")
                answered.append(decision.candidates[0].entry_id)

        visitor = asyncio.create_task(chat())
        await asyncio.sleep(0.2)
        edited = [e for e in kb if e.id != "refund"] + [GIFT_CARDS]
        await brain.rebuild(edited)
        await asyncio.sleep(0.2)
        stop.set()
        await visitor

        assert answered and set(answered) == {"shipping-cost"}
        assert brain.entry("refund") is None
        assert brain.entry("gift-cards") == GIFT_CARDS
        assert brain.status["entries"] == len(edited)
        decision = await brain.decide("I want to buy a gift voucher")
        assert decision.candidates[0].entry_id == "gift-cards"
        await brain.ready()
        assert brain.status["stage"] == "trained-head"
        decision = await brain.decide("can I buy a gift voucher")
        assert decision.action is Action.ANSWER
        assert decision.entry_id == "gift-cards"


async def test_rebuild_with_empty_kb_escalates_everything(kb: list[Entry]) -> None:
    brain = await Brain.create(kb[:3], improve=False, fine_tune=False)
    async with brain:
        await brain.rebuild([])
        decision = await brain.decide("is shipping free?")
    assert decision.action is Action.ESCALATE
    assert brain.entries == []
