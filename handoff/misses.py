"""The misses inbox (issue 15): collecting the questions the bot missed, and grouping them.

A question is collected in the transaction of the bot's turn or of the visitor's feedback,
with one INSERT (a question collected before is left as it was): escalated for low confidence,
two misses or language (the rule: `bot.learn.miss_reason`), "none of these", "not helpful",
or a person asked for right after an answer. The inbox groups the open ones on demand
(`bot.learn.group_misses`, the bot's own embeddings); the actions are in handoff/miss_actions.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot import Brain, Decision, learn
from handoff.miss_models import Miss, MissStatus
from handoff.models import Agent, Message, Sender, utcnow

UNHELPFUL, ASKED_FOR_HUMAN = "unhelpful", "asked_for_human"  # reasons the bot's rule cannot see
LOOK_BACK = 6  # messages read back to find the question an answer (or a choice) was about
NOT_QUESTIONS = ("choice", "handoff")  # visitor messages the widget wrote for a button
OPEN_MAX = 2000  # open misses grouped at once, newest first: the encoder's batch stays seconds
EXAMPLES = 50  # questions shown (and selectable) per group, most central first
NEAREST = 3  # existing entries suggested per group
REPLIES = 3  # agent replies shown per group
PAST_ANY_SEQ = 2**31 - 1  # seqs are INTEGER: "before this" is "up to now"


def miss_reason(decision: Decision) -> str | None:
    """Why this decision leaves the question unanswered, or None (the bot's rule)."""
    return learn.miss_reason(decision)


async def record(
    *,
    session: AsyncSession,
    conversation_id: int,
    seq: int,
    text: str,
    reason: str,
    entry_id: str | None = None,
    score: float | None = None,
) -> None:
    """Collect a missed question in the caller's transaction (one INSERT; not committed)."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    row = {
        "conversation_id": conversation_id,
        "seq": seq,
        "text": text,
        "reason": reason,
        "entry_id": entry_id,
        "score": score,
        "status": MissStatus.OPEN,
        "created_at": utcnow(),
    }
    once = insert(Miss).values(row).on_conflict_do_nothing(
        index_elements=["conversation_id", "seq"]
    )
    await session.execute(once)


async def _recent(session: AsyncSession, conversation_id: int, before_seq: int) -> list[Message]:
    return list(
        (
            await session.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id, Message.seq < before_seq)
                .order_by(Message.seq.desc())
                .limit(LOOK_BACK)
            )
        ).all()
    )


def _question(messages: Sequence[Message]) -> Message | None:
    """The visitor's latest real question among these (newest first), skipping button texts."""
    for msg in messages:
        if msg.sender == Sender.VISITOR and (msg.meta or {}).get("kind") not in NOT_QUESTIONS:
            return msg
    return None


async def record_before(
    *, session: AsyncSession, conversation_id: int, seq: int, reason: str
) -> None:
    """Collect the visitor's question before `seq` ("none of these": the one the bot clarified)."""
    question = _question(await _recent(session, conversation_id, seq))
    if question is not None:
        await record(
            session=session,
            conversation_id=conversation_id,
            seq=question.seq,
            text=question.text,
            reason=reason,
        )


async def record_answered(
    *, session: AsyncSession, conversation_id: int, bot_seq: int | None, reason: str
) -> None:
    """Collect the question a bot answer answered unhelpfully.

    `bot_seq` names the answer ("not helpful"); None means the bot's last word before now, and
    only if it was an answer (a person asked for right after it).
    """
    before = bot_seq + 1 if bot_seq is not None else PAST_ANY_SEQ
    recent = await _recent(session, conversation_id, before)
    said = [m for m in recent if m.sender in (Sender.BOT, Sender.VISITOR)]
    if bot_seq is None:  # the visitor's "a person, please" is itself the newest: skip it
        said = said[1:] if said and said[0].sender == Sender.VISITOR else said
    if not said or said[0].sender != Sender.BOT or (said[0].meta or {}).get("kind") != "answer":
        return
    meta = said[0].meta or {}
    question = _question(said[1:])
    if question is not None:
        await record(
            session=session,
            conversation_id=conversation_id,
            seq=question.seq,
            text=question.text,
            reason=reason,
            entry_id=meta.get("entry_id"),
            score=meta.get("score"),
        )


# --- the inbox -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    """Similar open misses: the questions (most central first), suggestions, agents' replies."""

    count: int
    misses: list[Miss]
    nearest: list[dict[str, Any]]  # entry_id, question, score
    replies: list[dict[str, Any]]  # conversation_id, text, agent


# One grouping, for the latest set of open misses and the index answering now.
_cache: dict[tuple[Any, ...], list[learn.MissGroup]] = {}


async def _grouped(brain: Brain, misses: Sequence[Miss]) -> list[learn.MissGroup]:
    key = (tuple(m.id for m in misses), brain.status["built_at"])
    if key not in _cache:
        texts = [m.text for m in misses]
        groups = await learn.group_misses(brain=brain, texts=texts)  # off the loop
        _cache.clear()  # only the latest set is ever asked for again
        _cache[key] = groups
    return _cache[key]


async def _agent_replies(session: AsyncSession, misses: Sequence[Miss]) -> dict[int, list[Any]]:
    """Per miss id: what agents replied in its conversation after it (visible replies only)."""
    after = {m.conversation_id: m.seq for m in misses}
    rows = await session.execute(
        select(Message.conversation_id, Message.seq, Message.text, Agent.name)
        .outerjoin(Agent, Agent.id == Message.agent_id)
        .where(Message.conversation_id.in_(after), Message.sender == Sender.AGENT)
        .order_by(Message.conversation_id, Message.seq)
    )
    by_conv: dict[int, list[Any]] = {}
    for conv_id, seq, text, name in rows:
        by_conv.setdefault(conv_id, []).append((seq, text, name))
    return {
        m.id: [r for r in by_conv.get(m.conversation_id, []) if r[0] > m.seq] for m in misses
    }


async def open_groups(*, session: AsyncSession, brain: Brain) -> list[Group]:
    """Groups of open misses, biggest first, with the nearest entries and agents' replies."""
    misses = list(
        (
            await session.scalars(
                select(Miss)
                .where(Miss.status == MissStatus.OPEN)
                .order_by(Miss.id.desc())
                .limit(OPEN_MAX)
            )
        ).all()
    )[::-1]  # oldest first, as the grouping breaks ties
    if not misses:
        return []
    replies = await _agent_replies(session, misses)
    await session.commit()  # end the read: no transaction stays open while the model encodes
    groups = await _grouped(brain, misses)
    out = []
    for g in groups:
        members = [misses[i] for i in g.members]
        nearest = []
        for entry_id, score in g.nearest[:NEAREST]:
            entry = brain.entry(entry_id)
            if entry is not None:
                nearest.append({"entry_id": entry_id, "question": entry.question, "score": score})
        said = []
        for m in members:
            for _seq, text, name in replies[m.id][:1]:  # the first reply: the one that answered
                said.append({"conversation_id": m.conversation_id, "text": text, "agent": name})
        out.append(Group(len(members), members[:EXAMPLES], nearest, said[:REPLIES]))
    out.sort(key=lambda g: -g.count)  # biggest first (stable: the grouping's order otherwise)
    return out
