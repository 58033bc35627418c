"""Group commit: the chat messages (and new conversations) arriving together share a transaction.

Whatever was submitted while the previous transaction ran goes into the next one, so under
load hundreds of writes share a commit, and with no load a write is done at once. On
PostgreSQL two such lanes commit side by side, each for its own conversations (id modulo the
lanes), so that one lane's batch is built and sent while the other waits for its commit; a
conversation's messages always take the same lane, in submission order. SQLite has one
writer at a time anyway: one lane. The SQL of a batch is in `handoff/batch_sql.py`: a few
statements, whatever the batch's size. Every caller
hears back only after the commit; only then are the messages published on the bus.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from handoff import webhooks
from handoff.batch_sql import (
    Guard,
    NewConversation,
    NewMessage,
    Resend,
    Stored,
    store_conversations,
    store_many,
    store_one,
)
from handoff.bus import Bus
from handoff.events import conversation_channel, message_event
from handoff.metrics import MESSAGES_STORED

# The writer's vocabulary, for the services that submit to it.
__all__ = ["Guard", "MessageWriter", "NewConversation", "NewMessage", "Stored"]

log = logging.getLogger(__name__)

MAX_BATCH = 500  # writes per transaction: enough for a burst, short enough to hold locks
DRAIN_S = 5.0  # on shutdown, what was submitted gets this long to be committed
PG_LANES = 2  # commits in flight at once on PostgreSQL (each holds a pooled connection)


@dataclass
class _Job:
    new: NewMessage | NewConversation
    future: asyncio.Future[Any] = field(repr=False)


class MessageWriter:
    """Stores messages and new conversations with group commit, then publishes; one per process."""

    def __init__(self, engine: AsyncEngine, bus: Bus) -> None:
        self._engine = engine
        self._bus = bus
        lanes = PG_LANES if engine.dialect.name == "postgresql" else 1
        # None in a lane: stop after the rest.
        self._lanes: list[asyncio.Queue[_Job | None]] = [asyncio.Queue() for _ in range(lanes)]
        self._workers: list[asyncio.Task[None]] = []
        self._opened = 0  # new conversations go round the lanes

    async def __aenter__(self) -> MessageWriter:
        self._workers = [
            asyncio.create_task(self._write_forever(lane), name=f"message-writer-{n}")
            for n, lane in enumerate(self._lanes)
        ]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        workers, self._workers = self._workers, []  # store() refuses from now on
        if not workers:
            return
        for lane in self._lanes:
            lane.put_nowait(None)
        try:
            # Commit what was already submitted: every caller then hears back.
            await asyncio.wait_for(asyncio.shield(asyncio.gather(*workers)), DRAIN_S)
        except TimeoutError:
            log.warning("message writer: not drained in %ss; stopping", DRAIN_S)
        finally:
            for worker in workers:
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker
            for lane in self._lanes:
                while not lane.empty():
                    job = lane.get_nowait()
                    if job is not None and not job.future.done():
                        job.future.set_exception(RuntimeError("message writer stopped"))

    async def store(self, new: NewMessage) -> Stored | None:
        """Store a message, committed and published on return; None when its rule refused."""
        result: Stored | None = await self.submit(new)
        return result

    async def open(self, new: NewConversation) -> tuple[int, int]:
        """Start a conversation (and a first visit's visitor), committed on return:
        (visitor id, conversation id)."""
        ids: tuple[int, int] = await self.submit(new)
        return ids

    def submit(self, new: NewMessage | NewConversation) -> asyncio.Future[Any]:
        """Queue a write now (messages are stored in submission order); await the result."""
        if not self._workers:
            raise RuntimeError("the message writer is not running")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if isinstance(new, NewMessage):
            lane = new.conversation_id % len(self._lanes)
        else:
            lane, self._opened = self._opened, (self._opened + 1) % len(self._lanes)
        self._lanes[lane].put_nowait(_Job(new, future))
        return future

    async def _write_forever(self, lane: asyncio.Queue[_Job | None]) -> None:
        while True:
            job = await lane.get()
            batch: list[_Job] = []
            # No waiting for company: whatever queued while the last commit ran goes together.
            while job is not None:
                batch.append(job)
                if lane.empty() or len(batch) >= MAX_BATCH:
                    break
                job = lane.get_nowait()
            if batch:
                await self._commit(batch)
            if job is None:
                return  # asked to stop, after everything submitted before

    async def _commit(self, batch: list[_Job]) -> None:
        opened = [(job, new) for job in batch if isinstance(new := job.new, NewConversation)]
        # By conversation (submission order kept within one): the order rows are locked in.
        messages = sorted(
            ((job, new) for job in batch if isinstance(new := job.new, NewMessage)),
            key=lambda pair: pair[1].conversation_id,
        )
        jobs = [job for job, _ in (*opened, *messages)]
        try:
            async with self._engine.begin() as conn:
                results: list[Any] = await store_conversations(conn, [new for _, new in opened])
                results += await store_many(conn, [new for _, new in messages])
                await webhooks.emit_writes(  # no statement unless an endpoint wants them
                    conn, opened=results[: len(opened)], stored=results[len(opened) :]
                )
        except Exception as exc:  # noqa: BLE001 - a resend, or one bad write: one at a time
            if not isinstance(exc, Resend):
                log.warning("a batch of %d writes failed; writing them one by one", len(batch))
            for job in jobs:
                await self._write_alone(job)
            return
        for job, result in zip(jobs, results, strict=True):
            await self._done(job, result)

    async def _write_alone(self, job: _Job) -> None:
        try:
            async with self._engine.begin() as conn:
                if isinstance(job.new, NewConversation):
                    result: Any = (await store_conversations(conn, [job.new]))[0]
                else:
                    result = await store_one(conn, job.new)
                opened = isinstance(job.new, NewConversation)
                await webhooks.emit_writes(
                    conn, opened=[result] if opened else [], stored=[] if opened else [result]
                )
        except Exception as exc:  # noqa: BLE001 - the caller hears it (an error frame)
            if not job.future.done():
                job.future.set_exception(exc)
            return
        await self._done(job, result)

    async def _done(self, job: _Job, result: Any) -> None:
        """Committed: publish a new message, then let its caller go on."""
        if isinstance(job.new, NewMessage):
            await self._publish(result)
        if not job.future.done():
            job.future.set_result(result)

    async def _publish(self, stored: Stored | None) -> None:
        if stored is not None and not stored.duplicate:
            msg = stored.message
            MESSAGES_STORED.labels(msg.sender).inc()
            await self._bus.publish_after_commit(
                conversation_channel(msg.conversation_id), message_event(msg)
            )
