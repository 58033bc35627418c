"""Knowledge-base entries as the bot sees them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    """One FAQ entry: a question, its other phrasings and the answer sent to the visitor."""

    id: str
    question: str
    answer: str
    variants: tuple[str, ...] = ()

    def phrasings(self) -> tuple[str, ...]:
        """The question followed by its variants, blanks and duplicates removed."""
        kept: list[str] = []
        seen: set[str] = set()
        for text in (self.question, *self.variants):
            cleaned = text.strip()
            if cleaned and cleaned.casefold() not in seen:
                seen.add(cleaned.casefold())
                kept.append(cleaned)
        return tuple(kept)
