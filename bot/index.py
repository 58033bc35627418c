"""The searchable index of one knowledge base: phrasing embeddings, scoring and the policy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from bot.decision import Action, Candidate, Decision, Reason
from bot.encoding import Encoder, encode
from bot.head import Head
from bot.human import is_human_request
from bot.kb import Entry
from bot.language import Detected, detect_many, understood

TOP_CANDIDATES = 5  # what an agent sees of "what the bot tried"
MAX_CLARIFY = 3  # more buttons than this reads as a menu, not a question
REPEATED_MISSES_LIMIT = 2  # the issue: escalate after two misses in a row
# A runner-up is worth offering in "did you mean" when its probability is at least this
# share of the top one; below that it is noise that makes the question longer.
CLARIFY_SHARE = 0.15
NEVER = 2.0  # above any confidence: probabilities and cosines are at most 1
# Cosine-to-logit scale of the neighbour softmax: the fine-tune's contrastive scale
# (finetune.SCALE), under which the encoder learnt to tell entries apart.
NEIGHBOUR_SCALE = 20.0


@dataclass(frozen=True)
class Thresholds:
    """Decision thresholds on the confidence score; calibrated per knowledge base."""

    answer: float  # answer when confidence reaches this and the scorers agree
    clarify: float  # below this the bot escalates; between the two it asks
    margin: float  # nearest-neighbour mode: a runner-up this close means "not sure which"
    sure: float = NEVER  # answer even when the scorers disagree (head mode)

    def as_dict(self) -> dict[str, float]:
        """Plain dict for status pages and settings overrides."""
        return {
            "answer": self.answer,
            "clarify": self.clarify,
            "margin": self.margin,
            "sure": self.sure,
        }

    def answers(self, confidence: np.ndarray, agree: np.ndarray) -> np.ndarray:
        """Which queries get a direct answer."""
        return (confidence >= self.answer) & (agree | (confidence >= self.sure))

    def override(self, values: dict[str, float] | None) -> Thresholds:
        """Copy with the given keys replaced (settings win over calibration)."""
        given = {k: float(v) for k, v in (values or {}).items() if v is not None}
        unknown = set(given) - {"answer", "clarify", "margin", "sure"}
        if unknown:
            raise ValueError(f"unknown threshold(s): {', '.join(sorted(unknown))}")
        return Thresholds(**(self.as_dict() | given))


@dataclass(frozen=True)
class Scores:
    """Per-query signals the policy needs, for a batch of queries."""

    ranking: np.ndarray  # (queries, entries): head probabilities, or cosine without a head
    confidence: np.ndarray  # (queries,) top ranking score
    agree: np.ndarray  # (queries,) bool: the independent signals point at the same entry
    nearest: np.ndarray  # (queries,) entry index of the nearest phrasing


def score_queries(
    queries: np.ndarray, vectors: np.ndarray, starts: np.ndarray, head: Head | None, margin: float
) -> Scores:
    """Score unit-length query embeddings against an index's phrasings (and head)."""
    sims = queries @ vectors.T
    knn = np.maximum.reduceat(sims, starts, axis=1) if len(starts) else sims[:, :0]
    nearest = knn.argmax(axis=1) if knn.shape[1] else np.zeros(len(queries), dtype=np.int64)
    if head is not None:
        probs = head.probabilities(queries)
        predicted = probs.argmax(axis=1)
        rows = np.arange(len(queries))
        # Three signals must agree that the head's entry is the answer: the head's probability
        # (a trained classifier: which entry), the entry's share of a softmax over each entry's
        # nearest-phrasing cosine (do the neighbours point there too), and that cosine itself
        # (is the question near the KB at all: out-of-scope questions are far from everything),
        # squared because it varies over a narrow range. On CLINC150 dev this product kept
        # more questions answered correctly at 4% wrong than the geometric mean of head and
        # cosine (10-shot 0.83 against 0.80; 100-shot 0.93 at 1% wrong and 0.92 OOS recall).
        shares = np.exp((knn - knn.max(axis=1, keepdims=True)) * NEIGHBOUR_SCALE)
        shares /= shares.sum(axis=1, keepdims=True)
        closeness = np.clip(knn[rows, predicted], 0.0, 1.0)
        confidence = probs.max(axis=1) * shares[rows, predicted] * closeness**2
        return Scores(probs, confidence, predicted == nearest, nearest)
    if knn.shape[1] < 2:
        top = knn.max(axis=1) if knn.shape[1] else np.zeros(len(queries), dtype=np.float32)
        return Scores(knn, top, np.ones(len(queries), dtype=bool), nearest)
    best_two = -np.partition(-knn, 1, axis=1)[:, :2]
    agree = best_two[:, 0] - best_two[:, 1] > margin
    return Scores(knn, best_two[:, 0], agree, nearest)


