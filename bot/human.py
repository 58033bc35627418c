"""Detect an explicit request to talk to a person, in several languages."""

from __future__ import annotations

import re
import unicodedata

# Words meaning "a person who helps" per language; kept apart from the verbs so that
# "travel agent" or "human resources" alone does not trigger a handover.
_EN_WHO = (
    r"(?:a |an |the |some |real |live |actual |)*"
    r"(?:human(?: being)?|person|people|agent|operator|representative|rep|someone|somebody|"
    r"staff|support(?: person| agent| team)?|customer (?:service|support)(?: agent| rep)?|"
    r"manager|supervisor|"
    r"(?:real|live) (?:one|chat))"
)
_ES_WHO = (
    r"(?:un |una |el |la |alguien|)\s*(?:humano|persona|agente|operador|operadora|asesor|"
    r"asesora|representante|alguien(?: real)?|ser humano|soporte|"
    r"(?:servicio|atencion) al cliente)"
)
_FR_WHO = (
    r"(?:un |une |le |la |l'|quelqu'un|)\s*(?:humain|personne|agent|operateur|operatrice|"
    r"conseiller|conseillere|quelqu'un|etre humain|vrai(?:e)? personne|service client)"
)
_DE_WHO = (
    r"(?:einem |einer |einen |mit |jemandem|)\s*(?:menschen?|person|mitarbeiter(?:in)?|"
    r"agenten?|berater(?:in)?|jemandem|echten menschen|kundenberater(?:in)?|support|"
    r"kundenservice|kundendienst)"
)
_PT_WHO = (
    r"(?:um |uma |o |a |alguem|)\s*(?:humano|pessoa|atendente|agente|operador(?:a)?|"
    r"assistente|alguem(?: real)?|ser humano|consultor(?:a)?|suporte|atendimento)"
)
_CS_WHO = (
    r"(?:clovek(?:em)?|cloveka|operator(?:em|a|kou)?|operatork(?:ou|a|y)|"
    r"pracovnik(?:em)?|pracovnici|zivym|zivy|nekym|agent(?:em)?|podpor(?:a|ou))"
)

