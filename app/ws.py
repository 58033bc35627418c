"""Websocket endpoints: parse frames, authorise, call one service, send. See docs/protocol.md."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi import APIRouter, WebSocket
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.websockets import WebSocketDisconnect, WebSocketState

from app.identity import origin_allowed, verify_identity
from app.schemas import (
    MAX_FRAME_BYTES,
    MAX_TEXT_BYTES,
    Choice,
    Feedback,
    Handoff,
    Hello,
    LeaveEmail,
    Note,
    Ping,
    Rate,
    RequestTicket,
    SendMessage,
    SetStatus,
    Transcript,
    Typing,
    Unwatch,
    Watch,
    agent_frames,
    visitor_frames,
)
from handoff import agents as agent_service
from handoff import conversations as chat
from handoff import feedback, tickets
from handoff.bus import AGENT_QUEUE_MAX, RESYNC, SUBSCRIPTION_QUEUE_MAX, Subscription
from handoff.errors import Conflict, Forbidden, Invalid, NotFound
from handoff.events import AGENTS_CHANNEL, conversation_channel, message_event
from handoff.messages import messages_after
from handoff.models import Agent, AgentStatus, Conversation, Sender
from handoff.states import IllegalTransition

log = logging.getLogger(__name__)
router = APIRouter()

HEARTBEAT_S = 25  # clients ping this often: below the common 30 s proxy idle cut-off
IDLE_TIMEOUT_S = 60  # two missed heartbeats and a bit: the peer is gone
HELLO_TIMEOUT_S = 10  # a socket that never says hello holds no resources for long
SEND_TIMEOUT_S = 10  # a peer that cannot take one frame in this long is too slow
CATCH_UP_PAGE = 500  # messages per database read while resuming
CLOSE_RESTART = 1012  # service restart: reconnect (elsewhere) with backoff
CLOSE_TOO_SLOW = 1013  # try again later: resume by seq
CLOSE_POLICY = 1008  # bad credentials or a hello that never came
CLOSE_IDLE = 1001
# Safety net under the bus: this often each replica compares what its sockets have sent with
# the database, so an event lost with a replica killed between commit and publish (or during
# a Redis outage) is delivered within seconds anyway. One indexed query per replica per sweep.
SWEEP_S = 3.0
SWEEP_BATCH = 1000  # conversation ids per sweep query, well under any bind-parameter limit
DRAIN_S = 5.0  # after the socket closes, a frame being handled gets this long to commit

ERROR_CODES: dict[type[Exception], str] = {
    NotFound: "not_found",
    Forbidden: "forbidden",
    Conflict: "conflict",
    IllegalTransition: "conflict",
    Invalid: "invalid",
}


def error_code(exc: Exception) -> str:
    """The protocol's error code for a domain error."""
    return next(code for cls, code in ERROR_CODES.items() if isinstance(exc, cls))