@dataclass
class Index:
    """Everything one decision needs: model, phrasing embeddings, head and thresholds."""

    model: Encoder
    entries: list[Entry]
    vectors: np.ndarray  # (phrasings, dim), unit length, grouped by entry in entry order
    starts: np.ndarray  # first row of each entry in `vectors`, for np.maximum.reduceat
    thresholds: Thresholds
    head: Head | None = None
    stage: str = "nearest-neighbour"
    languages: frozenset[str] | None = None  # what the model understands; None: all
    kb_languages: frozenset[str] = frozenset()  # what the KB has phrasings in (if asked)
    calibration: dict[str, float] = field(default_factory=dict)
    # Thresholds calibrated on one translation language's phrasings, by ISO 639-1 code: a
    # question detected in it is decided with them (an English model reads Czech badly).
    language_thresholds: dict[str, Thresholds] = field(default_factory=dict)
    # The admin's out-of-scope examples (unit length): a question nearer to one of them than
    # to any phrasing of the KB is one the admin said the bot must not answer.
    oos_vectors: np.ndarray | None = None
    by_id: dict[str, Entry] = field(init=False)
    translated: bool = field(init=False)  # some entry has a translation (issue 17)

    def __post_init__(self) -> None:
        self.by_id = {entry.id: entry for entry in self.entries}
        self.translated = any(entry.translations for entry in self.entries)

    def thresholds_for(self, language: str | None) -> Thresholds:
        """The thresholds a question in `language` (as detected; None: unknown) is decided with."""
        return self.language_thresholds.get(language or "", self.thresholds)

    def decide_many(self, texts: Sequence[str]) -> list[Decision]:
        """Decide every text as if the bot had missed nothing yet (`after_misses` applies the
        conversation's misses); blocking: detects the language, encodes with the model."""
        detected = detect_many(texts)
        queries = encode(self.model, list(texts))
        scores = score_queries(
            queries, self.vectors, self.starts, self.head, self.thresholds.margin
        )
        if self.oos_vectors is not None and len(self.oos_vectors) and len(self.vectors):
            declined = (queries @ self.oos_vectors.T).max(axis=1) > (
                queries @ self.vectors.T
            ).max(axis=1)
            scores.confidence[declined] = 0.0  # below any clarify threshold: handed over
        return [
            replace(self._decide(text, scores, row, found), language=found.language)
            for row, (text, found) in enumerate(zip(texts, detected, strict=True))
        ]

    def _decide(self, text: str, scores: Scores, row: int, detected: Detected) -> Decision:
        ranking = scores.ranking[row]
        order = top_indices(ranking, TOP_CANDIDATES)
        candidates = tuple(
            Candidate(self.entries[i].id, round(float(ranking[i]), 4)) for i in order
        )
        confidence = round(float(scores.confidence[row]), 4) if candidates else 0.0
        if is_human_request(text):
            return Decision(Action.ESCALATE, None, confidence, candidates, Reason.ASKED_FOR_HUMAN)
        if not understood(detected, self.languages, self.kb_languages):
            # Any match would be a guess: the model reads the words as noise.
            return Decision(Action.ESCALATE, None, confidence, candidates, Reason.LANGUAGE)
        t = self.thresholds_for(detected.language)
        if not candidates or confidence < t.clarify:
            return Decision(Action.ESCALATE, None, confidence, candidates, Reason.LOW_CONFIDENCE)
        if t.answers(scores.confidence[row : row + 1], scores.agree[row : row + 1])[0]:
            return Decision(Action.ANSWER, candidates[0].entry_id, confidence, candidates, None)
        offered = clarify_choices(ranking, order, int(scores.nearest[row]))
        if len(offered) < 2:
            return Decision(Action.ESCALATE, None, confidence, candidates, Reason.LOW_CONFIDENCE)
        first = tuple(Candidate(self.entries[i].id, round(float(ranking[i]), 4)) for i in offered)
        rest = tuple(c for c in candidates if c not in first)
        return Decision(Action.CLARIFY, None, confidence, first + rest, None)


def after_misses(decision: Decision, misses: int) -> Decision:
    """`decision` in a conversation where the bot has missed `misses` times in a row: after
    two, a question the bot could read is handed over (a request for a person, or words in a
    language nobody covers, keep their own reason). Apart from the batch, so a question can be
    decided while it is being stored, before its conversation's count is known."""
    if misses < REPEATED_MISSES_LIMIT or decision.reason in (
        Reason.ASKED_FOR_HUMAN, Reason.LANGUAGE
    ):
        return decision
    return replace(
        decision, action=Action.ESCALATE, entry_id=None, reason=Reason.REPEATED_MISSES
    )


def top_indices(values: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest values, largest first (partition first: cheaper than a sort)."""
    if len(values) <= k:
        return np.argsort(-values)
    part = np.argpartition(-values, k)[:k]
    return part[np.argsort(-values[part])]


def clarify_choices(ranking: np.ndarray, order: np.ndarray, nearest: int) -> list[int]:
    """Entry indices to offer in "did you mean": the top, the nearest phrasing, close runners."""
    top = float(ranking[order[0]])
    chosen = [int(order[0])]
    if nearest not in chosen:
        chosen.append(nearest)
    for i in order[1:]:
        if len(chosen) >= MAX_CLARIFY:
            break
        if int(i) not in chosen and float(ranking[i]) >= CLARIFY_SHARE * top:
            chosen.append(int(i))
    if len(chosen) < 2 and len(order) > 1:
        chosen.append(int(order[1]))  # a question needs two choices; the runner-up is next best
    return chosen[:MAX_CLARIFY]


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
