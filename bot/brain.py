"""The bot brain: builds the index off the event loop and batches concurrent decisions."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from bot.cache import (
    base_export_dir,
    cached_export,
    cached_fine_tune,
    default_cache_dir,
    load_cached,
    tuned_export_dir,
    tuned_key,
)
from bot.calibrate import choose_thresholds, cross_validate, summarize
from bot.decision import Decision
from bot.encoding import Encoder, encode
from bot.fast_encoder import FastEncoder
from bot.finetune import FineTuneStopped
from bot.head import train_head
from bot.human import is_human_request
from bot.index import Index, group_phrasings
from bot.kb import Entry
from bot.runtime import DEFAULT_MODEL
from bot.torch_encoder import load_model

log = logging.getLogger(__name__)

MAX_BATCH = 256  # one encode call; larger batches only add latency for the first caller


@dataclass
class _Pending:
    text: str
    misses: int
    future: asyncio.Future[Decision]


class Stage(StrEnum):
    """How far a knowledge base's index has been improved; each stage replaces the last."""

    NEAREST = "nearest-neighbour"  # base model, phrasing similarity: ready in seconds
    HEAD = "trained-head"  # plus a classifier over the embeddings
    FINE_TUNED = "fine-tuned"  # encoder tuned on the KB's own phrasings, then a new head


def build_index(
    entries: list[Entry],
    *,
    encoder: Encoder,
    stage: Stage,
    thresholds: dict[str, float] | None,
    oos_examples: list[str] | None,
    reuse: Index | None = None,
) -> Index:
    """Encode every phrasing, train the head if the stage has one, calibrate (blocking).

    `reuse` is an index of the same entries and encoder whose embeddings can be kept.
    """
    texts, owners, starts = group_phrasings(entries)
    same = reuse is not None and reuse.model is encoder and reuse.entries == entries
    vectors = reuse.vectors if same and reuse is not None else encode(encoder, texts)
    oos_vectors = encode(encoder, list(oos_examples)) if oos_examples else None
    use_head = stage is not Stage.NEAREST
    held = cross_validate(vectors, owners, len(entries), use_head=use_head, oos_vectors=oos_vectors)
    calibrated = choose_thresholds(held, search_sure=use_head)
    head = train_head(vectors, owners, len(entries)) if use_head else None
    summary = summarize(held, calibrated)
    return Index(
        model=encoder,
        entries=list(entries),
        vectors=vectors,
        starts=starts,
        thresholds=calibrated.override(thresholds),
        head=head,
        stage=str(stage),
        calibration=summary | {"calibrated_" + k: v for k, v in calibrated.as_dict().items()},
    )


def open_encoder(model: str, cache_dir: Path | None) -> Encoder:
    """The model's ONNX export when one is cached (no torch needed), else the torch model."""
    fast = load_cached(base_export_dir(cache_dir, model)) if cache_dir is not None else None
    return fast or load_model(model)


