"""After the chat: "Was this helpful?" per bot answer, star ratings, the transcript's text.

Who may have a transcript mailed, and how often: handoff/transcripts.py.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import misses, texts, webhooks
from handoff.conversations import get_conversation
from handoff.errors import Conflict, Invalid, NotFound
from handoff.models import Conversation, Message, MessageFeedback, Rating, Sender
from handoff.report_models import NPS_MAX, NpsAnswer
from handoff.states import ConversationState

MAX_STARS = 5
# Two questions at most: the stars (with a short comment), then NPS when it is switched on.
RATING_COMMENT_MAX = 2000


async def record_helpful(
    *, session: AsyncSession, conversation_id: int, seq: int, helpful: bool
) -> MessageFeedback:
    """Store the visitor's yes/no on a bot message; a "no" counts as a bot miss (once)."""
    msg = await session.scalar(
        select(Message).where(Message.conversation_id == conversation_id, Message.seq == seq)
    )
    if msg is None or msg.sender != Sender.BOT:
        raise NotFound(f"no bot message with seq {seq} in this conversation")
    existing = await session.scalar(
        select(MessageFeedback).where(
            MessageFeedback.conversation_id == conversation_id, MessageFeedback.seq == seq
        )
    )
    conv = await get_conversation(session=session, conversation_id=conversation_id)
    newly_unhelpful = not helpful and (existing is None or existing.helpful)
    if existing is None:
        existing = MessageFeedback(conversation_id=conversation_id, seq=seq, helpful=helpful)
        session.add(existing)
    else:
        existing.helpful = helpful
    if newly_unhelpful:
        conv.bot_misses += 1  # the bot's repeated-miss rule escalates after enough of these
        await misses.record_answered(  # its question goes to the misses inbox (issue 15)
            session=session, conversation_id=conversation_id, bot_seq=seq, reason=misses.UNHELPFUL
        )
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise Conflict("feedback for this message was just saved; send it again") from exc
    return existing


async def latest_closed(*, session: AsyncSession, visitor_id: int) -> Conversation | None:
    """The visitor's most recently closed conversation, the one a rating is about."""
    return await session.scalar(
        select(Conversation)
        .where(
            Conversation.visitor_id == visitor_id,
            Conversation.state == ConversationState.CLOSED,
        )
        .order_by(Conversation.closed_at.desc(), Conversation.id.desc())
        .limit(1)
    )


async def rate(
    *, session: AsyncSession, visitor_id: int, stars: int, comment: str | None
) -> Rating:
    """Rate the visitor's latest closed conversation; rating again replaces the rating."""
    if not 1 <= stars <= MAX_STARS:
        raise Invalid(f"stars must be 1 to {MAX_STARS}")
    comment = (comment or "").strip()[:RATING_COMMENT_MAX] or None
    conv = await latest_closed(session=session, visitor_id=visitor_id)
    if conv is None:
        raise Conflict("there is no closed conversation to rate yet")
    rating = await session.scalar(select(Rating).where(Rating.conversation_id == conv.id))
    if rating is None:
        rating = Rating(conversation_id=conv.id, stars=stars, comment=comment)
        session.add(rating)
    else:
        rating.stars, rating.comment = stars, comment
    rated = {"stars": stars, "comment": comment}  # a dict, not a function: no flush before the try
    await webhooks.emit(session, "conversation.rated", {
        "conversation_id": conv.id, "visitor_id": conv.visitor_id, "rating": rated})
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise Conflict("a rating was just saved; send it again to replace it") from exc
    return rating


async def answer_nps(
    *, session: AsyncSession, visitor_id: int, score: int, enabled: bool
) -> NpsAnswer:
    """Store "How likely are you to recommend us?" (0-10) for the conversation just rated;
    answering again replaces it. Refused while the question is switched off."""
    if not enabled:
        raise Conflict("the recommendation question is switched off")
    if not 0 <= score <= NPS_MAX:
        raise Invalid(f"score must be 0 to {NPS_MAX}")
    conv = await latest_closed(session=session, visitor_id=visitor_id)
    if conv is None:
        raise Conflict("there is no closed conversation to answer about yet")
    answer = await session.scalar(select(NpsAnswer).where(NpsAnswer.conversation_id == conv.id))
    if answer is None:
        answer = NpsAnswer(conversation_id=conv.id, score=score)
        session.add(answer)
    else:
        answer.score = score
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise Conflict("an answer was just saved; send it again to replace it") from exc
    return answer


def render_transcript(
    conv: Conversation, messages: list[Message], locale: str | None = None
) -> str:
    """Plain-text transcript as the visitor saw it (no private notes), in their locale."""
    lines = [texts.text("transcript.heading", locale, conversation_id=conv.id), ""]
    for msg in messages:
        author = (msg.meta or {}).get("author") or {}
        who = {
            Sender.VISITOR: texts.text("transcript.you", locale),
            Sender.BOT: texts.text("transcript.bot", locale),
            Sender.AGENT: author.get("name") or texts.text("transcript.agent", locale),
            Sender.SYSTEM: "—",
        }.get(Sender(msg.sender), str(msg.sender))
        lines.append(f"[{texts.message_time(msg.created_at, locale)}] {who}: {msg.text}")
    return "\n".join(lines) + "\n"
