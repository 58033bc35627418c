"""A real webhook receiver for tests: an HTTP server on 127.0.0.1 (in a thread) that records
every request, and the signature check exactly as docs/integrations.md prints it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parents[1] / "docs" / "integrations.md"


def documented_verify() -> Callable[..., dict[str, Any]]:
    """`verify(secret, headers, body, now=None)` from the docs' Python receiver, run as is."""
    text = DOCS.read_text()
    section = text[text.index("## Webhooks") :]
    block = re.search(r"```python\n(.*?)```", section, re.S)
    assert block is not None, "docs/integrations.md has no Python receiver"
    namespace: dict[str, Any] = {"__name__": "docs_receiver"}
    exec(compile(block.group(1), str(DOCS), "exec"), namespace)  # noqa: S102 - our own docs
    verify: Callable[..., dict[str, Any]] = namespace["verify"]
    return verify


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    answered: int

    @property
    def event(self) -> dict[str, Any]:
        event: dict[str, Any] = json.loads(self.body)
        return event


class Receiver:
    """Answers `status_for(n)` to the n-th request (0-based) after `delay_s`; keeps them all."""

    def __init__(
        self, status_for: Callable[[int], int] = lambda n: 204, delay_s: float = 0.0
    ) -> None:
        self.status_for, self.delay_s = status_for, delay_s
        self.requests: list[Received] = []
        self.arrived: list[Received] = []  # as soon as a request arrives (answered: 0)
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k: v for k, v in self.headers.items()}
                with receiver._lock:
                    n = len(receiver.arrived)
                    receiver.arrived.append(Received(headers, body, 0))
                time.sleep(receiver.delay_s)
                answered = receiver.status_for(n)
                with contextlib.suppress(OSError):  # the sender may be gone (killed)
                    self.send_response(answered)
                    self.end_headers()
                with receiver._lock:
                    receiver.requests.append(Received(headers, body, answered))

            def log_message(self, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def snapshot(self) -> list[Received]:
        """The requests answered so far."""
        with self._lock:
            return list(self.requests)

    def arrivals(self) -> list[Received]:
        """Every request that arrived, answered or not (yet)."""
        with self._lock:
            return list(self.arrived)

    async def until(
        self, done: Callable[[list[Received]], bool], timeout_s: float = 30.0
    ) -> list[Received]:
        """Wait until `done(requests so far)`; the requests."""
        deadline = time.monotonic() + timeout_s
        while not done(got := self.snapshot()):
            if time.monotonic() > deadline:
                raise AssertionError(f"receiver: condition not met; got {describe(got)}")
            await asyncio.sleep(0.05)
        return got


def describe(requests: list[Received]) -> list[tuple[str, int]]:
    return [(r.headers.get("X-Chatdesk-Event", "?"), r.answered) for r in requests]


def types(requests: list[Received]) -> Iterator[str]:
    return (r.event["type"] for r in requests)
