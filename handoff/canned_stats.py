"""Canned replies that earn automation: each use recorded, how often it ended well, and one
click that turns a reply that ends well often enough into an FAQ entry the bot answers with.

A use "ended well" when its conversation is closed, the visitor wrote nothing after that
reply in it, and the conversation was rated 4-5 stars or not rated. The visitor messages a use
answered are those since the agent's previous reply (handoff/canned_models.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, case, exists, func, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.human import is_human_request
from handoff import audit, knowledge
from handoff.canned_models import CannedUse
from handoff.errors import Conflict, Invalid, NotFound
from handoff.models import CannedReply, Conversation, FaqEntry, Message, MessageRow, Rating, Sender
from handoff.states import ConversationState

GOOD_STARS = 4  # 4-5 stars is the usual "satisfied" share of CSAT
ENTRY_PREFIX = "canned-"  # the FAQ entry a reply becomes: "canned-" + its shortcut


async def record_use(
    *, session: AsyncSession, canned_reply_id: int, message: MessageRow
) -> bool:
    """Remember that this stored agent reply used a canned reply (once per message).

    False when the canned reply no longer exists (deleted meanwhile): the message stands, the
    use is not counted.
    """
    if await session.get(CannedReply, canned_reply_id) is None:
        return False
    if await session.scalar(select(CannedUse.id).where(CannedUse.message_id == message.id)):
        return False  # a resend of a reply already counted
    previous = await session.scalar(
        select(func.coalesce(func.max(Message.seq), 0)).where(
            Message.conversation_id == message.conversation_id,
            Message.sender == Sender.AGENT,
            Message.seq < message.seq,
        )
    )
    session.add(
        CannedUse(
            canned_reply_id=canned_reply_id,
            conversation_id=message.conversation_id,
            message_id=message.id,
            agent_id=message.agent_id,
            reply_seq=message.seq,
            answered_after_seq=int(previous or 0),
        )
    )
    try:
        await session.commit()
    except IntegrityError:  # a resend of a reply already recorded, or the reply just deleted
        await session.rollback()
        return False
    return True


def _ended_well() -> ColumnElement[bool]:
    """The use's conversation closed with no visitor message after it, rated well or not."""
    later = aliased(Message)  # not the outer query's messages (answered_questions has some)
    asked_again = exists().where(
        later.conversation_id == CannedUse.conversation_id,
        later.sender == Sender.VISITOR,
        later.seq > CannedUse.reply_seq,
    )
    return and_(
        Conversation.state == ConversationState.CLOSED,
        ~asked_again,
        or_(Rating.stars.is_(None), Rating.stars >= GOOD_STARS),
    )


@dataclass(frozen=True, slots=True)
class Threshold:
    """When a reply is offered for automation: at least this share over this many uses."""

    min_uses: int
    success_percent: int

    def met(self, uses: int, ended_well: int) -> bool:
        # Integers: 7 of 10 meets 70 % exactly (0.7 * 10 is 7.000000000000001 in floats).
        return uses >= self.min_uses and ended_well * 100 >= self.success_percent * uses


@dataclass(frozen=True, slots=True)
class ReplyStats:
    id: int
    shortcut: str
    title: str
    text: str
    uses: int
    ended_well: int
    entry_id: str | None  # the FAQ entry it became, if automated
    offered: bool  # meets the threshold and not automated yet

    @property
    def success_rate(self) -> float | None:
        return self.ended_well / self.uses if self.uses else None


def _entry_id() -> ColumnElement[str]:
    return literal(ENTRY_PREFIX).concat(CannedReply.shortcut)


