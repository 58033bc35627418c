"""Derive decision thresholds from the knowledge base itself."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bot.index import Thresholds

CHUNK = 2048  # rows per similarity block: bounds memory at CHUNK x phrasings floats
# Relative costs of outcomes when choosing the answer threshold: a wrong answer is worse
# than a handover (issue 3), and answering an out-of-scope question is a wrong answer.
WRONG_COST = 4.0
OOS_ANSWER_COST = 4.0
DEFAULT_MARGIN = 0.02  # scores closer than this are a coin toss on held-out phrasings
FALLBACK = Thresholds(answer=0.6, clarify=0.5, margin=DEFAULT_MARGIN)  # too few phrasings


@dataclass(frozen=True)
class HeldOut:
    """Scores of phrasings scored as if unseen: in-scope (top, correct) and pseudo out-of-scope."""

    top: np.ndarray
    correct: np.ndarray
    oos: np.ndarray


def leave_one_out(vectors: np.ndarray, owners: np.ndarray, starts: np.ndarray) -> HeldOut:
    """Score each phrasing against all others; its best other-entry score stands in for OOS."""
    tops, correct, oos = [], [], []
    n_entries = len(starts)
    for begin in range(0, len(vectors), CHUNK):
        block = vectors[begin : begin + CHUNK] @ vectors.T
        rows = np.arange(begin, begin + len(block))
        block[rows - begin, rows] = -np.inf
        per_entry = np.maximum.reduceat(block, starts, axis=1)
        own = per_entry[np.arange(len(block)), owners[rows]]
        per_entry[np.arange(len(block)), owners[rows]] = -np.inf
        other = per_entry.max(axis=1) if n_entries > 1 else np.full(len(block), -1.0)
        has_sibling = np.isfinite(own)
        tops.append(np.maximum(own, other)[has_sibling])
        correct.append((own >= other)[has_sibling])
        oos.append(other)
    return HeldOut(np.concatenate(tops), np.concatenate(correct), np.concatenate(oos))


def choose_answer_threshold(held: HeldOut, extra_oos: np.ndarray | None = None) -> float:
    """Threshold maximising right answers minus weighted wrong and out-of-scope answers."""
    oos = (
        held.oos
        if extra_oos is None or not len(extra_oos)
        else np.concatenate([held.oos, extra_oos])
    )
    grid = np.unique(np.round(np.concatenate([held.top, oos]), 3))
    best, best_value = float(grid[-1]) if len(grid) else FALLBACK.answer, -np.inf
    for tau in grid:
        answered = held.top >= tau
        right = np.mean(answered & held.correct)
        wrong = np.mean(answered & ~held.correct)
        oos_answered = np.mean(oos >= tau) if len(oos) else 0.0
        value = right - WRONG_COST * wrong - OOS_ANSWER_COST * oos_answered
        if value > best_value:
            best, best_value = float(tau), value
    return best


def calibrate(
    vectors: np.ndarray, owners: np.ndarray, starts: np.ndarray, oos_vectors: np.ndarray | None
) -> tuple[Thresholds, dict[str, float]]:
    """Thresholds and a summary of the held-out statistics they came from."""
    held = leave_one_out(vectors, owners, starts)
    if len(held.top) < 2:
        return FALLBACK, {"held_out": float(len(held.top))}
    extra = None
    if oos_vectors is not None and len(oos_vectors):
        extra = (oos_vectors @ vectors.T).max(axis=1)
    answer = choose_answer_threshold(held, extra)
    thresholds = Thresholds(answer=answer, clarify=answer - 0.05, margin=DEFAULT_MARGIN)
    summary = {
        "held_out": float(len(held.top)),
        "held_out_top1": float(held.correct.mean()),
        "held_out_answered": float(np.mean(held.top >= answer)),
        "pseudo_oos_answered": float(np.mean(held.oos >= answer)),
    }
    return thresholds, summary
