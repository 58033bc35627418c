"""Every live socket of this process: its lifetime, graceful shutdown and the delivery sweep."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Coroutine, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.websockets import WebSocketDisconnect

from app.ws.connection import (
    BEHIND,
    CLOSE_IDLE,
    CLOSE_NORMAL,
    CLOSE_POLICY,
    CLOSE_RESTART,
    IDLE_TIMEOUT_S,
    Connection,
)
from handoff import logins, team
from handoff.agents import login_still_valid
from handoff.bus import RESYNC, Bus
from handoff.events import LOGINS_CHANNEL
from handoff.metrics import OPEN_SOCKETS
from handoff.models import Conversation

log = logging.getLogger(__name__)

# Safety net under the bus: this often each replica compares what its sockets have sent with
# the database, so an event lost with a replica killed between commit and publish (or during
# a Redis outage) is delivered within seconds anyway. One indexed query per replica per sweep.
SWEEP_S = 3.0
SWEEP_BATCH = 1000  # conversation ids per sweep query, well under any bind-parameter limit


class Hub:
    """Every live socket of this process: for graceful shutdown, presence and the sweep."""

    def __init__(self) -> None:
        self.connections: set[Connection] = set()
        self.replica_id = uuid.uuid4().hex  # names this process in the presence table
        self.draining = False  # set on shutdown: readiness fails, new sockets are refused
        self._closing: set[asyncio.Task[None]] = set()
        # Each open agent console: whose, when its login was issued (logins_ended), and the
        # login token's id (login_revoked: that token was logged out).
        self.agent_logins: dict[Connection, tuple[int, datetime, str]] = {}

    async def run(self, conn: Connection, body: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run one socket's reader `body` in this task until the peer goes or the socket is
        closed (then the reader reads the disconnect after the frame it is handling); then
        clean up. The socket's pump runs beside it only while events wait."""
        self.connections.add(conn)
        sockets = OPEN_SOCKETS.labels("agent" if conn.for_agent else "visitor")
        sockets.inc()
        try:
            with contextlib.suppress(WebSocketDisconnect):
                await body()
        finally:
            sockets.dec()
            conn.sub.close()
            self.connections.discard(conn)
            self.agent_logins.pop(conn, None)
            await conn.stop_pump()
            await conn.close(CLOSE_NORMAL, "bye")

    async def close_all(self) -> None:
        """Graceful shutdown: every client is told to reconnect (elsewhere) with 1012."""
        self.draining = True
        await asyncio.gather(
            *(c.close(CLOSE_RESTART, "server restarting") for c in list(self.connections)),
            return_exceptions=True,
        )

    def close_idle(self) -> None:
        """Close every socket whose client has sent nothing (not even a ping) for too long."""
        silent_since = asyncio.get_running_loop().time() - IDLE_TIMEOUT_S
        for conn in [c for c in self.connections if c.last_heard < silent_since]:
            self._close_soon(conn, CLOSE_IDLE, "no heartbeat")

    def _close_soon(self, conn: Connection, code: int, reason: str) -> None:
        # In a task of its own: a close waits for a frame being sent, never the caller.
        task = asyncio.create_task(conn.close(code, reason))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def end_logins(self, agent_id: int, before: datetime) -> int:
        """Log out this agent's consoles whose login is older than `before` (1008: the console
        shows its log in form); how many."""
        return self._log_out(
            conn
            for conn, (aid, issued_at, _) in self.agent_logins.items()
            if aid == agent_id and issued_at < before
        )

    def end_login(self, jti: str) -> int:
        """Log out the consoles that use this (logged out) login token; how many."""
        return self._log_out(c for c, (_, _, j) in self.agent_logins.items() if j == jti)

    def _log_out(self, conns: Iterable[Connection]) -> int:
        ended = list(conns)
        for conn in ended:
            self.agent_logins.pop(conn, None)
            self._close_soon(conn, CLOSE_POLICY, "logged out")
        return len(ended)

    async def end_logins_forever(
        self, bus: Bus, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        """Act on every replica's `logins_ended` (handoff/team.py); after a bus outage, check
        every open console's login against the database instead."""
        sub = bus.subscribe()
        sub.add(LOGINS_CHANNEL)
        try:
            while True:
                event = await sub.get()
                if event.get("type") == "logins_ended":
                    self.end_logins(event["agent_id"], datetime.fromisoformat(event["before"]))
                if event.get("type") == "login_revoked":
                    self.end_login(event["jti"])
                if event.get("type") == RESYNC or sub.overflowed:
                    sub.overflowed = False
                    try:
                        await self.recheck_logins(sessions)
                    except Exception:  # noqa: BLE001 - the database may be restarting
                        log.warning("login recheck failed", exc_info=True)
        finally:
            sub.close()

    async def recheck_logins(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        """Close every open console whose login was ended meanwhile (one query)."""
        ids = sorted({aid for aid, _, _ in self.agent_logins.values()})
        jtis = sorted({jti for _, _, jti in self.agent_logins.values()})
        async with sessions() as session:
            found = await team.agents_by_id(session=session, agent_ids=ids)
            revoked = await logins.revoked_among(session=session, jtis=jtis)
        self._log_out(
            conn
            for conn, (aid, issued_at, jti) in self.agent_logins.items()
            if (agent := found.get(aid)) is None
            or not login_still_valid(agent, issued_at=issued_at)
            or jti in revoked
        )

    async def sweep_forever(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        """Close silent sockets, and wake every socket that is behind the database (SWEEP_S)."""
        while True:
            await asyncio.sleep(SWEEP_S)
            self.close_idle()
            try:
                await self.sweep(sessions)
            except Exception:  # noqa: BLE001 - the database may be restarting; try again
                log.warning("sweep failed; retrying in %.0fs", SWEEP_S, exc_info=True)

    async def sweep(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        """One sweep: each socket behind a conversation's last seq catches up."""
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
                    conn.sub.offer({"type": BEHIND, "conversation_id": cid})
