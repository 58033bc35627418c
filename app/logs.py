"""Logging: human-readable lines by default, or one JSON object per line to ship to a log store.

`CHATDESK_LOG_FORMAT=json` makes every record (ours, uvicorn's, its access log) one JSON object
with `time`, `level`, `logger`, `message`, and the ids of what it was about: `request_id` (an
HTTP request or a websocket; the client's `X-Request-ID` when it sends a sane one, echoed
back) and `conversation_id` (set while a socket's frame about a conversation is handled).
The ids live in context variables, so a log call needs no extra arguments.
"""

from __future__ import annotations

import contextvars
import copy
import logging
import re
import uuid
from collections.abc import Awaitable
from typing import Any

import uvicorn.config
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOG_FORMATS = ("text", "json")
REQUEST_ID_HEADER = "x-request-id"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
conversation_id: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "conversation_id", default=None
)


class ContextIds(logging.Filter):
    """Puts the current request and conversation ids on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.conversation_id = conversation_id.get()
        record.__dict__.pop("color_message", None)  # uvicorn's coloured copy of the message
        return True


def log_config(fmt: str = "text", level: str = "INFO") -> dict[str, Any]:
    """A logging.config.dictConfig for our loggers, uvicorn's and the access log."""
    if fmt not in LOG_FORMATS:
        raise ValueError(f"log format {fmt!r}: use one of {', '.join(LOG_FORMATS)}")
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)  # uvicorn's own lines, as always
    config["filters"] = {"ids": {"()": ContextIds}}
    config["formatters"]["app"] = {
        "()": "uvicorn.logging.DefaultFormatter",
        "fmt": "%(levelprefix)s %(name)s: %(message)s",
    }
    if fmt == "json":
        json_lines = {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s %(request_id)s %(conversation_id)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",  # ISO 8601, UTC
        }
        config["formatters"] = {name: json_lines for name in ("default", "access", "app")}
    config["handlers"]["app"] = {"class": "logging.StreamHandler", "formatter": "app"}
    for handler in config["handlers"].values():
        handler["stream"] = "ext://sys.stderr"
        handler["filters"] = ["ids"]
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        config["loggers"][name]["level"] = level
    config["root"] = {"handlers": ["app"], "level": level}
    return config


class RequestIds:
    """ASGI middleware: a request id per HTTP request and per websocket, in `request_id`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # A plain call, not a coroutine: a websocket goes straight on to the app, with no frame
        # of ours held for as long as it is open (issue 12). A socket runs in a task of its
        # own for its whole life, in a copy of the context: its id needs no reset.
        if scope["type"] == "http":
            return self._http(scope, receive, send)
        if scope["type"] == "websocket":
            request_id.set(_request_id(scope))
        return self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        rid = _request_id(scope)
        token = request_id.set(rid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).setdefault(REQUEST_ID_HEADER, rid)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id.reset(token)


def _request_id(scope: Scope) -> str:
    """The client's (or proxy's) X-Request-ID when it is sane, a new one otherwise."""
    offered = dict(scope.get("headers") or ()).get(REQUEST_ID_HEADER.encode(), b"").decode(
        "latin-1"
    )
    return offered if _SANE_REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex
