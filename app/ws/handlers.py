"""How a socket's frames reach their handlers: the hello first, then handlers that use the
database each in a session of its own."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from app.ws.connection import CLOSE_POLICY, HELLO_TIMEOUT_S, Connection
from app.ws.frames import FrameError, Hello, parse_frame


class _Socket(Protocol):
    conn: Connection


SocketT = TypeVar("SocketT", bound=_Socket)


def in_session(
    handler: Callable[[SocketT, AsyncSession, Any], Awaitable[None]],
) -> Callable[[SocketT, Any], Awaitable[None]]:
    """A frame handler run in a database session of its own; the hot path's handlers take
    none (creating and closing an unused session per frame cost ~8 % of a reply)."""

    async def run(socket: SocketT, frame: Any) -> None:
        async with socket.conn.session() as session:
            await handler(socket, session, frame)

    return run


async def receive_hello(conn: Connection, adapter: TypeAdapter[Any]) -> Hello | None:
    """The first frame, which must be a hello; None (and the socket closed) otherwise."""
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
