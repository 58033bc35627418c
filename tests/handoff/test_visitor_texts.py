"""Every sentence the server writes for a visitor, in their language (handoff/texts.py and
handoff/locales/): the catalogues agree with English, the promised time and plural forms come
from Babel, and the services write in the visitor's locale (real database, in-memory bus)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel import Locale
from babel.dates import format_date

from bot import Reason
from handoff import agent_actions, service_settings, texts
from handoff.conversations import ticket_for
from handoff.escalation import escalate, request_human
from handoff.events import conversation_channel
from handoff.feedback import render_transcript
from handoff.hours import BusinessHours
from handoff.locales import CATALOGUES, PLURAL_CATALOGUES
from handoff.messages import messages_after
from handoff.models import Conversation, Visitor, utcnow
from handoff.routing import Routing, assign
from handoff.service_settings import Current
from handoff.states import ConversationState as S

MANUAL = Routing(auto_assign=False)
LOW, HUMAN = Reason.LOW_CONFIDENCE, Reason.ASKED_FOR_HUMAN
WIDGET_LANGUAGES = {"de", "es", "fr", "pt", "zh-Hans", "zh-Hant", "cs", "fa"}


def said(events: list[dict]) -> list[str]:
    return [e["text"] for e in events if e["type"] == "message"]


def test_every_widget_language_has_a_catalogue() -> None:
    assert WIDGET_LANGUAGES <= set(CATALOGUES)


@pytest.mark.parametrize("tag", sorted(CATALOGUES))
def test_a_catalogue_has_every_english_key_with_the_same_placeholders(tag: str) -> None:
    catalogue = CATALOGUES[tag]
    assert set(catalogue) == set(texts.EN) - texts.ENGLISH_ONLY, f"{tag}: keys differ from English"
    for key, wording in catalogue.items():
        assert wording.strip(), f"{tag} {key} is empty"
        assert sorted(texts.placeholders(key, wording)) == sorted(texts.placeholders(key)), key
    plurals = PLURAL_CATALOGUES[tag]
    assert set(plurals) == set(texts.EN_PLURALS), f"{tag}: plural sentences differ from English"
    # Every plural category the language has (CLDR, through Babel) has its form.
    needed = Locale.parse(tag, sep="-").plural_form.tags | {"other"}
    for key, forms in plurals.items():
        assert needed <= set(forms), f"{tag} {key}: missing {needed - set(forms)}"
        for form in forms.values():
            assert texts.placeholders(key, form) == ["count"], (tag, key, form)


@pytest.mark.parametrize(
    ("asked", "tag"),
    [
        ("fa", "fa"), ("fa-IR", "fa"), ("zh-TW", "zh-Hant"), ("zh-HK", "zh-Hant"),
        ("zh-Hant", "zh-Hant"), ("zh", "zh-Hans"), ("zh-CN", "zh-Hans"), ("zh-SG", "zh-Hans"),
        ("zh_Hans_CN", "zh-Hans"), ("pt-BR", "pt"), ("de-AT", "de"), ("cs-CZ", "cs"),
        ("en-GB", "en"), ("ja", "en"), ("", "en"), (None, "en"), ("not a locale", "en"),
    ],
)
def test_a_locale_reads_the_catalogue_of_its_language(asked: str | None, tag: str) -> None:
    assert texts.catalogue_tag(asked) == tag


def test_an_unknown_key_in_a_language_falls_back_to_english(monkeypatch) -> None:
    monkeypatch.delitem(CATALOGUES["cs"], "rating.request")
    assert texts.text("rating.request", "cs") == texts.EN["rating.request"]


def test_czech_plural_forms_follow_babel() -> None:
    wait = [texts.text("queue.wait", "cs", count=n) for n in (1, 3, 5, 22)]
    assert wait == [
        "Čekání obvykle trvá asi 1 minutu.",
        "Čekání obvykle trvá asi 3 minuty.",
        "Čekání obvykle trvá asi 5 minut.",
        "Čekání obvykle trvá asi 22 minut.",  # Czech "few" is 2-4 only
    ]
    assert texts.text("queue.wait", "en", count=1).endswith("1 minute.")


def test_the_promised_time_is_in_the_visitors_language_and_the_business_time_zone() -> None:
    moment = datetime(2026, 3, 11, 5, 30, tzinfo=UTC)  # 09:00 in Tehran
    tehran = ZoneInfo("Asia/Tehran")
    fa = texts.local_time(moment, tehran, "fa")
    assert "چهارشنبه" in fa and "مارس" in fa and "9:00" in fa and "وقت عادی ایران" in fa
    assert texts.local_time(moment, tehran, "cs").startswith("středa 11. března 2026 9:00")
    assert texts.local_time(moment, tehran, "zh-TW").startswith("2026年3月11日 星期三")
    assert texts.local_time(moment, tehran, "de-AT").startswith("Mittwoch, 11. März 2026")
    assert "(Iran Standard Time)" in texts.local_time(moment, tehran)


async def test_a_czech_visitor_reads_the_queue_and_the_usual_wait_in_czech(
    session, bus, new_agent, new_chat, listen
) -> None:
    await new_agent("Ann")
    now = utcnow()
    for n in range(3):  # earlier pickups: each waited three minutes
        done = await new_chat()
        done.state, done.queued_at = S.CLOSED, now - timedelta(hours=1, minutes=n)
        done.assigned_at = done.queued_at + timedelta(minutes=3)
    await session.commit()
    first, second = await new_chat(), await new_chat()
    await set_locale(session, first, "cs-CZ")
    await set_locale(session, second, "cs")
    heard_first, heard_second = (listen(conversation_channel(c.id)) for c in (first, second))

    for conv in (first, second):
        await escalate(session=session, bus=bus, conv=conv, reason=LOW, routing=MANUAL)

    assert said(heard_first.events()) == [
        "Přepojuji vás na člověka. Ve frontě jste 1. v pořadí; zůstaňte prosím tady. "
        "Čekání obvykle trvá asi 3 minuty."
    ]
    assert said(heard_second.events()) == [
        "Přepojuji vás na člověka. Ve frontě jste 2. v pořadí; zůstaňte prosím tady. "
        "Čekání obvykle trvá asi 6 minut."
    ]


async def set_locale(session, conv: Conversation, locale: str) -> None:
    """As if the visitor's widget had said `locale` in its first hello."""
    visitor = await session.get(Visitor, conv.visitor_id)
    visitor.locale = locale
    await session.commit()


