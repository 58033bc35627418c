"""The agent console socket (`/ws/agent`): hello with a login token, then one handler per frame."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, WebSocket
from sqlalchemy.ext.asyncio import AsyncSession

from app.identity import agent_origin_allowed
from app.security import login_for_token
from app.ws.connection import CLOSE_POLICY, CLOSE_RESTART, HEARTBEAT_S, Connection
from app.ws.frames import (
    Frame,
    FrameError,
    Note,
    Ping,
    SendMessage,
    SetStatus,
    Typing,
    Unwatch,
    Watch,
    agent_frames,
)
from app.ws.handlers import in_session, receive_hello
from handoff import agent_actions, canned_stats, presence
from handoff.conversations import get_conversation
from handoff.events import AGENTS_CHANNEL
from handoff.models import Agent, AgentStatus
from handoff.routing import Routing
from handoff.writer import MessageWriter, Stored

router = APIRouter()


class AgentSocket:
    """One agent console's socket after hello."""

    def __init__(self, conn: Connection, agent: Agent) -> None:
        self.conn = conn
        self.agent = agent
        self.bus = conn.bus
        self.routing: Routing = conn.app.state.routing
        self.writer: MessageWriter = conn.app.state.writer
        self.console = presence.Console(agent.id, conn.id, conn.app.state.hub.replica_id)

    async def handle(self, frame: Frame) -> None:
        """Dispatch one parsed frame to its handler (in a database session if it uses one)."""
        handler = HANDLERS.get(type(frame))
        if handler is not None:
            await handler(self, frame)

    async def on_ping(self, session: AsyncSession, frame: Ping) -> None:
        await presence.heartbeat(session=session, console=self.console, routing=self.routing)

    async def on_status(self, session: AsyncSession, frame: SetStatus) -> None:
        await presence.set_status(
            session=session,
            bus=self.bus,
            console=self.console,
            status=AgentStatus(frame.status),
            routing=self.routing,
        )
        await self.conn.send({"type": "status", "status": frame.status})

    async def on_watch(self, session: AsyncSession, frame: Watch) -> None:
        await get_conversation(session=session, conversation_id=frame.conversation_id)
        self.conn.watch(frame.conversation_id, frame.last_seq)

    async def on_unwatch(self, frame: Unwatch) -> None:
        self.conn.unwatch(frame.conversation_id)

    async def on_message(self, frame: SendMessage | Note) -> None:
        """A reply or note: submitted to the writer, no session (one only if it is refused)."""
        cid = frame.conversation_id
        if cid is None:
            raise FrameError(
                "invalid_frame", "conversation_id: Field required", frame.client_msg_id
            )
        new = agent_actions.agent_message(
            conversation_id=cid,
            agent=self.agent,
            client_msg_id=frame.client_msg_id,
            text=frame.text.strip(),
            note=isinstance(frame, Note),
        )
        # Queued now, so an agent's messages are stored in the order sent; acknowledged
        # after the commit, while the console's next frames are already being read.
        pending = self.writer.submit(new)
        canned_id = frame.canned_reply_id if isinstance(frame, SendMessage) else None
        self.conn.in_flight(self._acknowledge(pending, cid, canned_id), frame.client_msg_id)

    async def _acknowledge(
        self, pending: Awaitable[Stored | None], conversation_id: int, canned_id: int | None
    ) -> None:
        stored = await pending
        if stored is None:  # refused: a session only to say why
            async with self.conn.session() as session:
                stored = await agent_actions.accepted(
                    session=session, stored=stored, conversation_id=conversation_id
                )
        if canned_id is not None:  # counted once per stored message (a resend is not counted)
            async with self.conn.session() as session:
                await canned_stats.record_use(
                    session=session, canned_reply_id=canned_id, message=stored.message
                )
        await self.conn.confirm(stored)

    async def on_typing(self, session: AsyncSession, frame: Typing) -> None:
        if frame.conversation_id is None:
            raise FrameError("invalid_frame", "conversation_id: Field required")
        await agent_actions.agent_typing(
            session=session, bus=self.bus, conversation_id=frame.conversation_id, agent=self.agent
        )


Handler = Callable[[AgentSocket, Any], Awaitable[None]]
HANDLERS: dict[type[Frame], Handler] = {
    Ping: in_session(AgentSocket.on_ping),
    SetStatus: in_session(AgentSocket.on_status),
    Watch: in_session(AgentSocket.on_watch),
    Unwatch: AgentSocket.on_unwatch,
    SendMessage: AgentSocket.on_message,
    Note: AgentSocket.on_message,
    Typing: in_session(AgentSocket.on_typing),
}


@router.websocket("/ws/agent")
async def agent_socket(ws: WebSocket) -> None:
    """An agent console: refused while draining or from another site's page, then served."""
    if ws.app.state.hub.draining:
        await ws.close(CLOSE_RESTART, "server restarting")
        return
    origin, host = ws.headers.get("origin"), ws.headers.get("host")
    if not agent_origin_allowed(origin, host, ws.app.state.settings.console_origins):
        await ws.close(CLOSE_POLICY, "origin not allowed")  # before accept: HTTP 403
        return
    await ws.accept()
    conn = Connection(ws, for_agent=True)
    await ws.app.state.hub.run(conn, lambda: _serve_agent(conn))


async def _serve_agent(conn: Connection) -> None:
    hello = await receive_hello(conn, agent_frames)
    if hello is None:
        return
    claims = conn.app.state.tokens.agent_claims(hello.token) if hello.token else None
    if claims is not None:
        # Before the database check: a disable or password reset from now on closes this
        # socket (app/ws/hub.py), one committed before it is seen by the check.
        conn.app.state.hub.agent_logins[conn] = (claims.agent_id, claims.issued_at, claims.jti)
    async with conn.session() as session:
        login = await login_for_token(
            session=session, tokens=conn.app.state.tokens, token=hello.token
        )
    if login is None:
        await conn.send_error("invalid_token", "log in again")
        await conn.close(CLOSE_POLICY, "invalid token")
        return
    agent = login.agent
    socket = AgentSocket(conn, agent)
    try:
        async with conn.session() as session:
            await presence.connected(
                session=session, bus=conn.bus, console=socket.console, routing=socket.routing
            )
        conn.sub.add(AGENTS_CHANNEL)
        await conn.send({"type": "welcome", "agent_id": agent.id, "heartbeat_s": HEARTBEAT_S})
        await conn.serve(socket.handle, agent_frames)
    finally:
        with contextlib.suppress(Exception):
            async with conn.session() as session:
                await presence.disconnected(
                    session=session, bus=conn.bus, console=socket.console, routing=socket.routing
                )
