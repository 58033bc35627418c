"""The bot brain: builds the index off the event loop and batches concurrent decisions."""

from __future__ import annotations

import asyncio
import contextlib
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from bot.calibrate import calibrate
from bot.decision import Decision
from bot.encoder import DEFAULT_MODEL, encode, load_model
from bot.human import is_human_request
from bot.index import Index, group_phrasings
from bot.kb import Entry

MAX_BATCH = 256  # one encode call; larger batches only add latency for the first caller


@dataclass
class _Pending:
    text: str
    misses: int
    future: asyncio.Future[Decision]


def build_index(
    entries: list[Entry],
    *,
    model: str,
    thresholds: dict[str, float] | None,
    oos_examples: list[str] | None,
) -> Index:
    """Encode every phrasing and calibrate thresholds (blocking; run in a worker thread)."""
    encoder = load_model(model)
    texts, owners, starts = group_phrasings(entries)
    vectors = encode(encoder, texts)
    oos_vectors = encode(encoder, list(oos_examples)) if oos_examples else None
    calibrated, summary = calibrate(vectors, owners, starts, oos_vectors)
    return Index(
        model=encoder,
        entries=list(entries),
        vectors=vectors,
        starts=starts,
        thresholds=calibrated.override(thresholds),
        calibration=summary | {"calibrated_" + k: v for k, v in calibrated.as_dict().items()},
    )


class Brain:
    """Answers visitor messages from a knowledge base; see `create`, `decide`, `rebuild`."""

    def __init__(
        self,
        index: Index,
        *,
        model: str,
        thresholds: dict[str, float] | None,
        oos_examples: list[str] | None,
    ) -> None:
        self._index = index
        self._model = model
        self._overrides = dict(thresholds or {})
        self._oos_examples = list(oos_examples or [])
        self._queue: asyncio.Queue[_Pending] | None = None
        self._worker: asyncio.Task[None] | None = None
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
    ) -> Brain:
        """Load the encoder and build the first index in a worker thread."""
        index = await asyncio.to_thread(
            build_index,
            list(entries),
            model=model,
            thresholds=thresholds,
            oos_examples=oos_examples,
        )
        return cls(index, model=model, thresholds=thresholds, oos_examples=oos_examples)

    async def __aenter__(self) -> Brain:
        self._queue = asyncio.Queue()
        self._worker = asyncio.create_task(self._batch_loop(self._queue), name="bot-batcher")
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
        """Entries, thresholds in use, calibration summary and rebuild progress."""
        index = self._index
        return {
            "entries": len(index.entries),
            "model": self._model,
            "thresholds": index.thresholds.as_dict(),
            "calibration": dict(index.calibration),
            "building": self._building,
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
            self._building, self._progress = True, f"encoding {len(entries)} entries"
            try:
                index = await asyncio.to_thread(
                    build_index,
                    list(entries),
                    model=self._model,
                    thresholds=self._overrides,
                    oos_examples=self._oos_examples,
                )
                self._index, self._built_at = index, time.time()  # one reference swap: atomic
                self._progress = "ready"
            except BaseException:
                self._progress = "failed; previous knowledge base kept"
                raise
            finally:
                self._building = False

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
            except Exception as exc:  # noqa: BLE001 - every waiter must hear about it
                for pending in batch:
                    if not pending.future.done():
                        pending.future.set_exception(exc)
                continue
            for pending, decision in zip(batch, decisions, strict=True):
                if not pending.future.done():
                    pending.future.set_result(decision)
