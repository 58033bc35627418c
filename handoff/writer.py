"""Group commit: the chat messages that arrive together are stored in one transaction.

The hot path of the service. A message costs two SQL statements (SQLAlchemy Core, no ORM):
an UPDATE that allocates the conversation's next seq under its row lock, checking in the same
statement that the message may be written (`Guard`), and an INSERT ... ON CONFLICT DO NOTHING
that stores it once per client_msg_id. Whatever was submitted while the previous transaction
ran goes into the next one, so under load hundreds of messages share a commit, and with no
load a message is written at once. Every caller hears back only after the commit; only then
are the messages published on the bus.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum
from types import TracebackType
from typing import Any, cast

from sqlalchemy import Boolean, Table, bindparam, case, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.bus import Bus
from handoff.events import conversation_channel, message_event
from handoff.models import Conversation, Message, Sender, utcnow
from handoff.states import ConversationState

log = logging.getLogger(__name__)

MAX_BATCH = 500  # messages per transaction: enough for a burst, short enough to hold locks
DRAIN_S = 5.0  # on shutdown, what was submitted gets this long to be committed
# Core, not the ORM, on the hot path: the tables themselves.
CONVERSATIONS = cast(Table, Conversation.__table__)
MESSAGES = cast(Table, Message.__table__)


class Guard(Enum):
    """What must hold of the conversation for the message to be written."""

    OPEN = "open"  # not closed: a visitor writing (after close they get a new conversation)
    HELD_BY_AGENT = "held_by_agent"  # assigned to `agent_id`: an agent replying
    BOT_LAST_WORD = "bot_last_word"  # still with the bot, `answering_seq` still the last word
    NONE = "none"  # the conversation exists: a private note


# Runs inside the batch's transaction, after the message row (e.g. a ticket reopens).
AfterStore = Callable[[AsyncSession, "Stored"], Awaitable[None]]


@dataclass(frozen=True)
class NewMessage:
    """A message to store; `guard` says when it may be (see Guard)."""

    conversation_id: int
    sender: Sender
    text: str
    client_msg_id: str | None
    guard: Guard
    agent_id: int | None = None
    meta: dict[str, Any] | None = None
    answering_seq: int | None = None  # with BOT_LAST_WORD
    missed: bool = False  # with BOT_LAST_WORD: a miss (counts up) or an answer (resets)
    after_store: AfterStore | None = None


@dataclass(frozen=True)
class Stored:
    """A stored message (or the original of a resend) and its conversation as it then stood."""

    message: Message
    duplicate: bool
    state: ConversationState
    last_seq: int
    bot_misses: int
    assigned_agent_id: int | None


@dataclass
class _Job:
    new: NewMessage
    future: asyncio.Future[Stored | None] = field(repr=False)


_ROW = CONVERSATIONS.c
_NEXT_SEQ = {"last_seq": _ROW.last_seq + 1}
_IS_ROW = _ROW.id == bindparam("w_conversation_id")
# The seq-allocating UPDATE per guard; its WHERE is the rule, checked under the row lock.
_ALLOCATE = {
    Guard.OPEN: update(CONVERSATIONS)
    .where(_IS_ROW, _ROW.state != ConversationState.CLOSED)
    .values(_NEXT_SEQ),
    Guard.HELD_BY_AGENT: update(CONVERSATIONS)
    .where(
        _IS_ROW,
        _ROW.state == ConversationState.ASSIGNED,
        _ROW.assigned_agent_id == bindparam("w_agent_id"),
    )
    .values(_NEXT_SEQ),
    Guard.BOT_LAST_WORD: update(CONVERSATIONS)
    .where(
        _IS_ROW,
        _ROW.state == ConversationState.BOT,
        _ROW.last_seq == bindparam("w_answering_seq"),
    )
    .values(
        last_seq=_ROW.last_seq + 1,
        bot_misses=case((bindparam("w_missed", type_=Boolean), _ROW.bot_misses + 1), else_=0),
    ),
    Guard.NONE: update(CONVERSATIONS).where(_IS_ROW).values(_NEXT_SEQ),
}
_ALLOCATE = {
    guard: stmt.returning(_ROW.last_seq, _ROW.state, _ROW.bot_misses, _ROW.assigned_agent_id)
    for guard, stmt in _ALLOCATE.items()
}
_GIVE_BACK = update(CONVERSATIONS).where(_IS_ROW).values(last_seq=_ROW.last_seq - 1)
_INSERT = {
    dialect: insert(MESSAGES)
    .on_conflict_do_nothing(index_elements=["conversation_id", "sender", "client_msg_id"])
    .returning(MESSAGES.c.id)
    for dialect, insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}


async def store_one(session: AsyncSession, new: NewMessage) -> Stored | None:
    """Store one message in the session's transaction; None when its guard does not hold.

    The caller commits. A resend (same client_msg_id) returns the original, duplicate=True.
    """
    where = {
        "w_conversation_id": new.conversation_id,
        "w_agent_id": new.agent_id,
        "w_answering_seq": new.answering_seq,
        "w_missed": new.missed,
    }
    # The row lock taken here serialises the writers of one conversation: seqs never clash.
    allocated = (await session.execute(_ALLOCATE[new.guard], where)).first()
    if allocated is None:
        return None
    seq, state, misses, agent = allocated
    created_at = utcnow()
    inserted = (
        await session.execute(
            _INSERT[session.get_bind().dialect.name],
            {
                "conversation_id": new.conversation_id,
                "seq": seq,
                "sender": new.sender,
                "text": new.text,
                "client_msg_id": new.client_msg_id,
                "agent_id": new.agent_id,
                "meta": new.meta,
                "created_at": created_at,
            },
        )
    ).first()
    if inserted is None:
        # A resend: give the seq back (we still hold the row lock) and answer with the original.
        await session.execute(_GIVE_BACK, {"w_conversation_id": new.conversation_id})
        original = await session.scalar(
            select(Message).where(
                Message.conversation_id == new.conversation_id,
                Message.sender == new.sender,
                Message.client_msg_id == new.client_msg_id,
            )
        )
        assert original is not None  # the conflict was with it; rows are never deleted
        return Stored(original, True, ConversationState(state), seq - 1, misses, agent)
    message = Message(
        id=inserted[0],
        conversation_id=new.conversation_id,
        seq=seq,
        sender=new.sender,
        text=new.text,
        client_msg_id=new.client_msg_id,
        agent_id=new.agent_id,
        meta=new.meta,
        created_at=created_at,
    )
    stored = Stored(message, False, ConversationState(state), seq, misses, agent)
    if new.after_store is not None:
        await new.after_store(session, stored)
    return stored


class MessageWriter:
    """Stores messages with group commit, then publishes them; one per process."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], bus: Bus) -> None:
        self._sessions = sessions
        self._bus = bus
        self._queue: asyncio.Queue[_Job | None] = asyncio.Queue()  # None: stop after the rest
        self._worker: asyncio.Task[None] | None = None

    async def __aenter__(self) -> MessageWriter:
        self._worker = asyncio.create_task(self._write_forever(), name="message-writer")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        worker, self._worker = self._worker, None  # store() refuses from now on
        if worker is None:
            return
        self._queue.put_nowait(None)
        try:
            # Commit what was already submitted: every caller then hears back.
            await asyncio.wait_for(asyncio.shield(worker), DRAIN_S)
        except TimeoutError:
            log.warning("message writer: not drained in %ss; stopping", DRAIN_S)
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
            while not self._queue.empty():
                job = self._queue.get_nowait()
                if job is not None and not job.future.done():
                    job.future.set_exception(RuntimeError("message writer stopped"))

    async def store(self, new: NewMessage) -> Stored | None:
        """Store a message, committed and published on return; None when its guard failed."""
        if self._worker is None:
            raise RuntimeError("the message writer is not running")
        future: asyncio.Future[Stored | None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Job(new, future))
        return await future

    async def _write_forever(self) -> None:
        while True:
            job = await self._queue.get()
            batch: list[_Job] = []
            # No waiting for company: whatever queued while the last commit ran goes together.
            while job is not None:
                batch.append(job)
                if self._queue.empty() or len(batch) >= MAX_BATCH:
                    break
                job = self._queue.get_nowait()
            if batch:
                await self._commit(batch)
            if job is None:
                return  # asked to stop, after everything submitted before

    async def _commit(self, batch: list[_Job]) -> None:
        try:
            results = await self._write(batch)
        except Exception:  # noqa: BLE001 - one bad message must not fail its neighbours
            log.warning("a batch of %d messages failed; writing them one by one", len(batch))
            for job in batch:
                await self._write_alone(job)
            return
        for job, stored in zip(batch, results, strict=True):
            await self._publish(stored)
            if not job.future.done():
                job.future.set_result(stored)

    async def _write(self, batch: list[_Job]) -> list[Stored | None]:
        # One lock order for every batch (by conversation, submission order kept within one),
        # so two replicas' batches never wait on each other in a circle.
        order = sorted(range(len(batch)), key=lambda i: batch[i].new.conversation_id)
        results: list[Stored | None] = [None] * len(batch)
        async with self._sessions() as session:
            for i in order:
                results[i] = await store_one(session, batch[i].new)
            await session.commit()
        return results

    async def _write_alone(self, job: _Job) -> None:
        try:
            (stored,) = await self._write([job])
        except Exception as exc:  # noqa: BLE001 - the caller hears it (an error frame)
            if not job.future.done():
                job.future.set_exception(exc)
            return
        await self._publish(stored)
        if not job.future.done():
            job.future.set_result(stored)

    async def _publish(self, stored: Stored | None) -> None:
        if stored is not None and not stored.duplicate:
            msg = stored.message
            await self._bus.publish_after_commit(
                conversation_channel(msg.conversation_id), message_event(msg)
            )