async def test_what_agents_do_reaches_a_persian_visitor_in_persian(
    session, bus, new_agent, new_chat, listen
) -> None:
    ann = await new_agent("Ann")
    conv = await new_chat()
    await set_locale(session, conv, "fa-IR")
    heard = listen(conversation_channel(conv.id))

    await request_human(
        session=session, bus=bus, conversation_id=conv.id, client_msg_id="h1", routing=MANUAL
    )
    await assign(session=session, bus=bus, conversation_id=conv.id, agent=ann)
    await agent_actions.close(session=session, bus=bus, conversation_id=conv.id, agent=ann)

    fa = CATALOGUES["fa"]
    assert said(heard.events()) == [
        fa["visitor.asked_for_human"],
        fa["queue.joined"].format(position=1),
        fa["agent.joined"].format(agent="Ann"),
        fa["agent.closed"].format(agent="Ann"),
        fa["rating.request"],
    ]
    rows = await messages_after(
        session=session, conversation_id=conv.id, after_seq=0, include_notes=False
    )
    transcript = render_transcript(conv, list(rows), "fa")
    assert transcript.startswith(fa["transcript.heading"].format(conversation_id=conv.id))
    assert f"] {fa['transcript.you']}: {fa['visitor.asked_for_human']}" in transcript


async def test_a_chinese_ticket_promise_is_chinese_throughout(
    session, bus, new_chat, listen
) -> None:
    conv = await new_chat()
    await set_locale(session, conv, "zh-TW")
    heard = listen(conversation_channel(conv.id))
    await escalate(session=session, bus=bus, conv=conv, reason=HUMAN, routing=MANUAL)
    [promise] = said(heard.events())
    ticket = await ticket_for(session=session, conversation_id=conv.id)
    assert ticket is not None and ticket.reply_by is not None
    when = texts.local_time(ticket.reply_by, MANUAL.hours.timezone, "zh-TW")
    assert promise == (
        f"目前我們的團隊沒有人在線上，我已為您建立工單 #{ticket.id}。專人將於 {when} 前回覆："
        "您回來時可以在這裡看到回覆；如果您留下電子郵件地址，也會收到郵件。"
    )
    assert format_date(ticket.reply_by, "EEEE", locale="zh_Hant") in when  # 星期三


async def test_an_admins_promise_stays_in_their_words_with_the_time_for_the_visitor(
    session, bus, new_chat, listen
) -> None:
    current = Current(BusinessHours())
    routing = Routing(auto_assign=False, hours=current.hours)
    await service_settings.save_widget(
        session=session, bus=bus, current=current, title=None, greeting=None, color=None,
        ticket_promise="Ticket {ticket_id}: we answer by {when}.", agent_id=None,
    )
    conv = await new_chat()
    await set_locale(session, conv, "fa")
    heard = listen(conversation_channel(conv.id))
    await escalate(session=session, bus=bus, conv=conv, reason=HUMAN, routing=routing)
    [promise] = said(heard.events())
    ticket = await ticket_for(session=session, conversation_id=conv.id)
    assert ticket is not None and ticket.reply_by is not None
    when = texts.local_time(ticket.reply_by, routing.hours.timezone, "fa")
    assert promise == f"Ticket {ticket.id}: we answer by {when}."  # the admin's English, fa date
    assert "(زمان هماهنگ جهانی)" in when
