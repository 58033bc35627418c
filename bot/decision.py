"""What the bot decided for one visitor message."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Action(StrEnum):
    """The three things the bot can do with a message."""

    ANSWER = "answer"
    CLARIFY = "clarify"
    ESCALATE = "escalate"


class Reason(StrEnum):
    """Why a conversation was escalated to a person."""

    LOW_CONFIDENCE = "low_confidence"
    ASKED_FOR_HUMAN = "asked_for_human"
    REPEATED_MISSES = "repeated_misses"
    NONE_OF_THESE = "none_of_these"
    LANGUAGE = "language"  # written in a language neither the model nor the KB covers


@dataclass(frozen=True)
class Candidate:
    """One knowledge-base entry the bot considered, with its confidence score."""

    entry_id: str
    score: float


@dataclass(frozen=True)
class Decision:
    """The bot's decision; `candidates` always lists what it tried, best first."""

    action: Action
    entry_id: str | None
    score: float
    candidates: tuple[Candidate, ...]
    reason: Reason | None
    language: str | None = None  # ISO 639-1 code of the visitor's language, when detected
