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
        seen: dict[str, None] = {}
        for text in (self.question, *self.variants):
            cleaned = text.strip()
            if cleaned and cleaned.lower() not in {s.lower() for s in seen}:
                seen[cleaned] = None
        return tuple(seen)
