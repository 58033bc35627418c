"""What the bot failed to answer, and those questions grouped by meaning (issue 15's inbox).

Public API (pure bot/: no database, no HTTP):

- `miss_reason(decision)`: the one rule for "the bot did not answer this" on a visitor's
  message: the reason of an escalation for low confidence, an unreadable language, a rejected
  "did you mean" ("none of these") or repeated misses, else None (answered, asked back, or the
  visitor asked for a person before the bot could try). The inbox and `chatdesk eval
  --learn-from` (bot/loop.py) both decide with it.
- `await group_misses(brain=, texts=)`: the missed questions grouped by the bot's own
  embeddings (scikit-learn agglomerative clustering, average linkage on cosine distance), as
  `MissGroup`s: biggest group first (ties: the group whose first question came first), each
  group's members most central first, and the up to 3 existing entries nearest to the group
  with their scores (mean over the members of the cosine to the entry's nearest phrasing).
  Deterministic; encoding and clustering run in worker threads, off the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import AgglomerativeClustering

from bot.brain import Brain
from bot.decision import Action, Decision, Reason

# Two groups merge while the average cosine distance between their questions stays below
# this (cosine similarity above 0.4). Set on CLINC150 traffic's 447 misses of the gaps KB with
# MiniLM: 0.6 puts 343 of them in the 100 biggest groups at 0.89 label purity; 0.5 only 284
# (0.95 pure), 0.7 glues sibling topics (0.77 pure).
GROUP_DISTANCE = 0.6
NEAREST_ENTRIES = 3  # suggestions per group: the admin picks one of a few, not a list
# Past this many misses a group is found among the most recent ones only: average linkage
# keeps every pairwise distance (n^2/2 doubles: 10,000 misses need 400 MB and a minute).
MAX_CLUSTERED = 5000

_MISSES = {Reason.LOW_CONFIDENCE, Reason.LANGUAGE, Reason.NONE_OF_THESE, Reason.REPEATED_MISSES}


@dataclass(frozen=True)
class MissGroup:
    """Similar missed questions: indexes into `texts`, and the nearest existing entries."""

    members: tuple[int, ...]  # indexes into `texts`, most central first
    nearest: tuple[tuple[str, float], ...]  # (entry id, score), best first, up to 3


def miss_reason(decision: Decision) -> str | None:
    """Why this decision is a miss the inbox collects (an escalation reason), or None."""
    if decision.action is Action.ESCALATE and decision.reason in _MISSES:
        return str(decision.reason)
    return None


async def group_misses(*, brain: Brain, texts: Sequence[str]) -> list[MissGroup]:
    """Group missed questions by meaning, biggest group first (see the module docstring)."""
    if not texts:
        return []
    # The most recent ones when there are too many: an inbox shows what is missed now.
    offset = max(0, len(texts) - MAX_CLUSTERED)
    vectors, similarity = await brain.embed(list(texts[offset:]))
    ids = [entry.id for entry in brain.entries]
    labels = await asyncio.to_thread(_cluster, vectors)
    return _groups(labels, vectors, similarity, ids, offset)


def _cluster(vectors: np.ndarray) -> np.ndarray:
    """A cluster label per row (blocking)."""
    if len(vectors) < 2:
        return np.zeros(len(vectors), dtype=np.int64)
    model = AgglomerativeClustering(
        n_clusters=None,
        metric="cosine",
        linkage="average",
        distance_threshold=GROUP_DISTANCE,
    )
    return np.asarray(model.fit_predict(vectors), dtype=np.int64)


def _groups(
    labels: np.ndarray, vectors: np.ndarray, similarity: np.ndarray, ids: list[str], offset: int
) -> list[MissGroup]:
    groups: list[MissGroup] = []
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        centre = vectors[rows].mean(axis=0)
        # Most central first; a stable sort keeps the earlier question first on a tie.
        closeness = vectors[rows] @ centre
        rows = rows[np.argsort(-closeness, kind="stable")]
        nearest: tuple[tuple[str, float], ...] = ()
        if similarity.shape[1]:
            mean = similarity[rows].mean(axis=0)
            best = np.argsort(-mean, kind="stable")[:NEAREST_ENTRIES]
            nearest = tuple((ids[i], round(float(mean[i]), 4)) for i in best)
        groups.append(MissGroup(tuple(int(r) + offset for r in rows), nearest))
    groups.sort(key=lambda g: (-len(g.members), min(g.members)))
    return groups
