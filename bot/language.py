"""Which language a visitor writes in, and whether the bot's model can understand it.

Detection is lingua's (`lingua-language-detector`: n-gram models that work on short text, in
Rust), over the widget's languages. Measured on 3,550 English questions (CLINC150 dev and
out-of-scope, the demo FAQ) and the 105 non-English ones of tests/data/multilingual_shop.jsonl
(docs/bot.md), with "the model's languages together have less than COVERED_MIN confidence" as
the rule: high-accuracy mode (the default; about 270 MB) flagged 2 English questions and
caught all 105; low-accuracy mode (CHATDESK_LANGUAGE_ACCURACY=low, about 20 MB) caught all 105
at 0.02 but flagged 23 English ones, which the bot could have answered, as foreign.

The policy (bot/index.py): a question in no language the model covers (MiniLM: English) and
none the knowledge base has phrasings in is handed over with reason `language`, never matched.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.kb import normalize_tag, primary, script_of

if TYPE_CHECKING:
    from lingua import LanguageDetector

# The widget's languages (ISO 639-1; zh is both scripts): what a visitor may write in.
SUPPORTED = ("en", "de", "es", "fr", "pt", "zh", "cs", "fa")
# What each model understands; None: every language above (multilingual-e5-small is trained
# on about 100). A model not listed (a local path) is taken to cover them all: no policy.
MODEL_LANGUAGES: dict[str, frozenset[str] | None] = {
    "all-MiniLM-L6-v2": frozenset({"en"}),
    "sentence-transformers/all-MiniLM-L6-v2": frozenset({"en"}),
    "multilingual-e5-small": None,
    "intfloat/multilingual-e5-small": None,
}
ACCURACY_ENV = "CHATDESK_LANGUAGE_ACCURACY"  # "high" (default) or "low": less memory
# Below this summed confidence in the understood languages a text is not understood, per mode.
COVERED_MIN = {"high": 0.1, "low": 0.02}
RECORD_MIN = 0.5  # the top language is recorded when at least this confident
# A knowledge base "has phrasings in" a language from this many phrasings detected in it at
# KB_PHRASING_MIN confidence: one odd English phrasing ("idk") must not open the door.
KB_PHRASING_MIN = 0.9
KB_MIN_PHRASINGS = 2


@dataclass(frozen=True)
class Detected:
    """One text's language: the confident top one (or None), and every confidence."""

    language: str | None
    confidences: dict[str, float]

    def share(self, languages: Iterable[str]) -> float:
        """Summed confidence that the text is in one of `languages`."""
        return sum(self.confidences.get(code, 0.0) for code in languages)


def model_languages(model: str) -> frozenset[str] | None:
    """The languages a model understands (None: all of SUPPORTED)."""
    return MODEL_LANGUAGES.get(model)


_detector: LanguageDetector | None = None
_lock = threading.Lock()


def accuracy() -> str:
    """The detector's mode: `$CHATDESK_LANGUAGE_ACCURACY`, "high" unless it says "low"."""
    return "low" if os.environ.get(ACCURACY_ENV, "").strip().lower() == "low" else "high"


def detector() -> LanguageDetector:
    """The process's detector, built on first use (blocking: high accuracy about 3 s)."""
    global _detector
    with _lock:
        if _detector is None:
            from lingua import IsoCode639_1, LanguageDetectorBuilder

            codes = [getattr(IsoCode639_1, code.upper()) for code in SUPPORTED]
            builder = LanguageDetectorBuilder.from_iso_codes_639_1(*codes)
            if accuracy() == "low":
                builder = builder.with_low_accuracy_mode()
            _detector = builder.with_preloaded_language_models().build()
        return _detector


def detect_many(texts: Sequence[str]) -> list[Detected]:
    """The language of each text (blocking; batches use every core)."""
    if not texts:
        return []
    found = detector()
    if len(texts) == 1:
        rows = [found.compute_language_confidence_values(texts[0])]
    else:
        rows = found.compute_language_confidence_values_in_parallel(list(texts))
    out = []
    for row in rows:
        confidences = {c.language.iso_code_639_1.name.lower(): float(c.value) for c in row}
        top = row[0] if row else None
        language = (
            top.language.iso_code_639_1.name.lower()
            if top is not None and top.value >= RECORD_MIN
            else None
        )
        out.append(Detected(language, confidences))
    return out


def understood(
    detected: Detected, model: frozenset[str] | None, kb: frozenset[str]
) -> bool:
    """False when the text is in none of the model's languages and none of the KB's."""
    if model is None:
        return True
    if not any(detected.confidences.values()):
        return True  # nothing to tell (digits, emoji, a script none of SUPPORTED uses)
    return detected.share(model | kb) >= COVERED_MIN[accuracy()]


def kb_languages(phrasings: Sequence[str]) -> frozenset[str]:
    """Languages the knowledge base has phrasings in (blocking)."""
    counts: dict[str, int] = {}
    for detected in detect_many(phrasings):
        if detected.language and detected.confidences[detected.language] >= KB_PHRASING_MIN:
            counts[detected.language] = counts.get(detected.language, 0) + 1
    return frozenset(code for code, n in counts.items() if n >= KB_MIN_PHRASINGS)


def tagged_languages(tags: Iterable[str]) -> frozenset[str]:
    """The widget's languages among translation tags ("zh-Hant" -> "zh"): an admin who wrote a
    translation said which language it is, whatever the detector makes of its phrasings."""
    return frozenset(primary(tag) for tag in tags) & frozenset(SUPPORTED)


def chinese_script(text: str) -> str | None:
    """"Hant" for text only traditional characters write, "Hans" for simplified, else None.

    By the national character sets: GB 2312 has the simplified forms and not the traditional
    ones (們, 運), Big5 the other way round; characters both write tell nothing.
    """
    simplified = traditional = False
    for char in text:
        if not "\u4e00" <= char <= "\u9fff":
            continue
        in_gb, in_big5 = _encodes(char, "gb2312"), _encodes(char, "big5")
        simplified |= in_gb and not in_big5
        traditional |= in_big5 and not in_gb
    if simplified == traditional:
        return None
    return "Hant" if traditional else "Hans"


def _encodes(char: str, codec: str) -> bool:
    try:
        char.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


def visitor_language(detected: str | None, text: str, locale: str | None) -> str | None:
    """The tag to answer a visitor in: the language their question is in (Chinese with its
    script), else the widget's locale; None when neither says.

    `locale` refines a detected language it agrees with ("pt" and "pt-BR" -> "pt-BR").
    """
    tag = normalize_tag(locale) if locale else None
    agrees = tag is not None and primary(tag) == detected
    if detected is None:
        return tag
    if detected == "zh":  # the script the text shows, else the locale's, else simplified
        script = chinese_script(text) or (script_of(tag) if agrees and tag else None)
        return f"zh-{script or 'Hans'}"
    return tag if agrees else detected
