"""Micro-batching: concurrent decisions share one encode call, in a thread off the event loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bot.decision import Decision
from bot.index import Index

# One encode call. Not the encoder's most efficient size (256 is, alone): in a server the
# answers of one batch are stored and sent while the next encodes, so smaller batches keep
# both cores busy. 500 questions at once (benchmarks/system.py, bot row, 2026-12-07): 64 ->
# 534-564 answers/s, p50 0.55 s; 32 -> 473/s; 128 -> 484/s; 256 -> 341-455/s, p50 0.7-0.8 s.
MAX_BATCH = 64


@dataclass
class _Pending:
    text: str
    future: asyncio.Future[Decision]


class Batcher:
    """Decides with whatever index `current()` returns; batches while started (`start`/`stop`)."""

    def __init__(self, current: Callable[[], Index]) -> None:
        self._current = current
        self._queue: asyncio.Queue[_Pending] | None = None
        self._worker: asyncio.Task[None] | None = None
        # One encode thread: the encoder (torch or ONNX Runtime) already uses every core in a call.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bot-encode")

    @property
    def started(self) -> bool:
        """True between `start` and `stop`."""
        return self._queue is not None

    def start(self) -> None:
        """Start the batching task (on the running event loop)."""
        self._queue = asyncio.Queue()
        self._worker = asyncio.create_task(self._batch_loop(self._queue), name="bot-batcher")

    async def stop(self) -> None:
        """Stop batching; decisions still queued fail with RuntimeError."""
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

    async def decide(self, text: str) -> Decision:
        """Decide one message (the bot's misses not applied), batched with others when started."""
        queue = self._queue
        if queue is None:
            # Not started: decide alone, still off the event loop.
            loop = asyncio.get_running_loop()
            index = self._current()
            decisions = await loop.run_in_executor(
                self._executor, index.decide_many, [text]
            )
            return decisions[0]
        future: asyncio.Future[Decision] = asyncio.get_running_loop().create_future()
        queue.put_nowait(_Pending(text, future))
        return await future

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
            index = self._current()
            try:
                decisions = await loop.run_in_executor(
                    self._executor,
                    index.decide_many,
                    [p.text for p in batch],
                )
            except Exception as exc:  # every waiter must hear about it
                for pending in batch:
                    if not pending.future.done():
                        pending.future.set_exception(exc)
                continue
            for pending, decision in zip(batch, decisions, strict=True):
                if not pending.future.done():
                    pending.future.set_result(decision)
