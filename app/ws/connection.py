"""One websocket: a reader for client frames, a pump for bus events, one send lock.

The pump forwards events in seq order per conversation and reads the database for whatever
it missed (resume, a gap, a bus reconnect), so a client never sees a gap or a repeat. It runs
only while events wait: an idle socket is its reader's task and a few small objects (issue 12:
thousands of idle sockets per process).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi import WebSocket
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import Message
from starlette.websockets import WebSocketState

from app.errors import DOMAIN_ERROR_TYPES, client_error
from app.ws.frames import Frame, FrameError, Hello, Ping, ack, parse_frame, ref_of
from app.ws.queue_view import queue_update
from handoff.bus import AGENT_QUEUE_MAX, RESYNC, SUBSCRIPTION_QUEUE_MAX, Bus, Subscription
from handoff.conversations import get_conversation
from handoff.errors import TryLater
from handoff.events import (
    QUEUE_CHANNEL,
    QUEUE_EVENT,
    SharedEvent,
    conversation_channel,
    message_event,
)
from handoff.messages import Posted, messages_after
from handoff.models import Sender
from handoff.visitor_state import visitor_state
from handoff.writer import Stored

log = logging.getLogger(__name__)

HEARTBEAT_S = 25  # clients ping this often: below the common 30 s proxy idle cut-off
IDLE_TIMEOUT_S = 60  # two missed heartbeats and a bit: the peer is gone
HELLO_TIMEOUT_S = 10  # a socket that never says hello holds no resources for long
SEND_TIMEOUT_S = 10  # a peer that cannot take one frame in this long is too slow
CATCH_UP_PAGE = 500  # messages per database read while resuming
# Writes whose acks one socket may have outstanding (an agent console answering several chats
# at once); past this the socket reads no further frame until one is acknowledged.
MAX_IN_FLIGHT = 64
IN_FLIGHT_DRAIN_S = 5.0  # after the peer goes, outstanding writes get this long to finish
CLOSE_NORMAL = 1000
CLOSE_IDLE = 1001
CLOSE_POLICY = 1008  # bad credentials or a hello that never came
CLOSE_RESTART = 1012  # service restart: reconnect (elsewhere) with backoff
CLOSE_TOO_SLOW = 1013  # try again later: resume by seq
# Internal pump events (never sent): read the database after a seq, or because a sweep
# saw this socket behind (app/ws/hub.py).
CATCH_UP = "_catch_up"
BEHIND = "_behind"

Handle = Callable[[Frame], Awaitable[None]]


class Connection:
    """One websocket: a reader (client frames) and a pump (bus events), one send lock."""

    __slots__ = (
        "_closed", "_id", "_in_flight", "_pump", "_send_lock", "_state", "app", "bus",
        "for_agent", "last_heard", "last_seq", "sub", "ws",
    )

    def __init__(self, ws: WebSocket, *, for_agent: bool) -> None:
        self.ws = ws
        self.app = ws.app
        self._id: str | None = None
        self.for_agent = for_agent
        self.bus: Bus = self.app.state.bus
        self.sub: Subscription = self.bus.subscribe(
            AGENT_QUEUE_MAX if for_agent else SUBSCRIPTION_QUEUE_MAX
        )
        self.sub.wake = self._wake_pump
        self._pump: asyncio.Task[None] | None = None  # only while events wait
        # conversation id -> highest seq handled (sent, or skipped as a note for visitors)
        self.last_seq: dict[int, int] = {}
        self._send_lock = asyncio.Lock()
        self._closed = False
        # When the client last sent a frame; the hub closes sockets silent for IDLE_TIMEOUT_S
        # (one check every few seconds, not a timer per frame).
        self.last_heard = asyncio.get_running_loop().time()
        self._in_flight: set[asyncio.Task[None]] | None = None  # made by the first in_flight
        # A visitor's latest `state` frame: the queue broadcast updates its place and wait.
        self._state: dict[str, Any] | None = None
        if not for_agent:
            self.sub.add(QUEUE_CHANNEL)  # before the hello reads the state; dropped unless queued

    @property
    def id(self) -> str:
        """This socket's id (an agent console's presence row names it), made when first asked."""
        if self._id is None:
            self._id = uuid.uuid4().hex
        return self._id

    @property
    def state(self) -> dict[str, Any] | None:
        """The visitor's latest `state` frame (None on agent sockets)."""
        return self._state

    @state.setter
    def state(self, frame: dict[str, Any] | None) -> None:
        # Only a queued visitor hears the queue broadcasts: a queue change wakes the sockets
        # waiting in it, not every idle socket of the process.
        queued = frame is not None and frame.get("state") == "queued"
        if queued != (QUEUE_CHANNEL in self.sub.channels):
            (self.sub.add if queued else self.sub.remove)(QUEUE_CHANNEL)
        self._state = frame

    def session(self) -> AsyncSession:
        """A new database session; use it as `async with conn.session() as session`."""
        sessions: async_sessionmaker[AsyncSession] = self.app.state.sessions
        return sessions()

    def read_session(self) -> AsyncSession:
        """A session that only reads (on SQLite it takes no write lock)."""
        sessions: async_sessionmaker[AsyncSession] = self.app.state.read_sessions
        return sessions()

    async def send(self, frame: dict[str, Any]) -> None:
        """Send one frame; a peer too slow to take it is closed (it resumes by seq)."""
        async with self._send_lock:
            if self._closed:
                return
            try:
                async with asyncio.timeout(SEND_TIMEOUT_S):
                    text = frame.text() if isinstance(frame, SharedEvent) else json.dumps(frame)
                    await self.ws.send_text(text)
            except TimeoutError:
                log.warning("closing a socket that took over %ss to take one frame", SEND_TIMEOUT_S)
                await self._close_locked(CLOSE_TOO_SLOW, "too slow")
            except Exception:  # noqa: BLE001 - the peer is gone; it resumes by seq elsewhere
                self._closed = True

    async def confirm(self, posted: Posted | Stored) -> None:
        """Tell the sender its message is committed: in a watched conversation it comes back as
        itself, in seq order (docs/protocol.md); a resend or an unwatched one gets an `ack`."""
        last = self.last_seq.get(posted.message.conversation_id)
        if posted.duplicate or last is None:
            await self.send(ack(posted))
        elif posted.message.seq > last:  # not sent by the pump yet (a gap reads the database)
            await self._deliver_message(message_event(posted.message))

    async def send_error(self, code: str, message: str, ref: str | None = None) -> None:
        """An `error` frame; the socket stays open."""
        await self.send({"type": "error", "code": code, "message": message, "ref": ref})

    async def send_domain_error(self, exc: Exception, ref: str | None) -> None:
        """A service's refusal as its `error` frame (`retry_after` when it says when)."""
        frame: dict[str, Any] = {
            "type": "error", "code": client_error(exc).code, "message": str(exc), "ref": ref
        }
        if isinstance(exc, TryLater):
            frame["retry_after"] = exc.retry_after_s
        await self.send(frame)

    async def close(self, code: int, reason: str) -> None:
        """Close once, after any frame being sent."""
        async with self._send_lock:
            await self._close_locked(code, reason)

    async def _close_locked(self, code: int, reason: str) -> None:
        if self._closed:
            return
        self._closed = True
        if self.ws.application_state == WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await self.ws.close(code, reason)

    def watch(self, conversation_id: int, after_seq: int, *, caught_up: bool = False) -> None:
        """Subscribe first, then let the pump read the database: nothing falls in between.

        `caught_up`: there is nothing after `after_seq` to read: the conversation was created
        for this socket just now, or its last seq was read after subscribing (`subscribe`).
        """
        self.sub.add(conversation_channel(conversation_id))
        if caught_up:
            self.last_seq[conversation_id] = after_seq  # the bus brings whatever comes next
            return
        self.sub.offer({"type": CATCH_UP, "conversation_id": conversation_id, "after": after_seq})

    def subscribe(self, conversation_id: int) -> None:
        """Hear a conversation's events before reading it (`watch` later, or `unsubscribe`)."""
        self.sub.add(conversation_channel(conversation_id))

    def unsubscribe(self, conversation_id: int) -> None:
        """Stop hearing a conversation that was subscribed to but is not watched."""
        if conversation_id not in self.last_seq:
            self.sub.remove(conversation_channel(conversation_id))

    def unwatch(self, conversation_id: int) -> None:
        """Stop receiving a conversation's events."""
        self.sub.remove(conversation_channel(conversation_id))
        self.last_seq.pop(conversation_id, None)

    def unwatch_all(self) -> None:
        """Stop receiving every conversation's events (the visitor moves to a new one)."""
        for cid in list(self.last_seq):
            self.unwatch(cid)

    def _wake_pump(self) -> None:
        """An event arrived in the empty inbox: start the pump unless it runs already."""
        if self._pump is None and not self._closed:
            self._pump = asyncio.create_task(self._run_pump(), name="socket-pump")

    async def _run_pump(self) -> None:
        """Forward the waiting bus events in seq order, reading the database for anything
        missed; ends when the inbox is empty (the next event starts it again)."""
        try:
            while (event := self.sub.get_nowait()) is not None:
                # The inbox can only have overflowed while this loop was busy sending: check
                # between events.
                if self.sub.overflowed:
                    log.warning(
                        "closing a slow %s socket: %d events queued",
                        "agent" if self.for_agent else "visitor",
                        self.sub.pending(),
                    )
                    await self.close(CLOSE_TOO_SLOW, "too slow; resume from your last seq")
                    return
                await self._handle_event(event)
        except Exception:
            # The client resumes by seq and reads the database; the socket is not kept half-fed.
            log.exception("error forwarding an event; closing the socket")
            await self.close(CLOSE_TOO_SLOW, "resume from your last seq")
        finally:
            self._pump = None

    async def stop_pump(self) -> None:
        """Cancel the pump if it runs (the socket is going)."""
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump

    async def _handle_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == CATCH_UP:
            cid = event["conversation_id"]
            self.last_seq[cid] = event["after"]
            await self._catch_up(cid)
        elif kind == BEHIND:
            await self._catch_up(event["conversation_id"])
        elif kind == RESYNC:
            for cid in list(self.last_seq):
                await self._catch_up(cid)
            await self._reread_queue_place()
            if self.for_agent:
                await self.send({"type": "resync"})
        elif kind == "message":
            await self._deliver_message(event)
        elif kind == QUEUE_EVENT:
            if (fresh := queue_update(self.state, event)) is not None:
                self.state = fresh
                await self.send(fresh)
        elif self._unwatched(event):
            return
        elif kind == "typing":
            # Each side sees the other side typing, never its own echo.
            if (event.get("sender") == "visitor") == self.for_agent:
                await self.send(event)
        elif kind is not None and not kind.startswith("_"):
            visitor_state = kind == "state" and not self.for_agent
            was_queued = QUEUE_CHANNEL in self.sub.channels
            if visitor_state:
                self.state = event
            await self.send(event)
            if visitor_state and not was_queued and QUEUE_CHANNEL in self.sub.channels:
                # Just queued: a broadcast published before the subscription was missed.
                await self._reread_queue_place()

    async def _reread_queue_place(self) -> None:
        """A queued visitor's place and wait, read again (a bus outage may have lost broadcasts)."""
        if self.for_agent or self.state is None or self.state.get("state") != "queued":
            return
        async with self.read_session() as session:
            conv = await get_conversation(
                session=session, conversation_id=self.state["conversation_id"]
            )
            fresh = await visitor_state(session=session, conv=conv)
        if fresh != self.state:
            self.state = fresh
            await self.send(fresh)

    def _unwatched(self, event: dict[str, Any]) -> bool:
        """A visitor's event about a conversation subscribed to but not watched (read at hello)."""
        cid = event.get("conversation_id")
        return not self.for_agent and cid is not None and cid not in self.last_seq

    def _visible(self, sender: str) -> bool:
        return self.for_agent or sender != Sender.NOTE

    async def _deliver_message(self, event: dict[str, Any]) -> None:
        cid, seq = event["conversation_id"], event["seq"]
        last = self.last_seq.get(cid)
        if last is None or seq <= last:
            return  # not watching, or already sent (e.g. during a catch-up)
        if seq == last + 1:
            self.last_seq[cid] = seq
            if self._visible(event["sender"]):
                await self.send(event)
        else:
            await self._catch_up(cid)

    async def _catch_up(self, cid: int) -> None:
        while cid in self.last_seq and not self._closed:
            async with self.read_session() as session:
                # Notes are read for visitors too (and skipped) so last_seq reaches the
                # conversation's last seq and the sweep does not see this socket as behind.
                missed = await messages_after(
                    session=session,
                    conversation_id=cid,
                    after_seq=self.last_seq[cid],
                    include_notes=True,
                    limit=CATCH_UP_PAGE,
                )
            for msg in missed:
                if cid not in self.last_seq or msg.seq <= self.last_seq[cid]:
                    continue
                self.last_seq[cid] = msg.seq
                if self._visible(str(msg.sender)):
                    await self.send(message_event(msg))
            if len(missed) < CATCH_UP_PAGE:
                return

    def in_flight(self, finish: Coroutine[Any, Any, None], ref: str | None) -> None:
        """Finish a frame's work (await the commit, confirm) while the next frames are read;
        its errors become error frames about `ref`, as in `serve`."""
        task = asyncio.create_task(self._reported(finish, ref))
        if self._in_flight is None:
            self._in_flight = set()
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _reported(self, work: Awaitable[None], ref: str | None) -> None:
        try:
            await work
        except DOMAIN_ERROR_TYPES as exc:
            await self.send_domain_error(exc, ref)
        except Exception:
            log.exception("error finishing a frame")
            await self.send_error("internal_error", "something went wrong; try again", ref)

    async def serve(self, handle: Handle, adapter: TypeAdapter[Any]) -> None:
        """Read frames until the peer goes (or, silent, is closed by the hub); each is handled
        before the next is read.

        A handler may leave the end of its work `in_flight` (at most MAX_IN_FLIGHT at once).
        """
        try:
            await self._serve(handle, adapter)
        finally:
            if self._in_flight:
                await asyncio.wait(set(self._in_flight), timeout=IN_FLIGHT_DRAIN_S)

    async def _serve(self, handle: Handle, adapter: TypeAdapter[Any]) -> None:
        while not self._closed:
            if self._in_flight is not None and len(self._in_flight) >= MAX_IN_FLIGHT:
                await asyncio.wait(set(self._in_flight), return_when=asyncio.FIRST_COMPLETED)
            # Nothing of the last frame stays referenced while an idle socket waits here.
            if not await self._one_frame(await self.ws.receive(), handle, adapter):
                return

    async def _one_frame(
        self, message: Message, handle: Handle, adapter: TypeAdapter[Any]
    ) -> bool:
        """Handle one client message; False when it says the peer is gone."""
        self.last_heard = asyncio.get_running_loop().time()
        if message["type"] == "websocket.disconnect":
            return False
        frame = None
        try:
            frame = parse_frame(message.get("text", message.get("bytes")), adapter)
            if isinstance(frame, Ping):
                await self.send({"type": "pong"})
            elif isinstance(frame, Hello):
                raise FrameError("invalid_frame", "already said hello")
            await handle(frame)
        except FrameError as exc:
            await self.send_error(exc.code, exc.message, exc.ref)
        except DOMAIN_ERROR_TYPES as exc:
            await self.send_domain_error(exc, ref_of(frame))
        except Exception:
            # One bad frame must not cost the visitor their connection; it is logged.
            log.exception("error handling a %s frame", getattr(frame, "type", "?"))
            await self.send_error(
                "internal_error", "something went wrong; try again", ref_of(frame)
            )
        return True
