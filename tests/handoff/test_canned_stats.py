"""Canned replies that earn automation: uses, "ended well" and the automation rule, on a small
seeded set whose figures are counted by hand below."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from handoff import canned, canned_stats, knowledge, privacy
from handoff.errors import Conflict, Invalid
from handoff.messages import append_message
from handoff.models import AgentStatus, AuditEvent, MessageRow, Rating, Sender
from handoff.states import ConversationState

V, B, A = Sender.VISITOR, Sender.BOT, Sender.AGENT
REFUND = "canned"  # marks the agent message that uses the refund reply


# Each conversation: its messages in order, whether it is closed, its stars (None: not rated).
SEEDED = [
    # 1: ended well (closed, not rated); "talk to a person" is not a question to learn.
    ([(V, "How do I get a refund?"), (B, "Sorry, I am not sure."), (V, "talk to a person"),
      (A, REFUND)], True, None),
    # 2: ended well (5 stars); the same question in other case counts twice.
    ([(V, "how do I get a refund?"), (A, REFUND)], True, 5),
    # 3: rated 2: not well.
    ([(V, "money back?"), (A, REFUND)], True, 2),
    # 4: the visitor asked again after the reply: not well.
    ([(V, "refund"), (A, REFUND), (V, "that did not help")], True, None),
    # 5: still open: not (yet) well.
    ([(V, "refund?"), (A, REFUND)], False, None),
    # 6: ended well (4 stars); only what came after the agent's previous reply was answered.
    ([(V, "hi"), (A, "Hello, how can I help?"), (V, "I want my money back"), (A, REFUND)],
     True, 4),
]
# Uses 6, ended well 3 (1, 2, 6): 50 %. Questions answered well: "How do I get a refund?"
# twice, "I want my money back" once.


async def _seed(session, new_chat, new_agent):
    ann = await new_agent("Ann", status=AgentStatus.OFFLINE)
    refund = await canned.create(
        session=session, shortcut="refund", title="Refunds", text="Refunds take 5 days."
    )
    await canned.create(session=session, shortcut="hours", title="Hours", text="9 to 5.")
    for messages, closed, stars in SEEDED:
        conv = await new_chat()
        for sender, text in messages:
            used = text == REFUND
            msg = await append_message(
                session=session, conversation_id=conv.id, sender=sender,
                text=refund.text if used else text, agent_id=ann.id if sender == A else None,
            )
            await session.commit()
            if used:
                assert await canned_stats.record_use(
                    session=session, canned_reply_id=refund.id, message=MessageRow.of(msg)
                )
        if closed:
            conv.state = ConversationState.CLOSED
        if stars is not None:
            session.add(Rating(conversation_id=conv.id, stars=stars))
        await session.commit()
    return refund


def _by_shortcut(rows):
    return {r.shortcut: r for r in rows}


async def test_uses_and_ended_well_counted_as_by_hand(session, new_chat, new_agent) -> None:
    await _seed(session, new_chat, new_agent)
    at_half = canned_stats.Threshold(min_uses=6, success_percent=50)
    rows = _by_shortcut(await canned_stats.reply_stats(session=session, threshold=at_half))
    assert (rows["refund"].uses, rows["refund"].ended_well) == (6, 3)
    assert rows["refund"].success_rate == 0.5
    assert rows["refund"].offered and rows["refund"].entry_id is None
    assert (rows["hours"].uses, rows["hours"].ended_well, rows["hours"].offered) == (0, 0, False)
    for stricter in (canned_stats.Threshold(6, 51), canned_stats.Threshold(7, 50)):
        rows = _by_shortcut(await canned_stats.reply_stats(session=session, threshold=stricter))
        assert not rows["refund"].offered


async def test_a_resent_reply_and_a_deleted_canned_reply_are_not_counted(
    session, new_chat, new_agent
) -> None:
    refund = await _seed(session, new_chat, new_agent)
    conv = await new_chat()
    msg = await append_message(session=session, conversation_id=conv.id, sender=A, text="x")
    await session.commit()
    row = MessageRow.of(msg)
    assert await canned_stats.record_use(session=session, canned_reply_id=refund.id, message=row)
    assert not await canned_stats.record_use(
        session=session, canned_reply_id=refund.id, message=row
    )
    assert not await canned_stats.record_use(session=session, canned_reply_id=10**6, message=row)
    rows = await canned_stats.reply_stats(
        session=session, threshold=canned_stats.Threshold(1, 1), reply_id=refund.id
    )
    assert rows[0].uses == 7


async def test_automation_below_the_threshold_is_refused_and_above_makes_an_entry(
    session, new_chat, new_agent
) -> None:
    refund = await _seed(session, new_chat, new_agent)
    strict = canned_stats.Threshold(min_uses=10, success_percent=80)
    with pytest.raises(Invalid, match=r"ended well 3 of 6 times \(50 %\); .*80 % .*10 uses"):
        await canned_stats.automate(session=session, reply_id=refund.id, threshold=strict)
    assert await knowledge.count_entries(session=session) == 0

    half = canned_stats.Threshold(min_uses=5, success_percent=50)
    entry = await canned_stats.automate(session=session, reply_id=refund.id, threshold=half)
    stored = await knowledge.get_entry(session=session, entry_id="canned-refund")
    assert entry.id == stored.id
    assert (stored.question, stored.answer) == ("Refunds", "Refunds take 5 days.")
    assert [v.text for v in stored.variants] == ["How do I get a refund?", "I want my money back"]
    audited = (await session.scalars(
        select(AuditEvent).where(AuditEvent.action == "canned_automated")
    )).one()
    assert audited.detail["entry_id"] == "canned-refund"
    assert audited.detail["uses"] == 6 and audited.detail["ended_well"] == 3

    rows = _by_shortcut(await canned_stats.reply_stats(session=session, threshold=half))
    assert rows["refund"].entry_id == "canned-refund" and not rows["refund"].offered
    with pytest.raises(Conflict):
        await canned_stats.automate(session=session, reply_id=refund.id, threshold=half)


async def test_deleting_a_visitor_deletes_their_canned_uses(
    session, bus, new_chat, new_agent
) -> None:
    refund = await _seed(session, new_chat, new_agent)
    conv = await new_chat()
    msg = await append_message(session=session, conversation_id=conv.id, sender=A, text="x")
    await session.commit()
    await canned_stats.record_use(
        session=session, canned_reply_id=refund.id, message=MessageRow.of(msg)
    )
    counts = await privacy.delete_visitor(
        session=session, bus=bus, visitor_id=conv.visitor_id, agent_id=None
    )
    assert counts["canned_uses"] == 1
    rows = await canned_stats.reply_stats(
        session=session, threshold=canned_stats.Threshold(1, 1), reply_id=refund.id
    )
    assert rows[0].uses == 6
