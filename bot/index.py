"""The searchable index of one knowledge base: phrasing embeddings, scoring and the policy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from bot.decision import Action, Candidate, Decision, Reason
from bot.encoder import encode
from bot.human import is_human_request
from bot.kb import Entry

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

TOP_CANDIDATES = 5  # what an agent sees of "what the bot tried"
MAX_CLARIFY = 3  # more buttons than this reads as a menu, not a question
REPEATED_MISSES_LIMIT = 2  # the issue: escalate after two misses in a row


@dataclass(frozen=True)
class Thresholds:
    """Decision thresholds on the confidence score; calibrated per knowledge base."""

    answer: float  # answer when the top score reaches this
    clarify: float  # below `answer`, offer choices when the top score still reaches this
    margin: float  # runner-ups within this of the top are "close" and make the bot ask

    def as_dict(self) -> dict[str, float]:
        """Plain dict for status pages and settings overrides."""
        return {"answer": self.answer, "clarify": self.clarify, "margin": self.margin}

    def override(self, values: dict[str, float] | None) -> Thresholds:
        """Copy with the given keys replaced (settings win over calibration)."""
        merged = self.as_dict() | {k: float(v) for k, v in (values or {}).items() if v is not None}
        unknown = set(merged) - {"answer", "clarify", "margin"}
        if unknown:
            raise ValueError(f"unknown threshold(s): {', '.join(sorted(unknown))}")
        return Thresholds(**merged)


@dataclass
class Index:
    """Embeddings of every phrasing, grouped by entry, with the model that made them."""

    model: SentenceTransformer
    entries: list[Entry]
    vectors: np.ndarray  # (phrasings, dim), unit length, grouped by entry in entry order
    starts: np.ndarray  # first row of each entry in `vectors`, for np.maximum.reduceat
    thresholds: Thresholds
    calibration: dict[str, float] = field(default_factory=dict)
    by_id: dict[str, Entry] = field(init=False)

    def __post_init__(self) -> None:
        self.by_id = {entry.id: entry for entry in self.entries}

    def entry_scores(self, queries: np.ndarray) -> np.ndarray:
        """(queries, entries) best cosine similarity of each query to each entry's phrasings."""
        if not self.entries:
            return np.zeros((len(queries), 0), dtype=np.float32)
        sims = queries @ self.vectors.T
        return np.maximum.reduceat(sims, self.starts, axis=1)

    def decide_many(self, texts: Sequence[str], misses: Sequence[int]) -> list[Decision]:
        """Decide every text (blocking: encodes with the model)."""
        scores = self.entry_scores(encode(self.model, list(texts)))
        return [self._decide(t, m, row) for t, m, row in zip(texts, misses, scores, strict=True)]

    def _decide(self, text: str, misses: int, scores: np.ndarray) -> Decision:
        order = np.argsort(-scores)[:TOP_CANDIDATES]
        candidates = tuple(
            Candidate(entry_id=self.entries[i].id, score=round(float(scores[i]), 4)) for i in order
        )
        top = candidates[0].score if candidates else 0.0
        if is_human_request(text):
            return Decision(Action.ESCALATE, None, top, candidates, Reason.ASKED_FOR_HUMAN)
        if misses >= REPEATED_MISSES_LIMIT:
            return Decision(Action.ESCALATE, None, top, candidates, Reason.REPEATED_MISSES)
        t = self.thresholds
        if not candidates or top < t.clarify:
            return Decision(Action.ESCALATE, None, top, candidates, Reason.LOW_CONFIDENCE)
        close = [c for c in candidates[:MAX_CLARIFY] if top - c.score <= t.margin]
        if top >= t.answer and len(close) == 1:
            return Decision(Action.ANSWER, candidates[0].entry_id, top, candidates, None)
        if len(close) >= 2:
            return Decision(
                Action.CLARIFY, None, top, tuple(close) + candidates[len(close) :], None
            )
        return Decision(Action.ESCALATE, None, top, candidates, Reason.LOW_CONFIDENCE)


def group_phrasings(entries: Sequence[Entry]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """All phrasings in entry order, the entry index of each, and each entry's first row."""
    texts: list[str] = []
    owners: list[int] = []
    starts: list[int] = []
    for number, entry in enumerate(entries):
        starts.append(len(texts))
        phrasings = entry.phrasings()
        texts.extend(phrasings)
        owners.extend([number] * len(phrasings))
    return texts, np.asarray(owners, dtype=np.int64), np.asarray(starts, dtype=np.int64)
