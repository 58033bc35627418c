"""An FAQ entry in several languages (issue 17): the files, the tags, the visitor's choice."""

from __future__ import annotations

import json

import pytest

from bot import Entry
from bot.kb import Translation, normalize_tag
from bot.kbfile import dumps, parse_text

ENTRIES = [
    Entry(
        "orders-track",
        "How can I track my order?",
        "Under My Account > Orders.\n\n- or with the link we e-mail",
        ("where is my order", "order tracking"),
        (
            Translation("cs", "Jak sleduji objednávku?", "V Můj účet > Objednávky.",
                        ("kde je moje objednávka", "sledování zásilky, prosím")),
            Translation("zh-Hant", "如何追蹤我的訂單？", "在「我的帳戶 > 訂單」。", ()),
        ),
    ),
    Entry("returns", "Can I return it?", "Yes, within 30 days.", (),
          (Translation("de", "Kann ich es zurückgeben?", "Ja, 30 Tage lang.", ("Rückgabe",)),)),
    Entry("plain", "Opening hours?", "9-17", ("when are you open",)),
]


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "md"])
def test_translations_round_trip_in_every_format(fmt: str) -> None:
    text = dumps(ENTRIES, fmt)
    parsed = parse_text(text, fmt)
    assert parsed.problems == []
    assert parsed.entries == ENTRIES
    assert dumps(parsed.entries, fmt) == text


def test_a_kb_without_translations_is_written_as_before() -> None:
    plain = [ENTRIES[2]]
    assert dumps(plain, "csv").splitlines()[0] == "id,question,variants,answer"
    assert "translations" not in json.loads(dumps(plain, "jsonl"))


def test_jsonl_translations_and_their_problems() -> None:
    good = {"id": "a", "question": "Q?", "answer": "A.",
            "translations": {"ZH_hans": {"question": "问？", "answer": "答。", "variants": ["问"]}}}
    bad_tag = {"id": "b", "question": "Q?", "answer": "A.",
               "translations": {"not a tag": {"question": "x", "answer": "y"}}}
    no_answer = {"id": "c", "question": "Q?", "answer": "A.",
                 "translations": {"cs": {"question": "Otázka?", "answer": " "}}}
    not_object = {"id": "d", "question": "Q?", "answer": "A.", "translations": ["cs"]}
    twice = {"id": "e", "question": "Q?", "answer": "A.", "translations": {
        "cs": {"question": "x", "answer": "y"}, "CS": {"question": "x", "answer": "y"}}}
    text = "\n".join(json.dumps(r, ensure_ascii=False)
                     for r in (good, bad_tag, no_answer, not_object, twice))
    parsed = parse_text(text, "jsonl")
    assert [e.id for e in parsed.entries] == ["a"]
    assert parsed.entries[0].translations == (Translation("zh-Hans", "问？", "答。", ("问",)),)
    assert [(p.line, p.message) for p in parsed.problems] == [
        (2, "translation 'not a tag': not a language tag (cs, de, zh-Hans, pt-BR...)"),
        (3, "translation cs: empty answer"),
        (4, "'translations' must be an object: language tag -> {question, variants, answer}"),
        (5, "translation cs given twice"),
    ]


def test_csv_translation_columns_and_their_problems() -> None:
    text = (
        "id,question,answer,question@cs,answer@cs,variants@cs\n"
        "a,Q?,A.,Otázka?,Odpověď.,jedna|dvě\n"
        "b,Q2?,A2.,,,\n"  # no Czech: no translation
        "c,Q3?,A3.,Otázka bez odpovědi?,,\n"
    )
    parsed = parse_text(text, "csv")
    assert [e.id for e in parsed.entries] == ["a", "b"]
    assert parsed.entries[0].translations == (
        Translation("cs", "Otázka?", "Odpověď.", ("jedna", "dvě")),
    )
    assert parsed.entries[1].translations == ()
    assert [(p.line, p.message) for p in parsed.problems] == [(4, "translation cs: empty answer")]
    bad = parse_text("question,answer,title@cs\nQ,A,x\n", "csv")
    assert [p.line for p in bad.problems] == [1] and "title@cs" in bad.problems[0].message


