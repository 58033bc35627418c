"""A small test client for the chat protocol over a real websocket."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Callable
from typing import Any

import websockets

RECV_TIMEOUT_S = 20  # generous: the shared CI machine may be busy encoding


class ChatClient:
    """One websocket connection; keeps every frame it received, in order."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []
        self._cursor = 0
        self.sent_ids: set[str] = set()  # the client_msg_ids of the frames this client sent

    @classmethod
    async def connect(cls, url: str) -> ChatClient:
        return cls(await websockets.connect(url, max_size=2**20))

    async def send(self, frame: dict[str, Any] | str) -> None:
        parsed = frame
        if isinstance(frame, str):
            with contextlib.suppress(ValueError, RecursionError):  # hostile-input tests
                parsed = json.loads(frame)
        if isinstance(parsed, dict) and isinstance(parsed.get("client_msg_id"), str):
            self.sent_ids.add(parsed["client_msg_id"])
        await self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def say(self, text: str, client_msg_id: str | None = None, **extra: Any) -> str:
        """Send a chat message; returns its client_msg_id."""
        cmid = client_msg_id or uuid.uuid4().hex
        await self.send({"type": "message", "client_msg_id": cmid, "text": text, **extra})
        return cmid

    async def expect(
        self,
        match: Callable[[dict[str, Any]], bool],
        timeout: float = RECV_TIMEOUT_S,  # noqa: ASYNC109 - a test helper's bound, not an API
    ) -> dict[str, Any]:
        """The next not-yet-consumed frame that matches, waiting for it if needed."""

        async def wait() -> dict[str, Any]:
            while True:
                while self._cursor < len(self.frames):
                    frame = self.frames[self._cursor]
                    self._cursor += 1
                    if match(frame):
                        return frame
                self.frames.append(json.loads(await self.ws.recv()))

        return await asyncio.wait_for(wait(), timeout)

    async def expect_type(self, kind: str, **fields: Any) -> dict[str, Any]:
        return await self.expect(
            lambda f: f.get("type") == kind and all(f.get(k) == v for k, v in fields.items())
        )

    def is_ack(self, frame: dict[str, Any], client_msg_id: str | None = None) -> bool:
        """An acknowledgement of a frame this client sent (of `client_msg_id`, if given): an
        `ack`, or our own message coming back, which is its acknowledgement (docs/protocol.md)."""
        cmid = frame.get("client_msg_id")
        if client_msg_id is not None and cmid != client_msg_id:
            return False
        return frame.get("type") == "ack" or (
            frame.get("type") == "message" and cmid in self.sent_ids
        )

    async def expect_ack(self, client_msg_id: str | None = None) -> dict[str, Any]:
        """The next acknowledgement (`is_ack`), as an `ack` frame: `seq`, `duplicate`, ..."""
        return as_ack(await self.expect(lambda f: self.is_ack(f, client_msg_id)))

    async def drain(self, quiet_s: float = 0.3) -> None:
        """Read until nothing arrives for quiet_s seconds."""
        try:
            while True:
                self.frames.append(json.loads(await asyncio.wait_for(self.ws.recv(), quiet_s)))
        except TimeoutError:
            return

    def messages(self, conversation_id: int | None = None) -> list[dict[str, Any]]:
        return [
            f
            for f in self.frames
            if f.get("type") == "message"
            and (conversation_id is None or f["conversation_id"] == conversation_id)
        ]

    async def close(self) -> None:
        await self.ws.close()


def as_ack(frame: dict[str, Any]) -> dict[str, Any]:
    """An acknowledgement (an `ack`, or our own message come back) as the `ack` frame it means."""
    if frame["type"] == "ack":
        return frame
    return {"type": "ack", "conversation_id": frame["conversation_id"],
            "client_msg_id": frame["client_msg_id"], "seq": frame["seq"], "duplicate": False}


async def visitor(server: Any, **hello: Any) -> tuple[ChatClient, dict[str, Any]]:
    """Connect as a visitor; returns the client and its welcome frame."""
    client = await ChatClient.connect(server.ws_url + "/ws/visitor")
    await client.send({"type": "hello", **hello})
    welcome = await client.expect_type("welcome")
    return client, welcome


async def agent(server: Any, token: str) -> ChatClient:
    """Connect as an agent (which marks them online)."""
    client = await ChatClient.connect(server.ws_url + "/ws/agent")
    await client.send({"type": "hello", "token": token})
    await client.expect_type("welcome")
    return client
