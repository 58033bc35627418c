"""The misses inbox's rules (issue 15): what is collected, and each action and its undo."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import Entry
from handoff import audit, feedback, knowledge, miss_actions, misses, visitors
from handoff.errors import Conflict
from handoff.messages import append_message
from handoff.miss_models import Miss, MissStatus
from handoff.models import Conversation, Sender

REFUNDS = Entry(
    id="refunds",
    question="When will I get my refund?",
    answer="Within 5 days.",
    variants=("How long do refunds take?",),
)


async def _chat(session: AsyncSession, *said: tuple[Sender, str, dict[str, Any] | None]) -> int:
    """A conversation with these messages; returns its id."""
    v = await visitors.create_visitor(session=session, name="Vic")
    conv = Conversation(visitor_id=v.id)
    session.add(conv)
    await session.flush()
    for sender, text, meta in said:
        await append_message(
            session=session, conversation_id=conv.id, sender=sender, text=text, meta=meta
        )
    await session.commit()
    return conv.id


async def _all(session: AsyncSession) -> list[Miss]:
    return list((await session.scalars(select(Miss).order_by(Miss.id))).all())


ANSWERED = {"kind": "answer", "entry_id": "refunds", "score": 0.61}


async def test_not_helpful_collects_the_question_once(session: AsyncSession) -> None:
    conv = await _chat(
        session,
        (Sender.VISITOR, "is my money coming back?", None),
        (Sender.BOT, "Within 5 days.", ANSWERED),
    )
    await feedback.record_helpful(session=session, conversation_id=conv, seq=2, helpful=False)
    await feedback.record_helpful(session=session, conversation_id=conv, seq=2, helpful=True)
    await feedback.record_helpful(session=session, conversation_id=conv, seq=2, helpful=False)
    [miss] = await _all(session)
    assert (miss.text, miss.seq, miss.reason) == ("is my money coming back?", 1, "unhelpful")
    assert (miss.entry_id, miss.score, miss.status) == ("refunds", 0.61, MissStatus.OPEN)


async def test_a_person_asked_for_right_after_an_answer(session: AsyncSession) -> None:
    after_answer = await _chat(
        session,
        (Sender.VISITOR, "refund status", None),
        (Sender.BOT, "Within 5 days.", ANSWERED),
        (Sender.VISITOR, "Talk to a person", {"kind": "handoff"}),
    )
    no_answer_before = await _chat(session, (Sender.VISITOR, "a person please", None))
    for conv in (after_answer, no_answer_before):
        await misses.record_answered(
            session=session, conversation_id=conv, bot_seq=None, reason=misses.ASKED_FOR_HUMAN
        )
    await session.commit()
    [miss] = await _all(session)
    assert (miss.conversation_id, miss.text, miss.reason) == (
        after_answer, "refund status", "asked_for_human"
    )


async def test_none_of_these_collects_the_question_the_bot_was_unsure_of(
    session: AsyncSession,
) -> None:
    conv = await _chat(
        session,
        (Sender.VISITOR, "money back?", None),
        (Sender.BOT, "Did you mean...", {"kind": "clarify"}),
        (Sender.VISITOR, "None of these", {"kind": "choice", "entry_id": None}),
    )
    await misses.record_before(session=session, conversation_id=conv, seq=3, reason="none_of_these")
    await session.commit()
    [miss] = await _all(session)
    assert (miss.text, miss.seq, miss.reason) == ("money back?", 1, "none_of_these")


async def _two_misses(session: AsyncSession) -> list[int]:
    await knowledge.replace_all(session=session, entries=[REFUNDS])
    ids = []
    for text in ("where is my refund", "refund not arrived"):
        conv = await _chat(session, (Sender.VISITOR, text, None))
        await misses.record(
            session=session, conversation_id=conv, seq=1, text=text, reason="low_confidence"
        )
        await session.commit()
    ids = [m.id for m in await _all(session)]
    return ids


async def _variants(session: AsyncSession) -> list[str]:
    session.expire_all()
    entry = await knowledge.get_entry(session=session, entry_id="refunds")
    return [v.text for v in entry.variants]


async def test_variants_added_then_undone_exactly(session: AsyncSession) -> None:
    ids = await _two_misses(session)
    before = await knowledge.fingerprint(session=session)
    action = await miss_actions.add_variants(
        session=session, miss_ids=ids, entry_id="refunds", actor_id=None
    )
    action_id = action.id
    assert await _variants(session) == [
        "How long do refunds take?", "where is my refund", "refund not arrived"
    ]
    assert await knowledge.fingerprint(session=session) != before  # every replica rebuilds
    # The bot gets them as learnt questions: answered like variants, never scored in calibration.
    [entry] = await knowledge.load_entries(session=session)
    assert entry.variants == ("How long do refunds take?",)
    assert entry.learned == ("where is my refund", "refund not arrived")
    await knowledge.update_entry(  # an admin's edit keeps them learnt
        session=session, entry_id="refunds", question=REFUNDS.question, answer="In 3 days.",
        variants=["How long do refunds take?", "where is my refund", "refund not arrived"],
    )
    session.expire_all()
    assert (await knowledge.load_entries(session=session))[0].learned == entry.learned
    assert {m.status for m in await _all(session)} == {MissStatus.VARIANT}
    with pytest.raises(Conflict):  # handled already: a second admin's click changes nothing
        await miss_actions.dismiss(session=session, miss_ids=ids)
    await session.rollback()

    await miss_actions.undo(session=session, action_id=action_id)
    assert await _variants(session) == ["How long do refunds take?"]
    assert [(m.status, m.action_id) for m in await _all(session)] == [(MissStatus.OPEN, None)] * 2
    with pytest.raises(Conflict):
        await miss_actions.undo(session=session, action_id=action_id)
    await session.rollback()
    done = [e.action for e in await audit.recent(session=session)]
    assert done[:3] == ["misses_undone", "kb_entry_updated", "misses_variant"]


async def test_new_entry_and_out_of_scope_undone(session: AsyncSession) -> None:
    ids = await _two_misses(session)
    created = await miss_actions.create_entry(
        session=session,
        miss_ids=ids[:1],
        entry_id="refund-late",
        question="My refund has not arrived",
        answer="Write to us with your order number.",
    )
    entry = await knowledge.get_entry(session=session, entry_id="refund-late")
    assert [v.text for v in entry.variants] == ["where is my refund"]
    oos = await miss_actions.mark_out_of_scope(session=session, miss_ids=ids[1:])
    assert await miss_actions.oos_texts(session=session) == ["refund not arrived"]
    fingerprint = await miss_actions.oos_fingerprint(session=session)

    await miss_actions.undo(session=session, action_id=oos.id)
    assert await miss_actions.oos_texts(session=session) == []
    assert await miss_actions.oos_fingerprint(session=session) != fingerprint
    await miss_actions.undo(session=session, action_id=created.id)
    session.expire_all()
    assert [e.id for e in await knowledge.load_entries(session=session)] == ["refunds"]
    assert {m.status for m in await _all(session)} == {MissStatus.OPEN}
