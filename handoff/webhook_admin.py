"""Webhook endpoints as admins manage them: add, change, delete, rotate the secret, send a test
event, read the delivery log, deliver a failed one again. Every change is audited in its commit,
applied to this process's subscriptions at once and announced to the other replicas.
"""

from __future__ import annotations

import asyncio
import ipaddress
import secrets
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import audit
from handoff.bus import Bus
from handoff.errors import Conflict, Invalid, NotFound
from handoff.models import utcnow
from handoff.webhook_models import (
    URL_MAX,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from handoff.webhooks import (
    CHANNEL,
    EVENT_TYPES,
    EVENTS,
    Targets,
    check_addresses,
    refresh,
    test_event_row,
)

SECRET_PREFIX = "whsec_"
ROTATION_GRACE = timedelta(hours=24)  # the old secret signs too for this long after a rotation
DESCRIPTION_MAX = 200
LOG_PAGE = 50  # deliveries per page of the log
RESOLVE_TIMEOUT_S = 5.0


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


async def check_url(url: str, targets: Targets) -> str:
    """The URL, stripped, if webhooks may go there; Invalid says why not."""
    url = url.strip()
    if len(url) > URL_MAX:
        raise Invalid(f"url: at most {URL_MAX} characters")
    try:
        parts = urlsplit(url)
        host, _port = parts.hostname, parts.port
    except ValueError as exc:
        raise Invalid(f"url: not a valid URL ({exc})") from exc
    schemes = ("https", "http") if targets.allow_http else ("https",)
    if parts.scheme not in schemes:
        raise Invalid("url: must start with " + " or ".join(f"{s}://" for s in schemes))
    if not host:
        raise Invalid("url: no host name")
    if parts.username is not None or parts.password is not None:
        raise Invalid("url: no credentials in the URL (the signature tells receivers it is us)")
    if targets.allow_private:
        return url
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            infos = await asyncio.wait_for(
                asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM),
                RESOLVE_TIMEOUT_S,
            )
        except (OSError, TimeoutError) as exc:
            raise Invalid(f"url: {host} does not resolve") from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    try:
        check_addresses(host, addresses, targets)
    except PermissionError as exc:
        allow = "internal receivers need CHATDESK_WEBHOOK_ALLOW_INTERNAL=true"
        raise Invalid(f"url: {exc}; {allow}") from exc
    return url


def check_types(event_types: Sequence[str]) -> list[str]:
    unknown = sorted(set(event_types) - set(EVENT_TYPES))
    if unknown:
        raise Invalid(f"event_types: unknown {', '.join(unknown)}; known: {', '.join(EVENT_TYPES)}")
    if not event_types:
        raise Invalid("event_types: subscribe to at least one")
    return [t for t in EVENT_TYPES if t in event_types]  # the documented order, once each


def _description(text: str | None) -> str | None:
    text = (text or "").strip()
    if len(text) > DESCRIPTION_MAX:
        raise Invalid(f"description: at most {DESCRIPTION_MAX} characters")
    return text or None


async def _changed(*, session: AsyncSession, bus: Bus) -> None:
    await session.commit()
    await refresh(session=session)  # this process at once
    await bus.publish_after_commit(CHANNEL, {"type": "webhooks"})


async def _endpoint(session: AsyncSession, endpoint_id: int) -> WebhookEndpoint:
    endpoint = await session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound(f"webhook endpoint {endpoint_id} not found")
    return endpoint


