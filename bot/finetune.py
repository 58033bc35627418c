"""Short contrastive fine-tune of the encoder on the knowledge base's own phrasings."""

from __future__ import annotations

import copy
import random
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from bot.torch_encoder import TorchEncoder

if TYPE_CHECKING:
    import torch
    from sentence_transformers import SentenceTransformer

# Multiple-negatives ranking loss over in-batch pairs: each pair's anchor must pick its own
# positive among every other entry's phrasing. SCALE 20 is the sentence-transformers default.
SCALE = 20.0
BATCH_ENTRIES = 48  # distinct entries per batch; bigger batches need more memory and time
LEARNING_RATE = 3e-5
# Training budget in optimizer steps (each: 2 x BATCH_ENTRIES sentences, ~1 s on 2 cores),
# and at most MAX_EPOCHS passes over a small KB's phrasings. Measured on 10-shot CLINC150
# (head top-1 on dev): 3 passes 0.896, 10 passes 0.904, 12.5 passes 0.868: more overfits the
# few phrasings. Large KBs stop at STEPS (~1.3 passes over the 100-shot KB).
STEPS = 200
MAX_EPOCHS = 10
SEED = 13

FORMAT_VERSION = 1  # bump when training changes, so old cached encoders are not reused
# Learning-rate warm-up over the first tenth of the steps (the usual share in the
# sentence-transformers examples): early AdamW steps, on unsettled moment estimates, would
# otherwise move the pretrained weights far.
WARMUP_DIVISOR = 10


def recipe(model_name: str, steps: int = STEPS) -> list[object]:
    """Everything a tuned encoder depends on besides the phrasings (part of its cache key)."""
    return [FORMAT_VERSION, model_name, steps, MAX_EPOCHS, BATCH_ENTRIES, LEARNING_RATE, SEED]


class FineTuneStopped(Exception):
    """Training was asked to stop (the knowledge base changed or the brain shut down)."""


def fine_tune(
    base: TorchEncoder,
    groups: Sequence[Sequence[str]],
    *,
    steps: int = STEPS,
    progress: Callable[[float], None] | None = None,
    stop: threading.Event | None = None,
) -> TorchEncoder:
    """A copy of `base` trained so phrasings of one entry embed close together (blocking)."""
    import torch

    usable = [list(g) for g in groups if len(g) >= 2]
    model = copy.deepcopy(base.model)
    if len(usable) < 2:
        return TorchEncoder(model)
    rng = random.Random(SEED)
    batches = _plan(usable, steps, rng)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE)
    warmup = max(1, len(batches) // WARMUP_DIVISOR)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, 1 - s / len(batches))
    )
    labels_cache: dict[int, torch.Tensor] = {}
    for number, batch in enumerate(batches):
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
            progress((number + 1) / len(batches))
    model.eval()
    return TorchEncoder(model)


def _plan(groups: list[list[str]], steps: int, rng: random.Random) -> list[list[tuple[str, str]]]:
    """Up to `steps` batches of (anchor, positive) pairs, never two of one entry in a batch."""
    batches: list[list[tuple[str, str]]] = []
    for _ in range(MAX_EPOCHS):
        if len(batches) >= steps:
            break
        # Only the lengths are read, but the shuffles advance `rng`: the batches, and so every
        # tuned encoder (cached under a key that assumes this recipe), depend on them.
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
    return batches[:steps]


def _embed(model: SentenceTransformer, texts: list[str]) -> torch.Tensor:
    import torch

    # `preprocess` replaced `tokenize` in sentence-transformers 6.
    prepare = getattr(model, "preprocess", None) or model.tokenize
    features = prepare(texts)
    output = model(features)
    return torch.nn.functional.normalize(output["sentence_embedding"], dim=-1)
