"""The bot cache folder: tuned encoders and ONNX exports kept between restarts, written whole."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from bot.fast_encoder import FastEncoder
from bot.finetune import STEPS, fine_tune, recipe
from bot.onnx_export import RECIPE, export
from bot.runtime import resolve_model_path
from bot.torch_encoder import TorchEncoder

log = logging.getLogger(__name__)

CACHE_ENV = "CHATDESK_BOT_CACHE"  # where tuned encoders and their exports live
DONE = "done"  # marker file: a folder without it is incomplete and never read
KEY_DIGITS = 24  # hex digits of sha256 in folder names: 96 bits, no collisions, short paths


def default_cache_dir() -> Path:
    """`$CHATDESK_BOT_CACHE`, else `~/.cache/chatdesk/bot`."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "chatdesk" / "bot")


def publish_dir(target: Path, write: Callable[[Path], object]) -> None:
    """Fill a cache folder through `write(partial)`, then swap it in whole, marked DONE.

    Readers check `target / DONE`, so they never see a half-written folder; on failure
    the partial folder is removed and the exception propagates.
    """
    partial = target.with_name(target.name + f".tmp{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        write(partial)
        (partial / DONE).touch()
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


def tuned_key(model_name: str, groups: Sequence[Sequence[str]], steps: int = STEPS) -> str:
    """Stable key for (base model, training recipe, KB phrasings)."""
    payload = json.dumps([recipe(model_name, steps), [list(g) for g in groups]], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()[:KEY_DIGITS]


def tuned_dir(cache_dir: Path, key: str) -> Path:
    """Where the encoder fine-tuned under `key` is kept."""
    return cache_dir / key


def tuned_export_dir(cache_dir: Path, key: str) -> Path:
    """Where the export of the encoder fine-tuned under `key` is kept."""
    return cache_dir / f"{key}-onnx-{RECIPE}"


def base_export_dir(cache_dir: Path, model_name: str) -> Path:
    """Where the export of a base (not fine-tuned) model is kept."""
    recipe = json.dumps([RECIPE, model_name, resolve_model_path(model_name)])
    return cache_dir / ("onnx-" + hashlib.sha256(recipe.encode()).hexdigest()[:KEY_DIGITS])


def load_cached(folder: Path) -> FastEncoder | None:
    """The exported encoder in `folder`, or None when there is none (or it is unusable)."""
    if not (folder / DONE).exists():
        return None
    try:
        return FastEncoder(folder)
    except Exception:  # a stale or damaged export: rebuilt by `cached_export`
        log.warning("cannot load exported encoder %s; it will be rebuilt", folder, exc_info=True)
        return None


def cached_export(encoder: TorchEncoder, folder: Path) -> FastEncoder | None:
    """Export `encoder` into `folder` unless already there; None if ONNX is unavailable here.

    Serving falls back to the torch model on None, so a missing ONNX Runtime or an
    architecture the exporter cannot trace costs speed, never answers.
    """
    ready = load_cached(folder)
    if ready is not None:
        return ready
    try:
        publish_dir(folder, lambda partial: export(encoder, partial))
        return FastEncoder(folder)
    except Exception:
        log.warning("ONNX export of the encoder failed; serving with torch", exc_info=True)
        return None


def cached_fine_tune(
    base: TorchEncoder,
    groups: Sequence[Sequence[str]],
    *,
    model_name: str,
    cache_dir: Path | None,
    steps: int = STEPS,
    progress: Callable[[float], None] | None = None,
    stop: threading.Event | None = None,
) -> TorchEncoder:
    """`fine_tune`, reusing an encoder tuned earlier on the same phrasings (restarts are cheap)."""
    if cache_dir is None:
        return fine_tune(base, groups, steps=steps, progress=progress, stop=stop)
    from sentence_transformers import SentenceTransformer

    target = tuned_dir(cache_dir, tuned_key(model_name, groups, steps))
    if (target / DONE).exists():
        return TorchEncoder(SentenceTransformer(str(target), device="cpu"))
    tuned = fine_tune(base, groups, steps=steps, progress=progress, stop=stop)
    with contextlib.suppress(OSError):  # caching is an optimisation only
        publish_dir(target, lambda partial: tuned.model.save(str(partial)))
    return tuned
