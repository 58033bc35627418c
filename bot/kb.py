"""Knowledge-base entries as the bot sees them, with their translations (issue 17)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# A language tag as an admin writes it for a translation: language, optional script, optional
# region (BCP 47's common part): "cs", "zh-Hans", "zh-Hant", "pt-BR", "es-419".
_TAG = re.compile(r"^([A-Za-z]{2,3})(?:[-_]([A-Za-z]{4}))?(?:[-_]([A-Za-z]{2}|[0-9]{3}))?$")
# Chinese regions written in traditional characters: zh-TW means zh-Hant.
_HANT_REGIONS = frozenset({"TW", "HK", "MO"})


def normalize_tag(tag: str) -> str | None:
    """The tag in its usual case ("ZH_hans" -> "zh-Hans", "pt-br" -> "pt-BR"); None if not one."""
    found = _TAG.match(tag.strip())
    if found is None:
        return None
    language, script, region = found.groups()
    parts = [language.lower()]
    if script:
        parts.append(script.title())
    if region:
        parts.append(region.upper())
    return "-".join(parts)


def primary(tag: str) -> str:
    """The language of a tag without script or region: "zh-Hant" -> "zh"."""
    return tag.split("-", 1)[0].lower()


def script_of(tag: str) -> str | None:
    """The script a tag names or implies (Chinese only): "zh-TW" -> "Hant", "zh-CN" -> "Hans"."""
    parts = (normalize_tag(tag) or "").split("-")
    scripts = [p for p in parts[1:] if len(p) == 4]
    if scripts:
        return scripts[0]
    if parts[0] == "zh":
        return "Hant" if any(p in _HANT_REGIONS for p in parts[1:]) else "Hans"
    return None


def _unique(texts: Iterable[str]) -> tuple[str, ...]:
    """Texts stripped, blanks and (case-insensitive) duplicates removed, order kept."""
    kept: list[str] = []
    seen: set[str] = set()
    for text in texts:
        cleaned = text.strip()
        if cleaned and cleaned.casefold() not in seen:
            seen.add(cleaned.casefold())
            kept.append(cleaned)
    return tuple(kept)


@dataclass(frozen=True)
class Translation:
    """An entry's question, variants and answer in one more language (`lang`: a tag)."""

    lang: str
    question: str
    answer: str
    variants: tuple[str, ...] = ()


@dataclass(frozen=True)
class Entry:
    """One FAQ entry: a question, its other phrasings and the answer sent to the visitor.

    The question, variants and answer are in the knowledge base's language (a setting,
    "en" by default); `translations` carry them in other languages, one per tag.
    """

    id: str
    question: str
    answer: str
    variants: tuple[str, ...] = ()
    translations: tuple[Translation, ...] = ()
    team: str | None = None  # the team its topic goes to when handed to a person (issue 16)
    # Visitors' questions an admin added from the misses inbox (issue 15), in the KB's
    # language: answered like variants; calibration keeps them in training (bot/build.py).
    learned: tuple[str, ...] = ()

    def phrasings(self) -> tuple[str, ...]:
        """Every way of asking it, in every language: the question and variants first."""
        return tuple(text for text, _, _ in self.phrasing_slots())

    def phrasing_slots(self) -> tuple[tuple[str, int, str | None], ...]:
        """Each phrasing with its place (0: the question in every language; variants one each)
        and its translation's tag (None: the KB's own language), as `phrasings` orders them.

        Calibration keeps phrasings of one place in one fold: a translation of a held-out
        question is the same question, not a sibling that makes it look easy. Variants are
        other ways of asking, written per language, so each has a place of its own.
        """
        rows: list[tuple[str, int, str | None]] = [(self.question, 0, None)]
        rows += [(v, 1 + i, None) for i, v in enumerate(self.variants)]
        rows += [(v, len(rows) + i, None) for i, v in enumerate(self.learned)]
        place = len(rows)
        for t in self.translations:
            rows.append((t.question, 0, t.lang))
            for v in t.variants:
                rows.append((v, place, t.lang))
                place += 1
        kept: list[tuple[str, int, str | None]] = []
        seen: set[str] = set()
        for text, place, lang in rows:
            cleaned = text.strip()
            if cleaned and cleaned.casefold() not in seen:
                seen.add(cleaned.casefold())
                kept.append((cleaned, place, lang))
        return tuple(kept)

    def languages(self) -> tuple[str, ...]:
        """The tags of its translations."""
        return tuple(t.lang for t in self.translations)

    def translation(self, language: str | None) -> Translation | None:
        """The translation for a visitor's language (a tag or ISO 639-1 code), if it has one.

        The same tag wins; else one of the same language, of the script the tag implies
        ("zh" and "zh-CN" read simplified, "zh-TW" traditional) when there is one.
        """
        if not language or not self.translations:
            return None
        tag = normalize_tag(language) or language
        same = [t for t in self.translations if primary(t.lang) == primary(tag)]
        for t in same:
            if t.lang == tag:
                return t
        script = script_of(tag)
        for t in same:
            if script_of(t.lang) == script:
                return t
        return same[0] if same else None

    def question_in(self, language: str | None, kb_language: str) -> str:
        """The question as a visitor of `language` reads it (a "did you mean" button): the
        translation's when the entry has one, else the KB's own."""
        if language and not same_language(language, kb_language):
            found = self.translation(language)
            if found is not None:
                return found.question
        return self.question

    def answer_in(self, language: str | None, kb_language: str) -> tuple[str, str]:
        """The answer for a visitor's language and the tag it is in: the translation when the
        visitor's language is not the KB's own and the entry has one, else the KB's answer."""
        if language and not same_language(language, kb_language):
            found = self.translation(language)
            if found is not None:
                return found.answer, found.lang
        return self.answer, kb_language


def same_language(a: str, b: str) -> bool:
    """Whether a reader of `a` reads `b`: the same language and script ("zh-TW" is not "zh")."""
    return primary(a) == primary(b) and script_of(a) == script_of(b)
