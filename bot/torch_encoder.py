"""The sentence-transformers (torch) encoder: loaded once per process; what training needs."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from bot.runtime import DEFAULT_MODEL, limit_blas, resolve_model_path

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

ENCODE_BATCH = 64  # large enough to amortise per-call overhead, small enough for short queues


class TorchEncoder:
    """A sentence-transformers model as an `Encoder`; `model` is what fine-tune and export use."""

    def __init__(self, model: SentenceTransformer) -> None:
        self.model = model

    @property
    def dim(self) -> int:
        """The model's embedding size."""
        # Renamed in sentence-transformers 6; keep working with older releases too.
        getter = (
            getattr(self.model, "get_embedding_dimension", None)
            or self.model.get_sentence_embedding_dimension
        )
        return int(getter() or 0)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 embeddings, one row per text (blocking)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=ENCODE_BATCH,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


_models: dict[str, TorchEncoder] = {}
_lock = threading.Lock()


def load_model(name: str = DEFAULT_MODEL) -> TorchEncoder:
    """Load a sentence-transformers model once per process (blocking; call off the loop)."""
    with _lock:
        encoder = _models.get(name)
        if encoder is None:
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(resolve_model_path(name), device="cpu")
            model.eval()
            encoder = _models[name] = TorchEncoder(model)
            limit_blas()
        return encoder