def _audited(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {"endpoint_id": endpoint.id, "url": endpoint.url, "event_types": endpoint.event_types,
            "enabled": endpoint.enabled}


async def create_endpoint(
    *, session: AsyncSession, bus: Bus, targets: Targets, url: str, event_types: Sequence[str],
    description: str | None, enabled: bool, agent_id: int | None, ip: str | None = None,
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret (the only time the secret is handed out); audited."""
    now = utcnow()
    secret = new_secret()
    endpoint = WebhookEndpoint(
        url=await check_url(url, targets), event_types=check_types(event_types),
        description=_description(description), enabled=enabled, secret=secret,
        created_by=agent_id, created_at=now, updated_at=now,
    )
    session.add(endpoint)
    await session.flush()
    audit.record(session, "webhook_created", agent_id=agent_id, ip=ip, **_audited(endpoint))
    await _changed(session=session, bus=bus)
    return endpoint, secret


async def update_endpoint(
    *, session: AsyncSession, bus: Bus, targets: Targets, endpoint_id: int,
    url: str | None = None, event_types: Sequence[str] | None = None,
    description: str | None = None, enabled: bool | None = None, agent_id: int | None,
    ip: str | None = None,
) -> WebhookEndpoint:
    """Change what is given (None: unchanged; description "" clears it); audited."""
    endpoint = await _endpoint(session, endpoint_id)
    if url is not None:
        endpoint.url = await check_url(url, targets)
    if event_types is not None:
        endpoint.event_types = check_types(event_types)
    if description is not None:
        endpoint.description = _description(description)
    if enabled is not None:
        endpoint.enabled = enabled
    endpoint.updated_at = utcnow()
    audit.record(session, "webhook_updated", agent_id=agent_id, ip=ip, **_audited(endpoint))
    await _changed(session=session, bus=bus)
    return endpoint


async def delete_endpoint(
    *, session: AsyncSession, bus: Bus, endpoint_id: int, agent_id: int | None,
    ip: str | None = None,
) -> None:
    """Delete the endpoint with its pending deliveries and its log; audited."""
    endpoint = await _endpoint(session, endpoint_id)
    audit.record(session, "webhook_deleted", agent_id=agent_id, ip=ip, **_audited(endpoint))
    await session.delete(endpoint)
    await _changed(session=session, bus=bus)


async def rotate_secret(
    *, session: AsyncSession, bus: Bus, endpoint_id: int, agent_id: int | None,
    ip: str | None = None,
) -> tuple[WebhookEndpoint, str]:
    """A new secret (returned once); the old one also signs for ROTATION_GRACE; audited."""
    endpoint = await _endpoint(session, endpoint_id)
    secret = new_secret()
    endpoint.previous_secret, endpoint.secret = endpoint.secret, secret
    endpoint.previous_secret_until = utcnow() + ROTATION_GRACE
    endpoint.updated_at = utcnow()
    audit.record(session, "webhook_secret_rotated", agent_id=agent_id, ip=ip,
                 endpoint_id=endpoint.id)
    await _changed(session=session, bus=bus)
    return endpoint, secret


async def send_test(
    *, session: AsyncSession, endpoint_id: int, agent_id: int | None, ip: str | None = None
) -> str:
    """Queue a `webhook.test` event for this endpoint only; its uuid. Audited."""
    endpoint = await _endpoint(session, endpoint_id)
    if not endpoint.enabled:
        raise Conflict("the endpoint is disabled: enable it to send it a test event")
    row = test_event_row(endpoint.id)
    await session.execute(insert(EVENTS), [row])
    audit.record(session, "webhook_test_sent", agent_id=agent_id, ip=ip, endpoint_id=endpoint.id)
    await session.commit()
    return str(row["uuid"])


@dataclass(frozen=True)
class EndpointView:
    endpoint: WebhookEndpoint
    pending: int
    failed: int
    delivered: int


async def list_endpoints(*, session: AsyncSession) -> list[EndpointView]:
    """Every endpoint with its number of pending, failed and delivered deliveries."""
    endpoints = (await session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id))).all()
    counts: dict[tuple[int, str], int] = {
        (eid, status): n
        for eid, status, n in (
            await session.execute(
                select(WebhookDelivery.endpoint_id, WebhookDelivery.status, func.count())
                .group_by(WebhookDelivery.endpoint_id, WebhookDelivery.status)
            )
        ).all()
    }
    return [
        EndpointView(e, counts.get((e.id, "pending"), 0), counts.get((e.id, "failed"), 0),
                     counts.get((e.id, "delivered"), 0))
        for e in endpoints
    ]


@dataclass(frozen=True)
class LoggedDelivery:
    delivery: WebhookDelivery
    event_id: str
    event_type: str
    attempts: list[WebhookAttempt]


async def delivery_log(
    *, session: AsyncSession, endpoint_id: int, limit: int = LOG_PAGE, before_id: int | None = None
) -> list[LoggedDelivery]:
    """The endpoint's deliveries, newest first, each with its attempts (oldest first)."""
    await _endpoint(session, endpoint_id)
    query = (
        select(WebhookDelivery, WebhookEvent.uuid, WebhookEvent.type)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.endpoint_id == endpoint_id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        query = query.where(WebhookDelivery.id < before_id)
    rows = (await session.execute(query)).all()
    attempts: dict[int, list[WebhookAttempt]] = {}
    if rows:
        for a in (
            await session.scalars(
                select(WebhookAttempt)
                .where(WebhookAttempt.delivery_id.in_([r[0].id for r in rows]))
                .order_by(WebhookAttempt.id)
            )
        ).all():
            attempts.setdefault(a.delivery_id, []).append(a)
    return [LoggedDelivery(d, uuid, type_, attempts.get(d.id, [])) for d, uuid, type_ in rows]


async def redeliver(
    *, session: AsyncSession, endpoint_id: int, delivery_id: int, agent_id: int | None,
    ip: str | None = None,
) -> None:
    """Try a finished (failed, or delivered) delivery again now, with fresh retries; audited."""
    moved = await session.scalar(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint_id)
        .values(status="pending", attempts=0, next_attempt_at=utcnow(), finished_at=None,
                created_at=utcnow())
        .returning(WebhookDelivery.id)
    )
    if moved is None:
        raise NotFound(f"delivery {delivery_id} of endpoint {endpoint_id} not found")
    audit.record(session, "webhook_redelivered", agent_id=agent_id, ip=ip,
                 endpoint_id=endpoint_id, delivery_id=delivery_id)
    await session.commit()
