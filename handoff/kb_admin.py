"""The admin console's knowledge base: search with usage numbers, file import/export, "try".

Storage and single-entry edits are handoff/knowledge.py; this module adds what an admin page
needs over the whole knowledge base, in a few statements however many entries there are.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import Action, Brain, Entry
from bot.explain import Explanation, Why
from bot.kbfile import Problem, dumps, format_for, parse_text
from bot.language import visitor_language
from handoff import knowledge
from handoff.bot_turn import CLARIFY_OPTIONS_MAX, CLARIFY_OPTIONS_MIN, SCORE_DIGITS
from handoff.models import (
    FaqEntry,
    FaqTranslation,
    FaqVariant,
    Message,
    MessageFeedback,
    Sender,
    utcnow,
)

RECENT_DAYS, MONTH_DAYS = 7, 30  # the two windows an admin compares: this week, this month
MAX_IMPORT_BYTES = 2 * 1024 * 1024  # ~1,000 long entries; a bigger upload is a mistake
FORMATS = ("jsonl", "csv", "md")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # PostgreSQL text holds no NUL, no lone surrogate


# --- list and search, with how each entry did ----------------------------------------------


@dataclass
class EntryStats:
    """A stored entry with how often the bot answered with it and how visitors voted."""

    id: str
    question: str
    answer: str
    variants: list[FaqVariant]
    translations: list[FaqTranslation] = field(default_factory=list)
    answered_7d: int = 0
    answered_30d: int = 0
    helpful: int = 0  # "was this helpful?" yes votes on its answers of the last 30 days
    unhelpful: int = 0

    @property
    def helpful_rate(self) -> float | None:
        """Share of yes votes, None before the first vote."""
        votes = self.helpful + self.unhelpful
        return round(self.helpful / votes, 3) if votes else None


def _like(q: str) -> str:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def search_entries(*, session: AsyncSession, q: str | None = None) -> list[EntryStats]:
    """Entries whose id, question, answer, a variant or a translation contains `q` (all
    without), with stats.

    A few statements in all (entries, their variants and translations, one per kind of number).
    """
    stmt = select(FaqEntry).order_by(FaqEntry.id)
    if q and q.strip():
        pattern = _like(q.strip())
        variant = select(FaqVariant.id).where(
            FaqVariant.entry_id == FaqEntry.id, FaqVariant.text.ilike(pattern, escape="\\")
        )
        translated = select(FaqTranslation.id).where(
            FaqTranslation.entry_id == FaqEntry.id,
            or_(
                FaqTranslation.question.ilike(pattern, escape="\\"),
                FaqTranslation.answer.ilike(pattern, escape="\\"),
            ),
        )
        stmt = stmt.where(
            or_(
                FaqEntry.id.ilike(pattern, escape="\\"),
                FaqEntry.question.ilike(pattern, escape="\\"),
                FaqEntry.answer.ilike(pattern, escape="\\"),
                exists(variant),  # a translation's variants too: they name the entry as well
                exists(translated),
            )
        )
    rows = (await session.scalars(stmt)).all()
    out = {
        r.id: EntryStats(r.id, r.question, r.answer, list(r.variants), list(r.translations))
        for r in rows
    }
    if not out:
        return []
    now = utcnow()
    week, month = now - timedelta(days=RECENT_DAYS), now - timedelta(days=MONTH_DAYS)
    # Bot answers (also those after a "did you mean" click) name their entry in `meta`. The
    # JSON is read in a subquery so GROUP BY names a plain column on every database.
    answers = (
        select(
            Message.meta["entry_id"].as_string().label("entry_id"),
            Message.conversation_id,
            Message.seq,
            Message.created_at,
        )
        .where(
            Message.sender == Sender.BOT,
            Message.created_at >= month,
            Message.meta["kind"].as_string() == "answer",
        )
        .subquery()
    )
    counted = select(
        answers.c.entry_id,
        func.sum(case((answers.c.created_at >= week, 1), else_=0)),
        func.count(),
    ).group_by(answers.c.entry_id)
    for entry_id, recent, total in await session.execute(counted):
        if entry_id in out:
            out[entry_id].answered_7d, out[entry_id].answered_30d = int(recent or 0), int(total)
    votes = (
        select(
            answers.c.entry_id,
            func.sum(case((MessageFeedback.helpful.is_(True), 1), else_=0)),
            func.count(),
        )
        .select_from(answers)
        .join(
            MessageFeedback,
            and_(
                MessageFeedback.conversation_id == answers.c.conversation_id,
                MessageFeedback.seq == answers.c.seq,
            ),
        )
        .group_by(answers.c.entry_id)
    )
    for entry_id, yes, total in await session.execute(votes):
        if entry_id in out:
            out[entry_id].helpful = int(yes or 0)
            out[entry_id].unhelpful = int(total) - out[entry_id].helpful
    return list(out.values())


# --- import and export ---------------------------------------------------------------------


@dataclass
class ImportResult:
    """What an import found, and whether it replaced the knowledge base."""

    format: str
    entries: int = 0  # entries in the file
    variants: int = 0
    translations: int = 0  # of all entries together
    current: int = 0  # entries stored before (what an import replaces)
    applied: bool = False
    problems: list[Problem] = field(default_factory=list)

    @property
    def detail(self) -> str:
        """The outcome in one sentence."""
        if self.problems:
            n = len(self.problems)
            return f"the file has {n} problem{'s' * (n != 1)}; nothing was changed"
        if self.applied:
            return f"imported {self.entries} entries, replacing {self.current}"
        return f"{self.entries} entries can replace the {self.current} stored now"


def format_of(filename: str | None) -> str:
    """The format a file name says ("faq.csv" -> "csv"); "" when it says none."""
    return format_for(filename or "") or ""


def _check_storable(entry: Entry, line: int) -> list[Problem]:
    """What the REST edits refuse as well: ids unfit for a URL, overlong or unstorable text."""
    problems = []
    texts = [("question", entry.question), ("answer", entry.answer)]
    texts += [("variant", v) for v in entry.variants]
    for t in entry.translations:
        texts += [(f"{t.lang} question", t.question), (f"{t.lang} answer", t.answer)]
        texts += [(f"{t.lang} variant", v) for v in t.variants]
        if len(t.variants) > knowledge.VARIANTS_MAX:
            problems.append(Problem(line, f"more than {knowledge.VARIANTS_MAX} {t.lang} variants"))
    if not re.match(knowledge.ENTRY_ID_PATTERN, entry.id):
        problems.append(
            Problem(line, f"id {entry.id!r} must be letters, digits, '.', '_' or '-' (100 at most)")
        )
    if len(entry.variants) > knowledge.VARIANTS_MAX:
        problems.append(Problem(line, f"more than {knowledge.VARIANTS_MAX} variants"))
    for what, text in texts:
        if len(text) > knowledge.TEXT_MAX:
            problems.append(Problem(line, f"{what} longer than {knowledge.TEXT_MAX} characters"))
        if _UNSTORABLE.search(text):
            problems.append(Problem(line, f"{what} holds a NUL or an unpaired surrogate"))
    return problems


def check_file(data: bytes, fmt: str) -> tuple[list[Entry], list[Problem]]:
    """Read an uploaded file: its entries, and every problem with its line (none: importable)."""
    if fmt not in FORMATS:
        known = ", ".join(FORMATS)
        return [], [Problem(0, f"unknown format {fmt!r}: say format= {known}, or a file name")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return [], [Problem(line, f"not UTF-8 text ({exc.reason})")]
    parsed = parse_text(text, fmt)
    problems = list(parsed.problems)
    for entry, line in zip(parsed.entries, parsed.lines, strict=True):
        problems += _check_storable(entry, line)
    if not parsed.entries and not problems:
        problems.append(Problem(0, "the file has no entries"))
    problems.sort(key=lambda p: p.line)
    return parsed.entries, problems


async def import_file(
    *,
    session: AsyncSession,
    data: bytes,
    fmt: str,
    dry_run: bool,
    actor_id: int | None = None,
    ip: str | None = None,
) -> ImportResult:
    """Replace the knowledge base with a file's entries, only if the file has no problem.

    `dry_run` checks and counts only. A file with problems changes nothing.
    """
    entries, problems = check_file(data, fmt)
    result = ImportResult(
        format=fmt,
        entries=len(entries),
        variants=sum(len(e.variants) for e in entries),
        translations=sum(len(e.translations) for e in entries),
        current=await knowledge.count_entries(session=session),
        problems=problems,
    )
    if problems or dry_run:
        await session.rollback()  # nothing written: end the read transaction
        return result
    await knowledge.replace_all(
        session=session, entries=entries, actor_id=actor_id, ip=ip, via="admin"
    )
    result.applied = True
    return result


async def export_file(*, session: AsyncSession, fmt: str) -> str:
    """The whole knowledge base as the text of a .jsonl, .csv or .md file."""
    return dumps(await knowledge.load_entries(session=session), fmt)


# --- "try a question" ----------------------------------------------------------------------

WHY_TEXT = {
    Why.CONFIDENT: "confidence {confidence} reaches the answer threshold {answer}"
    " and the top entry is clear of the runner-up",
    Why.BELOW_ANSWER: "confidence {confidence} is below the answer threshold {answer}"
    " (but not below the clarify threshold {clarify}): the bot asks which one was meant",
    Why.TOO_CLOSE: "the runner-up is too close (the top leads by {gap}, the margin is"
    " {margin}): the bot asks which one was meant",
    Why.SCORERS_DISAGREE: "the classifier and the nearest phrasing point at different"
    " entries (confidence {confidence}, sure from {sure}): the bot asks which one was meant",
    Why.BELOW_CLARIFY: "confidence {confidence} is below the clarify threshold {clarify}:"
    " a person takes over",
    Why.NO_ALTERNATIVE: "not sure enough to answer (confidence {confidence}, answer from"
    " {answer}) and nothing close to offer instead: a person takes over",
    Why.ASKED_FOR_HUMAN: "the question asks for a person: the chat goes to an agent"
    " (or becomes a ticket when nobody is available)",
    Why.EMPTY: "the knowledge base has no entries: every question goes to a person",
}


@dataclass
class TryResult:
    """What the bot would do with a question now, and why."""

    action: str
    reason: str
    why: str
    entry_id: str | None
    answer: str | None
    answer_language: str | None  # the translation's tag, or the KB's language
    confidence: float
    runner_up_gap: float | None
    stage: str
    thresholds: dict[str, float]
    candidates: list[dict[str, Any]]
    options: list[dict[str, Any]]  # the "did you mean" buttons, when the bot would ask


def _numbers(ex: Explanation) -> dict[str, str]:
    values: dict[str, float | None] = {"confidence": ex.confidence, "gap": ex.runner_up_gap}
    values |= ex.thresholds
    return {k: "-" if v is None else f"{v:.3f}" for k, v in values.items()}


async def try_question(*, brain: Brain, question: str) -> TryResult:
    """The bot's decision on `question` as a visitor's first message; stores nothing."""
    ex = await brain.explain(question)
    candidates: list[dict[str, Any]] = []
    for cand in ex.decision.candidates:
        entry = brain.entry(cand.entry_id)
        candidates.append(
            {
                "entry_id": cand.entry_id,
                "question": entry.question if entry else None,
                "score": round(cand.score, SCORE_DIGITS),
            }
        )
    options: Sequence[dict[str, Any]] = ()
    if ex.decision.action is Action.CLARIFY:  # as handoff/bot_turn.py offers them
        options = candidates[: max(CLARIFY_OPTIONS_MIN, min(CLARIFY_OPTIONS_MAX, len(candidates)))]
    chosen = brain.entry(ex.decision.entry_id) if ex.decision.entry_id else None
    language = visitor_language(ex.decision.language, question, None)
    answer, answer_language = chosen.answer_in(language, brain.language) if chosen else (None, None)
    return TryResult(
        action=str(ex.decision.action),
        reason=ex.why,
        why=WHY_TEXT[ex.why].format(**_numbers(ex)),
        entry_id=chosen.id if chosen else None,
        answer=answer,
        answer_language=answer_language,
        confidence=ex.confidence,
        runner_up_gap=ex.runner_up_gap,
        stage=ex.stage,
        thresholds=ex.thresholds,
        candidates=candidates,
        options=list(options),
    )
