"""Markdown FAQ files: `## question`, the answer, "Also asked:" variants; `### cs: question`
sections for translations (bot/kbfile.py's docstring shows the convention)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO

from bot.kb import Entry
from bot.kbrecord import CSV_VARIANT_SEPARATOR, Parsed, add_entry, make_entry, make_translation

_MD_QUESTION = re.compile(r"^##(?!#)\s*(.*?)\s*#*\s*$")
_MD_ALSO_ASKED = re.compile(r"^\s*(?:\*\*|__)?also asked:?(?:\*\*|__)?:?\s*(.*)$", re.IGNORECASE)
_MD_LIST_ITEM = re.compile(r"^\s*[-*+]\s+(.*\S)\s*$")
_MD_ID = re.compile(r"^\s*<!--\s*id:\s*(\S+)\s*-->\s*$")  # dump_markdown keeps ids this way
_MD_TEAM = re.compile(r"^\s*<!--\s*team:\s*(.*?)\s*-->\s*$")  # the entry's team (issue 16)
# "### cs: Jak sledovat objednávku?": a translation of the entry above (lower-case tag, so an
# answer's own "### Tip: ..." heading is still answer text).
_MD_TRANSLATION = re.compile(
    r"^###(?!#)\s*([a-z]{2,3}(?:[-_][A-Za-z0-9]{2,4}){0,2})\s*:\s*(.*?)\s*#*\s*$"
)


def dump_markdown(entries: Iterable[Entry], handle: IO[str]) -> None:
    """Write entries as a Markdown FAQ: `## question`, its id as a comment, answer, also asked."""
    handle.write("# FAQ\n")
    for e in entries:
        team = f"<!-- team: {e.team} -->\n" if e.team else ""
        handle.write(f"\n## {e.question}\n<!-- id: {e.id} -->\n{team}{_md_answer(e.answer)}\n")
        if e.variants:
            handle.write("\nAlso asked:\n" + "".join(f"- {v}\n" for v in e.variants))
        for t in e.translations:
            handle.write(f"\n### {t.lang}: {t.question}\n{_md_answer(t.answer)}\n")
            if t.variants:
                handle.write("\nAlso asked:\n" + "".join(f"- {v}\n" for v in t.variants))


def _md_answer(answer: str) -> str:
    """An answer line that reads as a heading would start a new entry: indent it by a space."""
    lines = answer.splitlines()
    return "\n".join(" " + x if _MD_QUESTION.match(x) or _MD_TRANSLATION.match(x) else x
                     for x in lines)


@dataclass
class _Section:
    """A Markdown entry's question (or a translation's) and what follows it."""

    line: int
    question: str
    lang: str = ""  # a translation's tag, "" for the entry itself
    answer: list[str] = field(default_factory=list)
    variants: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.answer).strip()


def read_markdown(text: str) -> Parsed:
    parsed = Parsed()
    sections: list[_Section] = []  # the entry's own, then one per translation
    entry_id: str | None = None
    team: str | None = None
    in_also_asked = False

    def flush() -> None:
        if not sections:
            return
        main, *more = sections
        for s in more:
            translation = make_translation(s.lang, s.question, s.text, s.variants)
            if isinstance(translation, str):
                parsed.add(s.line, translation)
                return
        given = entry_id or f"faq-{len(parsed.entries) + 1:03d}"
        translations = [make_translation(s.lang, s.question, s.text, s.variants) for s in more]
        add_entry(parsed, main.line, make_entry(given, main.question, main.text, main.variants,
                                       translations, team))

    for number, raw in enumerate(text.splitlines(), start=1):
        heading = _MD_QUESTION.match(raw)
        if heading:
            flush()
            sections, entry_id, team, in_also_asked = [], None, None, False
            if not heading.group(1):
                parsed.add(number, "'##' heading without a question")
                continue
            sections = [_Section(number, heading.group(1))]
            continue
        if not sections:
            if raw.strip() and not raw.lstrip().startswith("#"):
                parsed.add(number, "text before the first '## question' heading")
            continue
        translated = _MD_TRANSLATION.match(raw)
        if translated:
            sections.append(_Section(number, translated.group(2), translated.group(1)))
            in_also_asked = False
            continue
        current = sections[-1]
        given = _MD_ID.match(raw)
        if given and entry_id is None and len(sections) == 1 and not current.answer:
            entry_id = given.group(1)
            continue
        named = _MD_TEAM.match(raw)
        if named and team is None and len(sections) == 1 and not current.answer:
            team = named.group(1)
            continue
        also = _MD_ALSO_ASKED.match(raw)
        if also:
            in_also_asked = True
            inline = also.group(1).strip()
            if inline:
                current.variants.extend(p.strip() for p in inline.split(CSV_VARIANT_SEPARATOR))
            continue
        item = _MD_LIST_ITEM.match(raw)
        if in_also_asked and item:
            current.variants.append(item.group(1))
            continue
        if in_also_asked and not raw.strip():
            continue
        in_also_asked = False
        current.answer.append(raw)
    flush()
    return parsed


