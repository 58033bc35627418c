"""The bot's turn: answer, ask "did you mean...?", or escalate; and the visitor's choice.

The bot answers a visitor message only while it is still the conversation's last word and the
chat is still with the bot, so a resend is answered exactly once and a person who took over
meanwhile is never talked over.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import Action, Brain, Decision, Entry, Reason
from bot.kb import primary, same_language
from bot.language import visitor_language
from handoff import misses, texts
from handoff.bus import Bus
from handoff.conversations import get_conversation, visitor_locale
from handoff.errors import Invalid
from handoff.escalation import escalate
from handoff.messages import Posted, announce, append_message, store_client_message
from handoff.metrics import BOT_DECISION_SECONDS, BOT_DECISIONS
from handoff.models import Conversation, Message, Sender, Visitor
from handoff.routing import Routing
from handoff.states import ConversationState
from handoff.team_routing import entry_teams, recognised_team, team_by_name
from handoff.writer import Guard, MessageWriter, NewMessage, Stored

S = ConversationState
CLARIFY_OPTIONS_MIN, CLARIFY_OPTIONS_MAX = 2, 3  # buttons: a real choice, yet quick to read
CLARIFY_LOOKBACK = 5  # bot messages searched for the button clicked: the latest offer is near
SCORE_DIGITS = 4  # scores kept for the console and the evaluation; more is noise


def _candidates(decision: Decision, brain: Brain) -> list[dict[str, Any]]:
    out = []
    for cand in decision.candidates:
        entry = brain.entry(cand.entry_id)
        out.append(
            {
                "entry_id": cand.entry_id,
                "question": entry.question if entry else None,
                "score": round(cand.score, SCORE_DIGITS),
            }
        )
    return out


def _in_language(
    options: list[dict[str, Any]], brain: Brain, decision: Decision, text: str, locale: str | None
) -> list[dict[str, Any]]:
    """The "did you mean" buttons worded in the visitor's language where the entry has it
    (the console's `candidates` keep the KB's wording)."""
    if not brain.translated:
        return options
    language = visitor_language(decision.language, text, locale)
    shown = []
    for option in options:
        entry = brain.entry(option["entry_id"])
        question = entry.question_in(language, brain.language) if entry else option["question"]
        shown.append(option | {"question": question})
    return shown


def bot_answers(stored: Stored) -> bool:
    """Whether the bot answers this stored visitor message: still with the bot, the last word."""
    return stored.state == S.BOT and stored.last_seq == stored.message.seq


async def bot_turn(
    *,
    session: AsyncSession,
    writer: MessageWriter,
    bus: Bus,
    brain: Brain,
    stored: Stored,
    text: str,
    routing: Routing,
    locale: str | None = None,
    thinking: Awaitable[Decision] | None = None,
) -> Decision | None:
    """Let the bot answer the visitor message just stored, if it is still the last word.

    `thinking` is `brain.decide(text)` started while the message was being stored (the model
    and the database work side by side); the conversation's misses are applied here.

    `locale` is the one the visitor's socket said in its hello (no query for it here, on
    every question); the bot's own sentence ("did you mean") is written in it.

    Also right for a resend: if the first attempt was stored by a replica that died before
    the bot answered, the message is still the last word and gets its answer now. No
    transaction is open while the model thinks (off the event loop, in the brain).
    """
    answering = stored.message.seq
    if not bot_answers(stored):
        return None
    with BOT_DECISION_SECONDS.time():
        decision = brain.after_misses(
            await (thinking or brain.decide(text)), stored.bot_misses
        )
    BOT_DECISIONS.labels(str(decision.action)).inc()
    candidates = _candidates(decision, brain)
    score = round(decision.score, SCORE_DIGITS)
    said: tuple[str, dict[str, Any], bool] | None = None  # text, meta, whether a miss
    entry = brain.entry(decision.entry_id) if decision.entry_id is not None else None
    if decision.action == Action.ANSWER and entry is not None:
        meta = {
            "kind": "answer",
            "entry_id": entry.id,
            "question": entry.question,
            "score": score,
            "candidates": candidates,
            "language": decision.language,
        }
        answer, meta["answer_language"] = await _in_visitor_language(
            session, stored.message.conversation_id, entry, decision.language, text, brain
        )
        said = (answer, meta, False)
    elif decision.action == Action.CLARIFY:
        shown = max(CLARIFY_OPTIONS_MIN, min(CLARIFY_OPTIONS_MAX, len(candidates)))
        meta = {
            "kind": "clarify",
            "options": _in_language(candidates[:shown], brain, decision, text, locale),
            "candidates": candidates,
            "score": score,
            "language": decision.language,
        }
        said = (texts.text("bot.clarify", locale), meta, True)
    if said is not None:
        # Stored only while the chat is still with the bot and the question still the last
        # word: a person who took over meanwhile is never talked over, a resend answered once.
        await writer.store(
            NewMessage(
                conversation_id=stored.message.conversation_id,
                sender=Sender.BOT,
                text=said[0],
                client_msg_id=None,
                guard=Guard.BOT_LAST_WORD,
                meta=said[1],
                answering_seq=answering,
                missed=said[2],
            )
        )
        return decision
    reason = decision.reason or Reason.LOW_CONFIDENCE
    # Row lock (PostgreSQL; SQLite's IMMEDIATE transaction already serialises): of two
    # deliveries of one message racing (a resend on another socket), one escalates.
    conv = await session.get(
        Conversation, stored.message.conversation_id, with_for_update=True, populate_existing=True
    )
    if conv is None or conv.state != S.BOT or conv.last_seq != answering:
        await session.commit()
        return decision  # a person took over, or the message was answered, meanwhile
    teams = await entry_teams(session=session, entry_ids=[c["entry_id"] for c in candidates])
    clarify = brain.thresholds_for(decision.language).clarify
    team = await team_by_name(
        session=session, name=recognised_team(candidates, decision.score, clarify, teams)
    )
    # Collected in the escalation's transaction (issue 15): the question itself, or, when the
    # visitor asked for a person right after an answer, the question that answer was about.
    missed = misses.miss_reason(decision)  # an answer or a "did you mean" is never one
    if missed is not None:
        await misses.record(
            session=session, conversation_id=conv.id, seq=answering, text=text, reason=missed,
            score=score,
        )
    elif reason == Reason.ASKED_FOR_HUMAN:
        await misses.record_answered(
            session=session, conversation_id=conv.id, bot_seq=None, reason=misses.ASKED_FOR_HUMAN
        )
    await escalate(
        session=session,
        bus=bus,
        conv=conv,
        reason=reason,
        routing=routing,
        bot_meta={
            "kind": "escalate",
            "reason": str(reason),
            "candidates": candidates,
            "score": score,
            "language": decision.language,  # the visitor's, as the bot detected it
        },
        team_id=team.id if team is not None else None,
    )
    return decision


async def _bot_says(
    *, session: AsyncSession, bus: Bus, conv: Conversation, said: str, meta: dict[str, Any]
) -> None:
    msg = await append_message(
        session=session, conversation_id=conv.id, sender=Sender.BOT, text=said, meta=meta
    )
    await session.commit()
    await announce(session=session, bus=bus, conv=conv, messages=[msg], state=False, queue=False)


async def choose_option(
    *,
    session: AsyncSession,
    bus: Bus,
    brain: Brain,
    conversation_id: int,
    client_msg_id: str,
    entry_id: str | None,
    routing: Routing,
) -> Posted:
    """The visitor clicked a "Did you mean" button (entry_id) or "None of these" (None)."""
    entry = brain.entry(entry_id) if entry_id is not None else None
    if entry_id is not None and entry is None:
        raise Invalid(f"unknown entry {entry_id!r}")
    conv = await get_conversation(session=session, conversation_id=conversation_id)
    if entry is not None:
        chose = await _button_words(session, conv.id, entry)
    else:
        locale = await visitor_locale(session=session, visitor_id=conv.visitor_id)
        chose = texts.text("visitor.none_of_these", locale)
    posted = await store_client_message(
        session=session,
        bus=bus,
        conv=conv,
        sender=Sender.VISITOR,
        text=chose,
        client_msg_id=client_msg_id,
        meta={"kind": "choice", "entry_id": entry_id},
    )
    if posted.duplicate or conv.state != S.BOT:
        return posted
    if entry is not None:
        conv.bot_misses = 0
        meta = {
            "kind": "answer",
            "entry_id": entry.id,
            "question": entry.question,
            "score": 1.0,
            "candidates": [],
            "chosen": True,
        }
        answer, meta["answer_language"] = await _in_visitor_language(
            session, conv.id, entry, None, "", brain
        )
        await _bot_says(session=session, bus=bus, conv=conv, said=answer, meta=meta)
    else:
        await misses.record_before(  # the question the bot was unsure of (issue 15)
            session=session,
            conversation_id=conv.id,
            seq=posted.message.seq,
            reason=Reason.NONE_OF_THESE,
        )
        await escalate(
            session=session, bus=bus, conv=conv, reason=Reason.NONE_OF_THESE, routing=routing
        )
    return posted


async def _button_words(session: AsyncSession, conversation_id: int, entry: Entry) -> str:
    """What the visitor's "did you mean" button for `entry` said (in their language, as
    `_in_language` worded it): the latest question that offered it, else the KB's question."""
    offers = await session.scalars(
        select(Message.meta)
        .where(Message.conversation_id == conversation_id, Message.sender == Sender.BOT)
        .order_by(Message.seq.desc())
        .limit(CLARIFY_LOOKBACK)
    )
    for meta in offers:
        for option in (meta or {}).get("options") or ():
            if option.get("entry_id") == entry.id and option.get("question"):
                return str(option["question"])
    return entry.question


async def _in_visitor_language(
    session: AsyncSession,
    conversation_id: int,
    entry: Entry,
    detected: str | None,
    text: str,
    brain: Brain,
) -> tuple[str, str]:
    """The entry's answer in the visitor's language (issue 17) and its tag: a translation, or
    the KB's own answer under a note saying it is in another language.

    The visitor's language is the question's, else their widget locale; the locale is read
    (one statement) only when the KB has translations and the question told nothing (or was
    Chinese, for the script), so a KB without translations costs nothing more.
    """
    locale = None
    if brain.translated and detected in (None, "zh"):
        locale = await session.scalar(
            select(Visitor.locale)
            .join(Conversation, Conversation.visitor_id == Visitor.id)
            .where(Conversation.id == conversation_id)
        )
        await session.commit()  # end the read: the answer is stored by the writer
    language = visitor_language(detected, text, locale)
    answer, answer_language = entry.answer_in(language, brain.language)
    if language is None or same_language(language, answer_language):
        return answer, answer_language
    english = primary(answer_language) == "en"
    note = texts.text(
        "bot.answer_in_english" if english else "bot.answer_untranslated", locale=language
    )
    return f"{note}\n\n{answer}", answer_language
