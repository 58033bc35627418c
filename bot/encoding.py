"""What an index encodes with: the torch encoder and the ONNX `FastEncoder` both fit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np


class Encoder(Protocol):
    """Turns texts into unit-length float32 embeddings (blocking; thread-safe)."""

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text in input order; shape (0, dim) for no texts."""
        # Thread-safe because a rebuild encodes in its own thread while the batcher's decides.
        ...


def encode(encoder: Encoder, texts: Sequence[str]) -> np.ndarray:
    """Unit-length float32 embeddings, one row per text (blocking)."""
    return encoder.encode(texts)
