"""Short contrastive fine-tune of the encoder on the knowledge base's own phrasings."""

from __future__ import annotations

import copy
import random
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

# Multiple-negatives ranking loss over in-batch pairs: each pair's anchor must pick its own
# positive among every other entry's phrasing. SCALE 20 is the sentence-transformers default.
SCALE = 20.0
BATCH_ENTRIES = 48  # distinct entries per batch; bigger batches need more memory and time
LEARNING_RATE = 3e-5
EPOCHS = 3  # passes over every (entry, phrasing); past ~3 held-out accuracy stops improving
MAX_STEPS = 600  # bounds the CPU time on large knowledge bases (a few minutes on 2 cores)
SEED = 13


class FineTuneStopped(Exception):
    """Training was asked to stop (the knowledge base changed or the brain shut down)."""


def fine_tune(
    base: SentenceTransformer,
    groups: Sequence[Sequence[str]],
    *,
    epochs: int = EPOCHS,
    max_steps: int = MAX_STEPS,
    progress: Callable[[float], None] | None = None,
    stop: threading.Event | None = None,
) -> SentenceTransformer:
    """A copy of `base` trained so phrasings of one entry embed close together (blocking)."""
    import torch

    usable = [list(g) for g in groups if len(g) >= 2]
    model = copy.deepcopy(base)
    if len(usable) < 2:
        return model
    rng = random.Random(SEED)
    steps = _plan(usable, epochs, rng)[:max_steps]
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE)
    warmup = max(1, len(steps) // 10)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, 1 - s / len(steps))
    )
    labels_cache: dict[int, torch.Tensor] = {}
    for number, batch in enumerate(steps):
        if stop is not None and stop.is_set():
            raise FineTuneStopped
        anchors = [a for a, _ in batch]
        positives = [p for _, p in batch]
        a = _embed(model, anchors)
        p = _embed(model, positives)
        sims = a @ p.T * SCALE
        labels = labels_cache.setdefault(len(batch), torch.arange(len(batch)))
        loss = (
            torch.nn.functional.cross_entropy(sims, labels)
            + torch.nn.functional.cross_entropy(sims.T, labels)
        ) / 2
        loss.backward()
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        if progress is not None:
            progress((number + 1) / len(steps))
    model.eval()
    return model


def _plan(groups: list[list[str]], epochs: int, rng: random.Random) -> list[list[tuple[str, str]]]:
    """Batches of (anchor, positive) pairs, never two pairs of one entry in a batch."""
    batches: list[list[tuple[str, str]]] = []
    for _ in range(epochs):
        queues = [rng.sample(g, len(g)) for g in groups]
        pending = [i for i, q in enumerate(queues) for _ in range(max(1, len(q) // 2))]
        rng.shuffle(pending)
        # Deal pending pairs into batches, skipping entries already in the current batch.
        while pending:
            batch_entries: set[int] = set()
            batch: list[tuple[str, str]] = []
            rest: list[int] = []
            for i in pending:
                if i in batch_entries or len(batch) >= BATCH_ENTRIES:
                    rest.append(i)
                    continue
                batch_entries.add(i)
                group = groups[i]
                anchor, positive = rng.sample(group, 2)
                batch.append((anchor, positive))
            pending = rest
            if len(batch) >= 2:
                batches.append(batch)
            else:
                break
    return batches


def _embed(model: SentenceTransformer, texts: list[str]):  # noqa: ANN202 - torch.Tensor
    import torch

    features = model.tokenize(texts)
    output = model(features)
    return torch.nn.functional.normalize(output["sentence_embedding"], dim=-1)
