"""How one webhook is sent: the body, its signature, the HTTP client that refuses internal
addresses on connect, the POST and its outcome (handoff/webhook_delivery.py decides when)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpcore
import httpx

from handoff.models import utcnow
from handoff.webhooks import Targets, check_addresses

SIGNATURE_VERSION = "v1"
ERROR_MAX = 500  # characters of an error kept in the log


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of "<timestamp>.<body>" keyed with the endpoint's secret."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(
    *, secret: str, previous: str | None, previous_until: datetime | None, timestamp: int,
    body: bytes,
) -> str:
    """`v1=<hex>`; just after a rotation also the old secret's: `v1=<new>,v1=<old>`."""
    values = [signature(secret, timestamp, body)]
    if previous and previous_until is not None and previous_until > utcnow():
        values.append(signature(previous, timestamp, body))
    return ",".join(f"{SIGNATURE_VERSION}={v}" for v in values)


def body_of(*, event_id: str, type_: str, created_at: datetime, data: Any) -> bytes:
    """The JSON body, the same bytes on every attempt of every endpoint."""
    envelope = {
        "version": 1,
        "id": event_id,
        "type": type_,
        "created_at": created_at.isoformat(),
        "data": data,
    }
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode()


class _PublicOnly(httpcore.AsyncNetworkBackend):
    """Connects only to public addresses, checked on the address actually connected to (a
    name that resolves to a public address when saved and an internal one later is refused)."""

    def __init__(self, targets: Targets) -> None:
        self._targets = targets
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        check_addresses(host, addresses, self._targets)
        return await self._inner.connect_tcp(
            addresses[0], port, timeout=timeout, local_address=local_address,
            socket_options=socket_options,
        )

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None,  # noqa: ASYNC109
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise PermissionError("webhooks go over TCP only")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def make_client(*, timeout_s: float, targets: Targets) -> httpx.AsyncClient:
    """The HTTP client: no redirects, no proxy from the environment, the SSRF guard."""
    transport = httpx.AsyncHTTPTransport(trust_env=False)
    if not targets.allow_private:
        transport._pool = httpcore.AsyncConnectionPool(  # noqa: SLF001 - the guard is below it
            ssl_context=httpx.create_ssl_context(), network_backend=_PublicOnly(targets)
        )
    return httpx.AsyncClient(
        transport=transport,
        follow_redirects=False,
        timeout=httpx.Timeout(timeout_s),
        headers={"User-Agent": "chatdesk-webhooks/1"},
    )


@dataclass(frozen=True)
class Claimed:
    """A delivery this process holds (until its lease ends) and what it needs to POST."""

    id: int
    uuid: str
    attempts: int
    created_at: datetime
    url: str
    secret: str
    previous_secret: str | None
    previous_secret_until: datetime | None
    event_type: str
    body: bytes


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


async def send(
    client: httpx.AsyncClient, claimed: Claimed, *, timeout_s: float, targets: Targets
) -> Outcome:
    """POST one delivery, signed; never raises (the error is the outcome)."""
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "X-Chatdesk-Event": claimed.event_type,
        "X-Chatdesk-Delivery": claimed.uuid,
        "X-Chatdesk-Timestamp": str(timestamp),
        "X-Chatdesk-Signature": signature_header(
            secret=claimed.secret, previous=claimed.previous_secret,
            previous_until=claimed.previous_secret_until, timestamp=timestamp,
            body=claimed.body,
        ),
    }
    started = time.perf_counter()
    code: int | None = None
    error: str | None = None
    try:
        if not targets.allow_http and not claimed.url.startswith("https://"):
            raise PermissionError("only https:// webhook URLs are allowed here")
        async with asyncio.timeout(timeout_s):
            async with client.stream(
                "POST", claimed.url, content=claimed.body, headers=headers
            ) as response:
                code = response.status_code  # the body is not read: we need the status only
        if 300 <= code < 400:
            error = "redirect not followed"
    except Exception as exc:  # noqa: BLE001 - any failure is this attempt's outcome
        error = f"{type(exc).__name__}: {exc}".strip().rstrip(":")[:ERROR_MAX]
    duration_ms = int((time.perf_counter() - started) * 1000)
    return Outcome(code, error, duration_ms)
