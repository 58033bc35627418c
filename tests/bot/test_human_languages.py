""""Asked for a person" in every language the widget speaks (bot/human.py): how visitors type
it, and what only mentions people. No model needed: the rule runs before the encoder."""

from __future__ import annotations

import pytest

from bot.human import is_human_request
from handoff.locales import CATALOGUES

ASKS: dict[str, list[str]] = {
    "en": ["I want to talk to a person", "human please", "can I speak with an agent?"],
    "de": [
        "Ich möchte mit einem Menschen sprechen",
        "kann ich bitte mit einem Mitarbeiter reden?",
        "Verbinden Sie mich mit dem Kundenservice",
        "ich will einen echten Menschen",
        "Mitarbeiter bitte",
    ],
    "es": [
        "Quiero hablar con una persona",
        "¿Puedo hablar con un agente?",
        "necesito un humano",
        "pásame con atención al cliente",
        "persona real por favor",
    ],
    "fr": [
        "Je voudrais parler à une personne",
        "je veux parler a un conseiller",
        "passez-moi un humain",
        "Puis-je discuter avec quelqu'un du service client ?",
        "un conseiller svp",
    ],
    "pt": [
        "Quero falar com uma pessoa",
        "preciso falar com um atendente",
        "me passa para um humano",
        "atendimento humano, por favor",
        "posso conversar com alguém real?",
    ],
    "zh-Hans": ["转人工", "我要找人工客服", "我想和真人聊", "请帮我转接客服", "可以联系客服吗"],
    "zh-Hant": ["轉人工", "我要找真人客服", "請幫我轉接客服", "可以聯絡客服嗎", "我想跟真人說話"],
    "cs": [
        "Chci mluvit s člověkem",
        "můžete mě přepojit na operátora?",
        "chci zivyho cloveka",
        "spojte mě s pracovníkem podpory",
        "chtěl bych mluvit s operátorkou",
    ],
    "fa": [
        "می‌خواهم با یک کارشناس صحبت کنم",
        "با اپراتور وصلم کنید",
        "میخوام با یه آدم واقعی حرف بزنم",
        "لطفا به پشتیبانی وصلم کنید",
        "اپراتور لطفا",
    ],
}

MENTIONS: dict[str, list[str]] = {
    "de": ["Ist der Mitarbeiterrabatt auch online gültig?", "Wie viele Personen passen ins Zelt?"],
    "es": ["¿Cuántas personas caben en la tienda?", "¿El agente de aduanas cobra algo?"],
    "fr": ["Combien de personnes pour cette tente ?", "personne n'a répondu à mon e-mail"],
    "pt": ["Quantas pessoas cabem na barraca?", "o produto é para uma pessoa?"],
    "zh-Hans": ["你们用人工智能吗？", "人工合成的材料安全吗", "这个帐篷能睡几个人"],
    "zh-Hant": ["你們用人工智慧嗎？", "這是人工皮革嗎", "這個帳篷能睡幾個人"],
    "cs": ["Kolik lidí se vejde do stanu?", "Je to pro jednoho člověka?"],
    "fa": ["این چادر برای چند نفر است؟", "هوش مصنوعی دارید؟"],
}


@pytest.mark.parametrize(("lang", "text"), [(lang, t) for lang, ts in ASKS.items() for t in ts])
def test_a_visitor_asking_for_a_person_is_heard(lang: str, text: str) -> None:
    assert is_human_request(text), f"{lang}: {text!r}"


@pytest.mark.parametrize(("lang", "text"), [(lang, t) for lang, ts in MENTIONS.items() for t in ts])
def test_a_question_that_only_mentions_people_is_not_a_request(lang: str, text: str) -> None:
    assert not is_human_request(text), f"{lang}: {text!r}"


def test_every_widget_language_is_covered() -> None:
    assert set(ASKS) == {"en", *CATALOGUES}


@pytest.mark.parametrize("lang", sorted(CATALOGUES))
def test_our_own_words_for_asking_are_a_request(lang: str) -> None:
    """What the server stores when the visitor presses "talk to a person", in their language."""
    assert is_human_request(CATALOGUES[lang]["visitor.asked_for_human"])
