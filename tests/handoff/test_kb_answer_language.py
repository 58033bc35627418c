"""Which language the bot answers in (issue 17): the entry's translation for the visitor's
language, else the knowledge base's answer under a note; the widget locale when the question
says nothing."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import Entry
from bot.kb import Translation
from handoff import texts, visitors
from handoff.bot_turn import _in_visitor_language
from handoff.models import Conversation

ENTRY = Entry("shipping", "How much is shipping?", "€4.95.", (), (
    Translation("cs", "Kolik stojí doprava?", "4,95 €."),
    Translation("zh-Hans", "运费多少？", "4.95 欧元。"),
    Translation("zh-Hant", "運費多少？", "4.95 歐元。"),
))
PLAIN = Entry("hours", "When are you open?", "9-17.")


def kb(language: str, translated: bool = True) -> Any:
    """What the choice asks of the brain: the KB's language, whether it has translations."""
    return SimpleNamespace(language=language, translated=translated)


EN, DE = kb("en"), kb("de")


async def conversation(session: AsyncSession, locale: str | None) -> int:
    v = await visitors.create_visitor(session=session, locale=locale)
    conv = Conversation(visitor_id=v.id)
    session.add(conv)
    await session.commit()
    return conv.id


async def test_the_translation_for_the_questions_language(session: AsyncSession) -> None:
    cid = await conversation(session, "en-US")
    answer = await _in_visitor_language(session, cid, ENTRY, "cs", "Kolik stojí doprava?", EN)
    assert answer == ("4,95 €.", "cs")
    answer = await _in_visitor_language(session, cid, ENTRY, "zh", "運費多少錢？", EN)
    assert answer == ("4.95 歐元。", "zh-Hant")
    assert await _in_visitor_language(session, cid, ENTRY, "en", "shipping?", EN) == (
        "€4.95.", "en")


async def test_a_language_the_entry_lacks_gets_the_kb_answer_with_a_note(
    session: AsyncSession,
) -> None:
    cid = await conversation(session, None)
    text, lang = await _in_visitor_language(session, cid, PLAIN, "de", "Wann offen?", EN)
    # The note in the visitor's language, the answer in the KB's.
    assert lang == "en" and text == "Diese Antwort ist auf Englisch.\n\n9-17."
    text, lang = await _in_visitor_language(session, cid, ENTRY, "fa", "هزینه ارسال؟", EN)
    assert text.startswith("این پاسخ به زبان انگلیسی است.") and text.endswith("€4.95.")
    # A KB in another language says so without naming English.
    text, lang = await _in_visitor_language(session, cid, PLAIN, "cs", "Kdy?", DE)
    assert lang == "de" and text.startswith(texts.text("bot.answer_untranslated", locale="cs"))
    # A KB without translations never reads the locale: the answer as it is.
    undetected = await _in_visitor_language(session, cid, PLAIN, None, "?", kb("en", False))
    assert undetected == ("9-17.", "en")
    # Nothing known of the visitor's language: the answer as it is.
    assert await _in_visitor_language(session, cid, PLAIN, None, "12345", EN) == ("9-17.", "en")


async def test_the_widget_locale_when_the_question_tells_nothing(session: AsyncSession) -> None:
    czech = await conversation(session, "cs-CZ")
    assert await _in_visitor_language(session, czech, ENTRY, None, "PayPal?", EN) == (
        "4,95 €.", "cs")
    taiwan = await conversation(session, "zh-TW")
    assert await _in_visitor_language(session, taiwan, ENTRY, "zh", "你好", EN) == (
        "4.95 歐元。", "zh-Hant")