_PATTERNS: tuple[str, ...] = (
    # English
    rf"\b(?:talk|speak|chat|get in touch|be connected)\b.{{0,20}}\b(?:to|with)\s+{_EN_WHO}\b",
    rf"\b(?:connect|transfer|put|pass|hand)\b.{{0,15}}"
    rf"\b(?:to|through to|with|over to)\s+{_EN_WHO}\b",
    r"\b(?:want|need|get|give|call|bring)\b.{0,12}\b(?:human|live agent|real person|"
    r"live person|operator|representative)\b",
    r"^\s*(?:a |an )?(?:human|agent|operator|representative|person|customer service)"
    r"(?: please| pls| now)?[\s.!?]*$",
    r"\b(?:human|agent|operator|representative|person)\s+(?:please|pls)\b",
    r"\bstop\b.{0,15}\bbot\b.{0,20}\b(?:human|person|agent)\b",
    r"\bescalate\b",
    # Spanish
    rf"\b(?:hablar|comunicarme|comunicar|contactar|chatear|conversar)\b.{{0,15}}\b(?:con\s+)?{_ES_WHO}\b",
    rf"\b(?:quiero|necesito|pasame|paseme|comuniqueme|comunicame|ponme|pongame)\b.{{0,20}}{_ES_WHO}\b",
    r"\b(?:persona|agente|humano|operador) (?:real|de verdad|por favor)\b",
    # French
    rf"\b(?:parler|discuter|contacter|joindre)\b.{{0,15}}\b(?:a|avec)?\s*{_FR_WHO}",
    rf"\b(?:je veux|je voudrais|j'aimerais|passez-moi|passe-moi|mettez-moi)\b.{{0,25}}{_FR_WHO}\b",
    r"\b(?:un humain|une vraie personne|un vrai humain|un conseiller) (?:svp|s'il vous plait)\b",
    # German
    rf"\b(?:sprechen|reden|chatten|verbinden|verbinde|verbunden)\b.{{0,30}}{_DE_WHO}\b",
    rf"\b{_DE_WHO}\b.{{0,30}}\b(?:sprechen|reden|chatten|verbinden|verbunden)\b",
    r"\b(?:echten|echter|richtigen) (?:mensch|menschen|mitarbeiter|person)\b",
    r"\b(?:ich (?:will|mochte|moechte)|bitte)\b.{0,20}\b(?:menschen|mitarbeiter|berater)\b",
    r"^\s*(?:einen? |den |die )?(?:menschen?|mitarbeiter(?:in)?|berater(?:in)?|kundenservice|"
    r"kundendienst)(?: bitte| sofort| jetzt)+[\s.!?]*$",
    # Portuguese
    rf"\b(?:falar|conversar|contatar|contactar)\b.{{0,15}}\b(?:com\s+)?{_PT_WHO}\b",
    rf"\b(?:quero|preciso|gostaria de|me passa|me transfira|transfere)\b.{{0,25}}{_PT_WHO}\b",
    r"\batendimento humano\b",
    # Czech (diacritics stripped before matching)
    rf"\b(?:mluvit|hovorit|promluvit|spojit|spojte|prepojte|prepojit|chci)\b.{{0,25}}{_CS_WHO}\b",
    r"\b(?:zivy|skutecny|opravdovy) (?:clovek|operator)\b",
    # Chinese, simplified and traditional ("人工" alone is a person, not 人工智能/人工智慧 AI,
    # man-made leather or turf, or labour costs)
    r"人工(?!智能|智慧|降雨|湖|合成|皮革|草|呼吸|授精|费|費|成本)|真人|客服人[员員]|"
    r"[转轉]接客服|找客服|[联聯][系繫络絡]客服|[和跟]人(?:[说說]话|[说說]話|聊|[沟溝][通])|"
    r"接[线線][员員]|活人",
    # Persian
    r"(?:با|به)\s*(?:یک\s*)?(?:انسان|آدم|شخص|نفر|اپراتور|کارشناس|پشتیبان|پشتیبانی|نماینده|اپراتور)"
    r".{0,20}(?:صحبت|حرف|گفتگو|تماس|وصل|ارتباط)",
    r"(?:اپراتور|کارشناس|پشتیبان|آدم واقعی|انسان واقعی)\s*(?:می\s*خواهم|میخوام|لطفا)",
    r"(?:می\s*خواهم|میخوام|می خوام).{0,30}(?:انسان|آدم|اپراتور|کارشناس|نماینده)",
)
_REGEX = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.IGNORECASE)

_LATIN_MARK_FIRST, _LATIN_MARK_LAST = 0x0300, 0x036F  # Unicode "Combining Diacritical Marks"
# "Am I talking to a real person?" asks what the bot is, not for a handover.
_ASKS_WHAT_BOT_IS = re.compile(
    r"^\W*(?:so |but |and )?"
    r"(?:am i|are you|is this|is that|is it|how do i know|could you be|can you be)\b"
    r"|\b(?:a bot|an ai|a robot|a computer|automated|artificial)\b"
)
_PERSIAN_FOLD = str.maketrans({"ي": "ی", "ك": "ک", "\u200c": " ", "أ": "ا", "إ": "ا"})


def normalize(text: str) -> str:
    """Lower-case, fold Arabic letter forms, strip Latin diacritics (visitors often omit them)."""
    text = text.translate(_PERSIAN_FOLD).casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    # Only Latin combining accents go; Arabic-script marks (the madda of "آ") must stay.
    stripped = "".join(
        ch for ch in decomposed if not _LATIN_MARK_FIRST <= ord(ch) <= _LATIN_MARK_LAST
    )
    return unicodedata.normalize("NFC", stripped)


def is_human_request(text: str) -> bool:
    """True when the visitor explicitly asks for a person (en, es, fr, de, pt, zh-Hans, zh-Hant,
    cs, fa: every language the widget speaks)."""
    folded = normalize(text)
    if _ASKS_WHAT_BOT_IS.search(folded) and not _REGEX.search(folded.split("?")[-1] or "-"):
        return False
    return _REGEX.search(folded) is not None
