"""A multilingual knowledge base over a real websocket (issue 17): a Czech visitor gets the
Czech answer; a visitor whose language the entry lacks gets the English one with a note."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest

from app.db import make_engine, make_sessionmaker
from bot import load_entries
from bot.kb import Translation
from handoff import knowledge, texts
from tests.client import visitor
from tests.conftest import TEST_KB, Server, make_settings, run_server

CZECH = {
    "shipping-cost": Translation(
        "cs", "Kolik stojí doprava?", "Standardní doprava stojí 4,95 €, nad 60 € je zdarma.",
        ("Jaké je poštovné?", "Je doprava zdarma?"),
    ),
    "password-reset": Translation(
        "cs", "Jak si obnovím heslo?", "Na přihlašovací stránce klikněte na „Zapomenuté heslo“.",
        ("Zapomněl jsem heslo", "nemůžu se přihlásit"),
    ),
}


async def czech_kb(database_url: str) -> None:
    """The test knowledge base, two of its entries also in Czech."""
    entries = [
        replace(e, translations=(CZECH[e.id],)) if e.id in CZECH else e
        for e in load_entries(TEST_KB)
    ]
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as s:
            await knowledge.replace_all(session=s, entries=entries)
    finally:
        await engine.dispose()


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[Server]:
    """chatdesk on the Czech-and-English knowledge base."""
    await czech_kb(database_url)
    async with run_server(make_settings(database_url)) as srv:
        yield srv


@pytest.fixture
async def asking_server(database_url: str) -> AsyncIterator[Server]:
    """The same, with an answer threshold no confidence reaches: the bot always asks."""
    await czech_kb(database_url)
    async with run_server(make_settings(database_url, answer_threshold=1.5)) as srv:
        yield srv


async def ask(server: Server, text: str, **hello: Any) -> dict[str, Any]:
    client, _ = await visitor(server, **hello)
    await client.say(text)
    reply = await client.expect(
        lambda f: f.get("type") == "message" and f["sender"] in ("bot", "system")
    )
    await client.close()
    return reply


async def test_a_czech_visitor_gets_the_czech_answer(server: Server) -> None:
    reply = await ask(server, "Kolik stojí doprava?", locale="cs-CZ")
    assert reply["sender"] == "bot" and reply["meta"]["entry_id"] == "shipping-cost"
    assert reply["text"] == CZECH["shipping-cost"].answer
    assert reply["meta"]["language"] == "cs" and reply["meta"]["answer_language"] == "cs"
    # The same entry in English, for an English question: no note, the English answer.
    english = await ask(server, "How much does shipping cost?", locale="cs-CZ")
    assert english["text"] == "Standard shipping is €4.95, and free on orders over €60."
    assert english["meta"]["answer_language"] == "en"


async def test_a_language_the_entry_lacks_gets_the_english_answer_with_a_note(
    server: Server,
) -> None:
    # The question tells no language ("PayPal?"); the widget's locale says German, and the
    # entry has no German: the English answer, said to be English.
    reply = await ask(server, "PayPal?", locale="de-DE")
    assert reply["sender"] == "bot", reply
    assert reply["meta"]["entry_id"] == "payment-methods" and reply["meta"]["language"] is None
    note = texts.text("bot.answer_in_english", locale="de")  # "Diese Antwort ist auf Englisch."
    assert reply["text"] == f"{note}\n\nWe accept Visa, Mastercard, PayPal and Klarna."
    assert reply["meta"]["answer_language"] == "en"


async def test_did_you_mean_buttons_and_the_choice_are_in_the_visitors_language(
    asking_server: Server,
) -> None:
    client, _ = await visitor(asking_server, locale="cs-CZ")
    await client.say("Kolik stojí doprava?")
    ask = await client.expect(lambda f: f.get("type") == "message" and f["sender"] == "bot")
    assert ask["meta"]["kind"] == "clarify", ask
    options = {o["entry_id"]: o["question"] for o in ask["meta"]["options"]}
    assert options["shipping-cost"] == "Kolik stojí doprava?"  # the Czech question
    # An entry without Czech keeps its English question; the console's list stays English.
    english = {e.id: e.question for e in load_entries(TEST_KB)}
    assert all(q == english[i] for i, q in options.items() if i not in CZECH)
    assert {c["question"] for c in ask["meta"]["candidates"]} <= set(english.values())
    await client.send({"type": "choice", "client_msg_id": "pick-1", "entry_id": "shipping-cost"})
    chose = await client.expect(lambda f: f.get("type") == "message" and f["sender"] == "visitor"
                                and f["meta"].get("kind") == "choice")
    assert chose["text"] == "Kolik stojí doprava?"
    answer = await client.expect(lambda f: f.get("type") == "message" and f["sender"] == "bot")
    assert answer["text"] == CZECH["shipping-cost"].answer
    await client.close()


async def test_a_returning_visitor_whose_widget_changed_language_is_written_to_in_it(
    server: Server,
) -> None:
    first, welcome = await visitor(server, locale="en-GB")
    await first.close()
    # Back with a Czech widget: "PayPal?" tells no language and payment-methods has no
    # Czech, so the bot's note that the answer is English is in the new locale, Czech.
    client, _ = await visitor(server, token=welcome["token"], locale="cs-CZ")
    await client.say("PayPal?")
    reply = await client.expect(lambda f: f.get("type") == "message" and f["sender"] == "bot")
    note = texts.text("bot.answer_in_english", locale="cs")
    assert reply["text"].startswith(note + "\n\n"), reply["text"]
    await client.close()
