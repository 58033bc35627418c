"""The pieces every knowledge-base file reader shares: problems, what was read, and building an
entry (with its translations) or saying what is wrong with it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bot.kb import Entry, Translation, normalize_tag

CSV_VARIANT_SEPARATOR = "|"  # commas are common inside questions, pipes are not
TEAM_NAME_MAX = 100  # as a team's name may be (handoff/team_models.py)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a knowledge-base file, at its line (0: the file as a whole)."""

    line: int
    message: str


@dataclass
class Parsed:
    """A file read as far as it goes: the entries (each with its line) and every problem."""

    entries: list[Entry] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # the line each entry starts on
    problems: list[Problem] = field(default_factory=list)

    def add(self, line: int, message: str) -> None:
        self.problems.append(Problem(line, message))


def add_entry(parsed: Parsed, line: int, entry: Entry | str) -> None:
    if isinstance(entry, str):
        parsed.add(line, entry)
    else:
        parsed.entries.append(entry)
        parsed.lines.append(line)



def make_translation(
    tag: str, question: str, answer: str, variants: Iterable[str]
) -> Translation | str:
    """A translation, or what is wrong with it (a bad tag, no question, no answer)."""
    lang = normalize_tag(tag)
    if lang is None:
        return f"translation {tag!r}: not a language tag (cs, de, zh-Hans, pt-BR...)"
    if not question.strip():
        return f"translation {lang}: empty question"
    if not answer.strip():
        return f"translation {lang}: empty answer"
    cleaned = tuple(v.strip() for v in variants if v.strip())
    return Translation(lang, question.strip(), answer.strip(), cleaned)


def make_entry(
    entry_id: str,
    question: str,
    answer: str,
    variants: Iterable[str],
    translations: Sequence[Translation | str] = (),
    team: str | None = None,
) -> Entry | str:
    """An entry with its translations (sorted by tag) and team, or the first thing wrong."""
    team = " ".join((team or "").split()) or None
    if team is not None and len(team) > TEAM_NAME_MAX:
        return f"team name longer than {TEAM_NAME_MAX} characters"
    seen: set[str] = set()
    for t in translations:
        if isinstance(t, str):
            return t
        if t.lang in seen:
            return f"translation {t.lang} given twice"
        seen.add(t.lang)
    cleaned = tuple(v.strip() for v in variants if v.strip())
    return Entry(
        id=entry_id.strip(),
        question=question.strip(),
        answer=answer.strip(),
        variants=cleaned,
        translations=tuple(sorted((t for t in translations if not isinstance(t, str)),
                                  key=lambda t: t.lang)),
        team=team,
    )