async def reply_stats(
    *, session: AsyncSession, threshold: Threshold, reply_id: int | None = None
) -> list[ReplyStats]:
    """Every canned reply (or one) with its uses and how many ended well: one statement."""
    well = _ended_well()
    stmt = (
        select(
            CannedReply.id,
            CannedReply.shortcut,
            CannedReply.title,
            CannedReply.text,
            func.count(CannedUse.id),
            func.count(case((well, 1))),
            func.max(FaqEntry.id),
        )
        .outerjoin(CannedUse, CannedUse.canned_reply_id == CannedReply.id)
        .outerjoin(Conversation, Conversation.id == CannedUse.conversation_id)
        .outerjoin(Rating, Rating.conversation_id == CannedUse.conversation_id)
        .outerjoin(FaqEntry, FaqEntry.id == _entry_id())
        .group_by(CannedReply.id, CannedReply.shortcut, CannedReply.title, CannedReply.text)
        .order_by(CannedReply.shortcut)
    )
    if reply_id is not None:
        stmt = stmt.where(CannedReply.id == reply_id)
    rows = (await session.execute(stmt)).all()
    return [
        ReplyStats(
            id=rid, shortcut=shortcut, title=title, text=text, uses=int(uses),
            ended_well=int(good), entry_id=entry,
            offered=entry is None and threshold.met(int(uses), int(good)),
        )
        for rid, shortcut, title, text, uses, good, entry in rows
    ]


async def answered_questions(*, session: AsyncSession, reply_id: int) -> list[str]:
    """What visitors asked before the uses of this reply that ended well, most asked first.

    Requests for a person and "did you mean" clicks are left out: they are not the question.
    """
    stmt = (
        select(Message.text, Message.meta)
        .select_from(CannedUse)
        .join(
            Message,
            and_(
                Message.conversation_id == CannedUse.conversation_id,
                Message.seq > CannedUse.answered_after_seq,
                Message.seq < CannedUse.reply_seq,
            ),
        )
        .join(Conversation, Conversation.id == CannedUse.conversation_id)
        .outerjoin(Rating, Rating.conversation_id == CannedUse.conversation_id)
        .where(CannedUse.canned_reply_id == reply_id, Message.sender == Sender.VISITOR)
        .where(_ended_well())
        .order_by(CannedUse.id, Message.seq)
    )
    counts: dict[str, int] = {}
    shown: dict[str, str] = {}
    for text, meta in (await session.execute(stmt)).all():
        question = " ".join(text.split())
        if not question or len(question) > knowledge.TEXT_MAX or is_human_request(question):
            continue
        if (meta or {}).get("kind") == "choice":
            continue
        key = question.casefold()
        counts[key] = counts.get(key, 0) + 1
        shown.setdefault(key, question)
    ranked = sorted(counts, key=lambda k: -counts[k])  # stable: first asked first among equals
    return [shown[k] for k in ranked[: knowledge.VARIANTS_MAX]]


async def automate(
    *,
    session: AsyncSession,
    reply_id: int,
    threshold: Threshold,
    actor_id: int | None = None,
    ip: str | None = None,
) -> FaqEntry:
    """Make a canned reply that ends well often enough an FAQ entry (audited); else Invalid."""
    found = await reply_stats(session=session, threshold=threshold, reply_id=reply_id)
    if not found:
        raise NotFound(f"canned reply {reply_id} not found")
    stats = found[0]
    if stats.entry_id is not None:
        raise Conflict(f"/{stats.shortcut} is already the FAQ entry {stats.entry_id!r}")
    if not threshold.met(stats.uses, stats.ended_well):
        rate = f"{round(100 * stats.success_rate)} %" if stats.success_rate is not None else "-"
        raise Invalid(
            f"/{stats.shortcut} ended well {stats.ended_well} of {stats.uses} times ({rate}); "
            f"automation needs {threshold.success_percent} % over at least "
            f"{threshold.min_uses} uses"
        )
    variants = await answered_questions(session=session, reply_id=reply_id)
    if not variants:
        raise Invalid(f"/{stats.shortcut} answered no visitor question that could be a variant")
    entry_id = ENTRY_PREFIX + stats.shortcut
    audit.record(
        session, "canned_automated", agent_id=actor_id, ip=ip, reply_id=reply_id,
        shortcut=stats.shortcut, entry_id=entry_id, uses=stats.uses,
        ended_well=stats.ended_well, variants=len(variants),
    )
    # Committed with the audit event above; every replica's KB watcher rebuilds its bot.
    return await knowledge.create_entry(
        session=session, entry_id=entry_id, question=stats.title, answer=stats.text,
        variants=variants, actor_id=actor_id, ip=ip,
    )