def test_markdown_translation_sections_and_their_problems() -> None:
    text = (
        "# FAQ\n\n"
        "## How do I return an item?\n"
        "Within 30 days.\n\n"
        "### Tip: keep the box\n"  # an answer's own heading, not a translation
        "Also asked:\n- return item\n\n"
        "### es: ¿Cómo devuelvo un artículo?\n"
        "En 30 días.\n\n"
        "Also asked:\n- devolver un artículo\n- quiero devolverlo\n\n"
        "## Broken?\n"
        "Yes.\n\n"
        "### cs: \n"
        "Ano.\n"
    )
    parsed = parse_text(text, "md")
    (entry,) = parsed.entries
    assert entry.answer == "Within 30 days.\n\n### Tip: keep the box"
    assert entry.variants == ("return item",)
    assert entry.translations == (Translation(
        "es", "¿Cómo devuelvo un artículo?", "En 30 días.",
        ("devolver un artículo", "quiero devolverlo")),)
    problems = [(p.line, p.message) for p in parsed.problems]
    assert problems == [(20, "translation cs: empty question")]


def test_tags_are_normalised() -> None:
    assert normalize_tag("zh_hant") == "zh-Hant" and normalize_tag("PT-br") == "pt-BR"
    assert normalize_tag("es-419") == "es-419" and normalize_tag("english") is None


def test_the_visitors_language_picks_the_translation() -> None:
    entry = Entry("a", "Q?", "A.", (), (
        Translation("zh-Hans", "问？", "简体。"), Translation("zh-Hant", "問？", "繁體。"),
        Translation("pt-BR", "P?", "R."),
    ))
    pick = lambda lang: (t.answer if (t := entry.translation(lang)) else None)  # noqa: E731
    assert pick("zh") == "简体。" and pick("zh-CN") == "简体。"
    assert pick("zh-TW") == "繁體。" and pick("zh-Hant") == "繁體。"
    assert pick("pt") == "R." and pick("pt-PT") == "R."  # the language's only one
    assert pick("cs") is None and pick(None) is None
    # The index sees every language's phrasings as the entry's.
    assert entry.phrasings() == ("Q?", "问？", "問？", "P?")


def test_the_answer_is_in_the_visitors_language_when_the_entry_has_it() -> None:
    entry = Entry("a", "Q?", "English.", (), (
        Translation("cs", "Otázka?", "Česky."), Translation("zh-Hant", "問？", "繁體。"),
    ))
    assert entry.answer_in("cs", "en") == ("Česky.", "cs")
    assert entry.answer_in("en-GB", "en") == ("English.", "en")
    assert entry.answer_in("de", "en") == ("English.", "en")  # no German: the KB's own
    assert entry.answer_in(None, "en") == ("English.", "en")
    assert entry.answer_in("zh-TW", "zh-Hans") == ("繁體。", "zh-Hant")
    assert entry.answer_in("zh-CN", "zh-Hans") == ("English.", "zh-Hans")


def test_an_entrys_questions_share_a_place_in_every_language() -> None:
    entry = Entry("a", "Q?", "A.", ("v1", "v2"), (Translation("cs", "Otázka?", "O.", ("w1",)),))
    assert entry.phrasing_slots() == (
        ("Q?", 0, None), ("v1", 1, None), ("v2", 2, None), ("Otázka?", 0, "cs"), ("w1", 3, "cs"),
    )


def test_the_chinese_script_and_the_locale_pick_the_visitors_tag() -> None:
    from bot.language import chinese_script, visitor_language

    assert chinese_script("我的订单在哪里") == "Hans" and chinese_script("運費是多少？") == "Hant"
    assert chinese_script("你好") is None and chinese_script("hello") is None
    assert visitor_language("zh", "運費是多少？", None) == "zh-Hant"
    assert visitor_language("zh", "你好", "zh-TW") == "zh-Hant"  # the text tells nothing
    assert visitor_language("zh", "你好", None) == "zh-Hans"
    assert visitor_language(None, "12345", "pt-br") == "pt-BR"  # undetected: the locale
    assert visitor_language("cs", "Dobrý den", "en-US") == "cs"  # the question wins
    assert visitor_language("pt", "Olá", "pt-BR") == "pt-BR"