class FrameError(Exception):
    """A client frame we refuse; the connection stays open."""

    def __init__(self, code: str, message: str, ref: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.ref = code, message, ref


def parse_frame(raw: str | bytes | None, adapter: Any) -> Any:
    """Decode and validate one client frame, or raise FrameError with a precise code."""
    if raw is None or isinstance(raw, bytes):
        raise FrameError("bad_frame", "frames are JSON text, not binary")
    if len(raw.encode()) > MAX_FRAME_BYTES:
        raise FrameError("too_large", f"frame is over {MAX_FRAME_BYTES} bytes")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise FrameError("bad_json", f"not JSON: {exc.msg}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise FrameError("bad_frame", "a frame is a JSON object with a string 'type'")
    ref = data.get("client_msg_id") if isinstance(data.get("client_msg_id"), str) else None
    try:
        frame = adapter.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] == "union_tag_invalid":
            raise FrameError("unknown_type", f"unknown frame type {data['type']!r}", ref) from exc
        where = ".".join(str(p) for p in first["loc"][1:]) or "frame"
        raise FrameError("invalid_frame", f"{where}: {first['msg']}", ref) from exc
    text = getattr(frame, "text", None)
    if isinstance(text, str):
        if len(text.encode()) > MAX_TEXT_BYTES:
            raise FrameError("too_long", f"text is over {MAX_TEXT_BYTES} bytes", ref)
        if not text.strip():
            raise FrameError("invalid_frame", "text: must not be empty", ref)
    return frame


class Hub:
    """Every live socket of this process: for graceful shutdown, presence and the sweep."""

    def __init__(self) -> None:
        self.connections: set[Connection] = set()
        self.agent_sockets: dict[int, int] = {}
        self.replica_id = uuid.uuid4().hex  # names this process in the presence table
        self.draining = False  # set on shutdown: readiness fails, new sockets are refused

    async def close_all(self) -> None:
        """Graceful shutdown: every client is told to reconnect (elsewhere) with 1012."""
        self.draining = True
        await asyncio.gather(
            *(c.close(CLOSE_RESTART, "server restarting") for c in list(self.connections)),
            return_exceptions=True,
        )

    async def sweep_forever(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        """Wake every socket that is behind the database (see SWEEP_S)."""
        while True:
            await asyncio.sleep(SWEEP_S)
            try:
                await self.sweep(sessions)
            except Exception:  # noqa: BLE001 - the database may be restarting; try again
                log.warning("sweep failed; retrying in %.0fs", SWEEP_S, exc_info=True)

    async def sweep(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        watched = sorted({cid for c in self.connections for cid in c.last_seq})
        latest: dict[int, int] = {}
        async with sessions() as session:
            for start in range(0, len(watched), SWEEP_BATCH):
                ids = watched[start : start + SWEEP_BATCH]
                rows = await session.execute(
                    select(Conversation.id, Conversation.last_seq).where(Conversation.id.in_(ids))
                )
                latest.update({cid: seq for cid, seq in rows})
        for conn in list(self.connections):
            for cid, seen in list(conn.last_seq.items()):
                if latest.get(cid, 0) > seen:
                    conn.sub.offer({"type": "_behind", "conversation_id": cid})


class Connection:
    """One websocket: a reader (client frames) and a pump (bus events), one send lock."""

    def __init__(self, ws: WebSocket, *, for_agent: bool) -> None:
        self.ws = ws
        self.app = ws.app
        self.id = uuid.uuid4().hex
        self.for_agent = for_agent
        self.sub: Subscription = self.app.state.bus.subscribe(
            AGENT_QUEUE_MAX if for_agent else SUBSCRIPTION_QUEUE_MAX
        )
        # conversation id -> highest seq handled (sent, or skipped as a note for visitors)
        self.last_seq: dict[int, int] = {}
        self._send_lock = asyncio.Lock()
        self._closed = False

    @property
    def bus(self) -> Any:
        return self.app.state.bus

    def session(self) -> AsyncSession:
        return self.app.state.sessions()  # type: ignore[no-any-return]

    async def send(self, frame: dict[str, Any]) -> None:
        async with self._send_lock:
            if self._closed:
                return
            try:
                await asyncio.wait_for(self.ws.send_text(json.dumps(frame)), SEND_TIMEOUT_S)
            except TimeoutError:
                log.warning("closing a socket that took over %ss to take one frame", SEND_TIMEOUT_S)
                await self._close_locked(CLOSE_TOO_SLOW, "too slow")
            except Exception:  # noqa: BLE001 - the peer is gone; it resumes by seq elsewhere
                self._closed = True

    async def send_error(self, code: str, message: str, ref: str | None = None) -> None:
        await self.send({"type": "error", "code": code, "message": message, "ref": ref})

    async def close(self, code: int, reason: str) -> None:
        async with self._send_lock:
            await self._close_locked(code, reason)

    async def _close_locked(self, code: int, reason: str) -> None:
        if self._closed:
            return
        self._closed = True
        if self.ws.application_state == WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await self.ws.close(code, reason)

    def watch(self, conversation_id: int, after_seq: int) -> None:
        """Subscribe first, then let the pump read the database: nothing falls in between."""
        self.sub.add(conversation_channel(conversation_id))
        self.sub.offer(
            {"type": "_catch_up", "conversation_id": conversation_id, "after": after_seq}
        )

    def unwatch(self, conversation_id: int) -> None:
        self.sub.remove(conversation_channel(conversation_id))
        self.last_seq.pop(conversation_id, None)

    async def pump(self) -> None:
        """Forward bus events in seq order, reading the database for anything missed."""
        while True:
            get = asyncio.ensure_future(self.sub.queue.get())
            overflow = asyncio.ensure_future(self.sub.overflowed.wait())
            try:
                await asyncio.wait({get, overflow}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                get.cancel()
                overflow.cancel()
            if overflow.done() and not overflow.cancelled():
                log.warning(
                    "closing a slow %s socket: %d events queued",
                    "agent" if self.for_agent else "visitor",
                    self.sub.queue.qsize(),
                )
                await self.close(CLOSE_TOO_SLOW, "too slow; resume from your last seq")
                return
            await self._handle_event(get.result())

    async def _handle_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "_catch_up":
            cid = event["conversation_id"]
            self.last_seq[cid] = event["after"]
            await self._catch_up(cid)
        elif kind == "_behind":
            await self._catch_up(event["conversation_id"])
        elif kind == RESYNC:
            for cid in list(self.last_seq):
                await self._catch_up(cid)
            if self.for_agent:
                await self.send({"type": "resync"})
        elif kind == "message":
            await self._deliver_message(event)
        elif kind == "typing":
            if (event.get("sender") == "visitor") == self.for_agent:
                await self.send(event)
        elif kind is not None and not kind.startswith("_"):
            await self.send(event)

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
            async with self.session() as session:
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

    async def serve(self, handle: Callable[[Any], Awaitable[None]], adapter: Any) -> None:
        """Read frames until the peer goes; each is handled before the next is read."""
        while not self._closed:
            try:
                message = await asyncio.wait_for(self.ws.receive(), IDLE_TIMEOUT_S)
            except TimeoutError:
                await self.close(CLOSE_IDLE, "no heartbeat")
                return
            if message["type"] == "websocket.disconnect":
                return
            frame = None
            try:
                frame = parse_frame(message.get("text", message.get("bytes")), adapter)
                if isinstance(frame, Ping):
                    await self.send({"type": "pong"})
                await handle(frame)
            except FrameError as exc:
                await self.send_error(exc.code, exc.message, exc.ref)
            except tuple(ERROR_CODES) as exc:
                await self.send_error(error_code(exc), str(exc), _ref(frame))
            except Exception:
                # One bad frame must not cost the visitor their connection; it is logged.
                log.exception("error handling a %s frame", getattr(frame, "type", "?"))
                await self.send_error(
                    "internal_error", "something went wrong; try again", _ref(frame)
                )


def _ref(frame: Any) -> str | None:
    return getattr(frame, "client_msg_id", None)


async def _receive_hello(conn: Connection, adapter: Any) -> Hello | None:
    try:
        message = await asyncio.wait_for(conn.ws.receive(), HELLO_TIMEOUT_S)
    except TimeoutError:
        await conn.close(CLOSE_POLICY, "say hello first")
        return None
    if message["type"] == "websocket.disconnect":
        return None
    try:
        frame = parse_frame(message.get("text", message.get("bytes")), adapter)
    except FrameError as exc:
        await conn.send_error(exc.code, exc.message)
        await conn.close(CLOSE_POLICY, "say hello first")
        return None
    if not isinstance(frame, Hello):
        await conn.send_error("hello_required", "the first frame must be hello")
        await conn.close(CLOSE_POLICY, "say hello first")
        return None
    return frame


async def _run(conn: Connection, body: Callable[[], Coroutine[Any, Any, None]]) -> None:
    hub: Hub = conn.app.state.hub
    hub.connections.add(conn)
    pump: asyncio.Task[None] | None = None
    try:
        pump = asyncio.create_task(conn.pump(), name="socket-pump")
        body_task = asyncio.create_task(body(), name="socket-reader")
        await asyncio.wait({pump, body_task}, return_when=asyncio.FIRST_COMPLETED)
        if not body_task.done():
            # The pump closed the socket (too slow, restart): let a frame being handled
            # finish its commit rather than cancel it halfway; the client resends otherwise.
            await conn.close(CLOSE_TOO_SLOW, "too slow; resume from your last seq")
            await asyncio.wait({body_task}, timeout=DRAIN_S)
        for task in (pump, body_task):
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
                    await task
            elif not task.cancelled():
                with contextlib.suppress(WebSocketDisconnect):
                    task.result()
    finally:
        conn.sub.close()
        hub.connections.discard(conn)
        await conn.close(1000, "bye")


# --- visitors ----------------------------------------------------------------------------


@router.websocket("/ws/visitor")
async def visitor_socket(ws: WebSocket) -> None:
    if ws.app.state.hub.draining:
        await ws.close(CLOSE_RESTART, "server restarting")
        return
    if not origin_allowed(ws.headers.get("origin"), ws.app.state.settings.allowed_origins):
        await ws.close(CLOSE_POLICY, "origin not allowed")  # before accept: HTTP 403
        return
    await ws.accept()
    conn = Connection(ws, for_agent=False)
    await _run(conn, lambda: _visitor_session(conn))


async def _visitor_session(conn: Connection) -> None:
    hello = await _receive_hello(conn, visitor_frames)
    if hello is None:
        return
    app = conn.app
    tokens = app.state.tokens
    visitor_id = tokens.visitor_id(hello.token) if hello.token else None
    if hello.token and visitor_id is None:
        await conn.send_error("invalid_token", "unknown visitor token; starting a new visitor")
    async with conn.session() as session:
        if visitor_id is None:
            visitor = await chat.create_visitor(
                session=session, name=hello.name, locale=hello.locale, page_url=hello.page_url
            )
            visitor_id = visitor.id
        if hello.identity is not None:
            verified = verify_identity(hello.identity, secret=app.state.settings.identity_secret)
            if verified is None:
                await conn.send_error("invalid_identity", "identity did not verify; ignored")
            else:
                await chat.update_visitor_profile(
                    session=session, visitor_id=visitor_id, name=verified.name, email=verified.email
                )
        conv = await chat.open_conversation(session=session, visitor_id=visitor_id)
        if hello.conversation_id is not None and hello.conversation_id != conv.id:
            owner = await session.get(chat.Conversation, hello.conversation_id)
            if owner is None or owner.visitor_id != visitor_id:
                await conn.send_error("forbidden", "that conversation is not yours")
        after = hello.last_seq if hello.conversation_id == conv.id else 0
        state = await chat.visitor_state(session=session, conv=conv)
    current = {"id": conv.id}

    async def welcome(conversation_id: int, after_seq: int, state: dict[str, Any]) -> None:
        for cid in list(conn.last_seq):
            conn.unwatch(cid)
        await conn.send(
            {
                "type": "welcome",
                "token": tokens.for_visitor(visitor_id),
                "visitor_id": visitor_id,
                "conversation_id": conversation_id,
                "heartbeat_s": HEARTBEAT_S,
                "state": state,
            }
        )
        conn.watch(conversation_id, after_seq)
        current["id"] = conversation_id

    await welcome(conv.id, after, state)
    settings = app.state.settings
    routing = settings.routing()

    async def ensure_open(session: AsyncSession) -> int:
        """A message after close starts a new conversation (and a fresh welcome)."""
        conv = await chat.open_conversation(session=session, visitor_id=visitor_id)
        if conv.id != current["id"]:
            await welcome(conv.id, 0, await chat.visitor_state(session=session, conv=conv))
        return conv.id

    async def handle(frame: Any) -> None:
        if isinstance(frame, Ping):
            return
        async with conn.session() as session:
            if isinstance(frame, SendMessage):
                cid = await ensure_open(session)
                posted = await chat.post_visitor_message(
                    session=session,
                    bus=conn.bus,
                    conversation_id=cid,
                    client_msg_id=frame.client_msg_id,
                    text=frame.text.strip(),
                )
                await conn.send(_ack(posted))
                await chat.bot_turn(
                    session=session,
                    bus=conn.bus,
                    brain=app.state.brain,
                    conversation_id=cid,
                    text=frame.text,
                    routing=routing,
                    answering_seq=posted.message.seq,
                )
            elif isinstance(frame, Choice):
                cid = await ensure_open(session)
                posted = await chat.choose_option(
                    session=session,
                    bus=conn.bus,
                    brain=app.state.brain,
                    conversation_id=cid,
                    client_msg_id=frame.client_msg_id,
                    entry_id=frame.entry_id,
                    routing=routing,
                )
                await conn.send(_ack(posted))
            elif isinstance(frame, Handoff):
                cid = await ensure_open(session)
                posted = await chat.request_human(
                    session=session,
                    bus=conn.bus,
                    conversation_id=cid,
                    client_msg_id=frame.client_msg_id,
                    routing=routing,
                )
                await conn.send(_ack(posted))
            elif isinstance(frame, LeaveEmail):
                await chat.leave_email(
                    session=session,
                    bus=conn.bus,
                    visitor_id=visitor_id,
                    conversation_id=current["id"],
                    email=frame.email,
                )
            elif isinstance(frame, Feedback):
                await feedback.record_helpful(
                    session=session,
                    conversation_id=current["id"],
                    seq=frame.seq,
                    helpful=frame.helpful,
                )
                await conn.send({"type": "feedback_saved", "seq": frame.seq})
            elif isinstance(frame, Rate):
                await feedback.rate(
                    session=session, visitor_id=visitor_id, stars=frame.stars, comment=frame.comment
                )
                await conn.send({"type": "rating_saved"})
            elif isinstance(frame, RequestTicket):
                posted = await tickets.request_ticket(
                    session=session,
                    bus=conn.bus,
                    conversation_id=current["id"],
                    client_msg_id=frame.client_msg_id,
                    routing=routing,
                )
                await conn.send(_ack(posted))
            elif isinstance(frame, Transcript):
                email = await feedback.email_transcript(
                    session=session,
                    mail=settings.mail(),
                    conversation_id=current["id"],
                    email=frame.email,
                )
                await conn.send({"type": "transcript_sent", "email": email})
            elif isinstance(frame, Typing):
                await chat.visitor_typing(
                    session=session, bus=conn.bus, conversation_id=current["id"], draft=frame.draft
                )
            elif isinstance(frame, Hello):
                raise FrameError("invalid_frame", "already said hello")

    await conn.serve(handle, visitor_frames)


def _ack(posted: chat.Posted) -> dict[str, Any]:
    msg = posted.message
    return {
        "type": "ack",
        "conversation_id": msg.conversation_id,
        "client_msg_id": msg.client_msg_id,
        "seq": msg.seq,
        "duplicate": posted.duplicate,
    }


# --- agents ------------------------------------------------------------------------------


@router.websocket("/ws/agent")
async def agent_socket(ws: WebSocket) -> None:
    if ws.app.state.hub.draining:
        await ws.close(CLOSE_RESTART, "server restarting")
        return
    await ws.accept()
    conn = Connection(ws, for_agent=True)
    await _run(conn, lambda: _agent_session(conn))


async def _agent_session(conn: Connection) -> None:
    hello = await _receive_hello(conn, agent_frames)
    if hello is None:
        return
    app = conn.app
    agent_id = app.state.tokens.agent_id(hello.token) if hello.token else None
    async with conn.session() as session:
        agent = await session.get(Agent, agent_id) if agent_id is not None else None
    if agent is None:
        await conn.send_error("invalid_token", "log in again")
        await conn.close(CLOSE_POLICY, "invalid token")
        return
    hub: Hub = app.state.hub
    hub.agent_sockets[agent.id] = hub.agent_sockets.get(agent.id, 0) + 1
    try:
        # Online, unless another of the agent's consoles is open while they are away: a new
        # tab must not bring them back (set_presence's heartbeat rule).
        await _presence(conn, agent.id, None)
        await _drain(conn)  # an agent coming online takes waiting chats (auto routing)
        conn.sub.add(AGENTS_CHANNEL)
        await conn.send({"type": "welcome", "agent_id": agent.id, "heartbeat_s": HEARTBEAT_S})

        async def handle(frame: Any) -> None:
            if isinstance(frame, Ping):
                await _presence(conn, agent.id, None, announce=False)
            elif isinstance(frame, SetStatus):
                await _presence(conn, agent.id, AgentStatus(frame.status))
                await conn.send({"type": "status", "status": frame.status})
                if frame.status == AgentStatus.ONLINE:
                    await _drain(conn)
            elif isinstance(frame, Watch):
                async with conn.session() as session:
                    await chat.get_conversation(
                        session=session, conversation_id=frame.conversation_id
                    )
                conn.watch(frame.conversation_id, frame.last_seq)
            elif isinstance(frame, Unwatch):
                conn.unwatch(frame.conversation_id)
            elif isinstance(frame, SendMessage | Note):
                if frame.conversation_id is None:
                    raise FrameError(
                        "invalid_frame", "conversation_id: Field required", frame.client_msg_id
                    )
                async with conn.session() as session:
                    posted = await chat.post_agent_message(
                        session=session,
                        bus=conn.bus,
                        conversation_id=frame.conversation_id,
                        agent=agent,
                        client_msg_id=frame.client_msg_id,
                        text=frame.text.strip(),
                        note=isinstance(frame, Note),
                    )
                await conn.send(_ack(posted))
            elif isinstance(frame, Typing):
                if frame.conversation_id is None:
                    raise FrameError("invalid_frame", "conversation_id: Field required")
                await chat.agent_typing(
                    bus=conn.bus, conversation_id=frame.conversation_id, agent=agent
                )
            elif isinstance(frame, Hello):
                raise FrameError("invalid_frame", "already said hello")

        await conn.serve(handle, agent_frames)
    finally:
        hub.agent_sockets[agent.id] -= 1
        if hub.agent_sockets[agent.id] == 0:
            del hub.agent_sockets[agent.id]
        with contextlib.suppress(Exception):
            await _presence(conn, agent.id, AgentStatus.OFFLINE)


async def _drain(conn: Connection) -> None:
    """Assign waiting chats to agents with free capacity, in arrival order (auto routing)."""
    async with conn.session() as session:
        await chat.drain_queue(
            session=session, bus=conn.bus, routing=conn.app.state.settings.routing()
        )


async def _presence(
    conn: Connection, agent_id: int, status: AgentStatus | None, announce: bool = True
) -> None:
    """Record this socket's presence; announce the agent's cluster-wide status."""
    hub: Hub = conn.app.state.hub
    async with conn.session() as session:
        effective = await agent_service.set_presence(
            session=session,
            agent_id=agent_id,
            status=status,
            socket_id=conn.id,
            replica_id=hub.replica_id,
            presence_timeout_s=conn.app.state.settings.presence_timeout_s,
        )
        await session.commit()
    if announce:
        await conn.bus.publish_after_commit(
            AGENTS_CHANNEL, {"type": "presence", "agent_id": agent_id, "status": str(effective)}
        )