class Brain:
    """Answers visitor messages from a knowledge base; see `create`, `decide`, `rebuild`.

    The first index (nearest neighbour on the base model) is ready in seconds. While the brain
    runs (`async with brain`), a background task trains a head and, if enabled, fine-tunes the
    encoder on the KB's phrasings; each improved index is calibrated and swapped in atomically.
    """

    def __init__(
        self,
        index: Index,
        *,
        model: str,
        thresholds: dict[str, float] | None,
        oos_examples: list[str] | None,
        improve: bool,
        fine_tune: bool,
        cache_dir: Path | None,
    ) -> None:
        self._index = index
        self._model = model
        self._overrides = dict(thresholds or {})
        self._oos_examples = list(oos_examples or [])
        self._improve_enabled = improve
        self._fine_tune_enabled = fine_tune and improve
        self._cache_dir = cache_dir
        self._queue: asyncio.Queue[_Pending] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._improver: asyncio.Task[None] | None = None
        self._stop_training = threading.Event()
        # One encode thread: torch already uses every core inside a call.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bot-encode")
        self._rebuild_lock = asyncio.Lock()
        self._building = False
        self._progress = "ready"
        self._built_at = time.time()

    @classmethod
    async def create(
        cls,
        entries: list[Entry],
        *,
        model: str = DEFAULT_MODEL,
        thresholds: dict[str, float] | None = None,
        oos_examples: list[str] | None = None,
        improve: bool = True,
        fine_tune: bool = True,
        cache_dir: Path | None | Literal["default"] = "default",
    ) -> Brain:
        """Load the encoder and build the first index in a worker thread.

        `improve` trains the head in the background, `fine_tune` also tunes the encoder
        (cached in `cache_dir`, None for no cache); `oos_examples` are admin-collected
        out-of-scope questions used for calibration.
        """
        cache = default_cache_dir() if cache_dir == "default" else cache_dir
        encoder = await asyncio.to_thread(open_encoder, model, cache)
        index = await asyncio.to_thread(
            build_index,
            list(entries),
            encoder=encoder,
            stage=Stage.NEAREST,
            thresholds=thresholds,
            oos_examples=oos_examples,
        )
        return cls(
            index,
            model=model,
            thresholds=thresholds,
            oos_examples=oos_examples,
            improve=improve,
            fine_tune=fine_tune,
            cache_dir=cache,
        )

    async def __aenter__(self) -> Brain:
        self._queue = asyncio.Queue()
        self._worker = asyncio.create_task(self._batch_loop(self._queue), name="bot-batcher")
        self._start_improving()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        worker, queue = self._worker, self._queue
        self._worker, self._queue = None, None
        try:
            await self._stop_improving()
            if worker is not None:
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker
        finally:
            while queue is not None and not queue.empty():
                pending = queue.get_nowait()
                if not pending.future.done():
                    pending.future.set_exception(RuntimeError("bot brain stopped"))

    @property
    def entries(self) -> list[Entry]:
        """Entries of the index currently answering."""
        return list(self._index.entries)

    def entry(self, entry_id: str) -> Entry | None:
        """The entry with this id in the current index, if any."""
        return self._index.by_id.get(entry_id)

    @property
    def status(self) -> dict[str, Any]:
        """Entries, stage, thresholds in use, calibration summary and rebuild progress."""
        index = self._index
        return {
            "entries": len(index.entries),
            "model": self._model,
            "runtime": "onnx" if isinstance(index.model, FastEncoder) else "torch",
            "stage": index.stage,
            "thresholds": index.thresholds.as_dict(),
            "calibration": dict(index.calibration),
            "building": self._building,
            "improving": self._improver is not None and not self._improver.done(),
            "progress": self._progress,
            "built_at": self._built_at,
        }

    @staticmethod
    def is_human_request(text: str) -> bool:
        """True when the text asks for a person, in any supported language."""
        return is_human_request(text)

    async def decide(self, text: str, *, misses: int = 0) -> Decision:
        """Decide answer / clarify / escalate for one visitor message."""
        queue = self._queue
        if queue is None:
            # Not started as a context manager: decide alone, still off the event loop.
            loop = asyncio.get_running_loop()
            index = self._index
            decisions = await loop.run_in_executor(
                self._executor, index.decide_many, [text], [misses]
            )
            return decisions[0]
        future: asyncio.Future[Decision] = asyncio.get_running_loop().create_future()
        queue.put_nowait(_Pending(text, misses, future))
        return await future

    async def rebuild(self, entries: list[Entry]) -> None:
        """Build a new index in the background and swap it in; decisions continue meanwhile."""
        async with self._rebuild_lock:
            await self._stop_improving()
            self._building, self._progress = True, f"indexing {len(entries)} entries"
            try:
                # The current encoder may be fine-tuned on the old KB: still the better start.
                index = await asyncio.to_thread(
                    build_index,
                    list(entries),
                    encoder=self._index.model,
                    stage=Stage.NEAREST,
                    thresholds=self._overrides,
                    oos_examples=self._oos_examples,
                )
                self._swap(index)
            except BaseException:
                self._progress = "failed; previous knowledge base kept"
                raise
            finally:
                self._building = False
            if self._queue is not None:
                self._start_improving()

    async def ready(self) -> None:
        """Wait until background improvement (head, fine-tune) of the current KB has finished."""
        while self._improver is not None and not self._improver.done():
            await asyncio.wait({self._improver})

    def _swap(self, index: Index) -> None:
        self._index, self._built_at = index, time.time()  # one reference swap: atomic
        self._progress = f"ready ({index.stage})"
        log.info("bot index swapped: %s, thresholds %s", index.stage, index.thresholds)

    def _start_improving(self) -> None:
        if not self._improve_enabled or not self._index.entries:
            return
        self._stop_training = threading.Event()
        self._improver = asyncio.create_task(self._improve(self._stop_training), name="bot-improve")

    async def _stop_improving(self) -> None:
        improver, self._improver = self._improver, None
        if improver is None:
            return
        self._stop_training.set()  # the training thread checks this between steps
        improver.cancel()
        with contextlib.suppress(asyncio.CancelledError, FineTuneStopped):
            await improver

    async def _improve(self, stop: threading.Event) -> None:
        current = self._index
        entries, encoder = list(current.entries), current.model
        try:
            if not isinstance(encoder, FastEncoder) and self._cache_dir is not None:
                self._progress = "exporting encoder to ONNX"
                folder = base_export_dir(self._cache_dir, self._model)
                base = await asyncio.to_thread(load_model, self._model)
                exported = await asyncio.to_thread(cached_export, base, folder)
                encoder = exported or encoder
            self._progress = "training head"
            index = await asyncio.to_thread(
                build_index,
                entries,
                encoder=encoder,
                stage=Stage.HEAD,
                thresholds=self._overrides,
                oos_examples=self._oos_examples,
                reuse=current,
            )
            self._swap(index)
            if not self._fine_tune_enabled:
                return
            base = await asyncio.to_thread(load_model, self._model)

            def report(done: float) -> None:
                self._progress = f"fine-tuning encoder {done:.0%}"

            groups = [e.phrasings() for e in entries]
            torch_tuned = await asyncio.to_thread(
                cached_fine_tune,
                base,
                groups,
                model_name=self._model,
                cache_dir=self._cache_dir,
                progress=report,
                stop=stop,
            )
            tuned: Encoder = torch_tuned
            if self._cache_dir is not None:
                self._progress = "exporting fine-tuned encoder to ONNX"
                folder = tuned_export_dir(self._cache_dir, tuned_key(self._model, groups))
                tuned_onnx = await asyncio.to_thread(cached_export, torch_tuned, folder)
                tuned = tuned_onnx or tuned
            self._progress = "calibrating fine-tuned encoder"
            index = await asyncio.to_thread(
                build_index,
                entries,
                encoder=tuned,
                stage=Stage.FINE_TUNED,
                thresholds=self._overrides,
                oos_examples=self._oos_examples,
            )
            self._swap(index)
        except FineTuneStopped:
            return
        except Exception:
            # Improvement is optional: the current index keeps answering.
            log.exception("bot improvement failed; keeping the %s index", self._index.stage)
            self._progress = f"improvement failed; answering with {self._index.stage}"

    async def _batch_loop(self, queue: asyncio.Queue[_Pending]) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await queue.get()]
            # No waiting for company: whatever queued while the last batch ran goes together.
            while not queue.empty() and len(batch) < MAX_BATCH:
                batch.append(queue.get_nowait())
            batch = [p for p in batch if not p.future.cancelled()]
            if not batch:
                continue
            index = self._index
            try:
                decisions = await loop.run_in_executor(
                    self._executor,
                    index.decide_many,
                    [p.text for p in batch],
                    [p.misses for p in batch],
                )
            except Exception as exc:  # every waiter must hear about it
                for pending in batch:
                    if not pending.future.done():
                        pending.future.set_exception(exc)
                continue
            for pending, decision in zip(batch, decisions, strict=True):
                if not pending.future.done():
                    pending.future.set_result(decision)
