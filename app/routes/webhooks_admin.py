"""Admin REST for outgoing webhooks (/admin -> Integrations): endpoints, their secret, a test
event, the delivery log. The rules are in handoff/webhook_admin.py (every change audited there);
delivery in handoff/webhook_delivery.py; what receivers get in docs/integrations.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, Field

from app.db import SessionDep
from app.schemas import RowId
from app.security import AdminDep, client_ip
from handoff import webhook_admin
from handoff.webhook_admin import DESCRIPTION_MAX, LOG_PAGE, LoggedDelivery
from handoff.webhook_models import URL_MAX, WebhookEndpoint
from handoff.webhooks import EVENT_TYPES, NOT_EMITTED_YET, Targets

router = APIRouter(prefix="/api/admin/webhooks", tags=["admin: webhooks"])
NOT_FOUND: dict[int | str, dict[str, str]] = {404: {"description": "no such endpoint"}}

Url = Annotated[
    str, Field(min_length=1, max_length=URL_MAX, examples=["https://crm.example.invalid/hooks"])
]
EventType = Annotated[str, Field(max_length=40, examples=["ticket.created"])]
Description = Annotated[str, Field(max_length=DESCRIPTION_MAX)]


class EndpointIn(BaseModel):
    url: Url
    event_types: Annotated[list[EventType], Field(min_length=1, max_length=len(EVENT_TYPES))]
    description: Description | None = None
    enabled: bool = True


class EndpointPatch(BaseModel):
    """What to change; absent fields stay as they are."""

    url: Url | None = None
    event_types: Annotated[list[EventType], Field(max_length=len(EVENT_TYPES))] | None = None
    description: Description | None = Field(None, description='"" clears it')
    enabled: bool | None = None


class EndpointOut(BaseModel):
    id: int
    url: str
    description: str | None
    event_types: list[str]
    enabled: bool
    created_at: datetime
    updated_at: datetime
    previous_secret_valid_until: datetime | None = Field(
        description="after a rotation the old secret also signs until then"
    )


class EndpointListed(EndpointOut):
    pending: int = Field(description="deliveries waiting for their next attempt")
    failed: int = Field(description="deliveries given up after every retry")
    delivered: int


class EndpointCreated(EndpointOut):
    secret: str = Field(description="the signing secret: shown this once, keep it")


class SecretOut(BaseModel):
    secret: str = Field(description="the new signing secret: shown this once")
    previous_secret_valid_until: datetime


class EventTypeOut(BaseModel):
    type: str
    description: str
    emitted: bool = Field(description="false: defined for subscribing, nothing sends it yet")


class WebhooksOut(BaseModel):
    event_types: list[EventTypeOut]
    endpoints: list[EndpointListed]


class TestOut(BaseModel):
    event_id: str = Field(description="the test event's id (its idempotency key)")


class AttemptOut(BaseModel):
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryOut(BaseModel):
    id: int
    delivery_id: str = Field(description="the X-Chatdesk-Delivery header")
    event_id: str = Field(description="the body's id: the same for every delivery of the event")
    event_type: str
    status: str = Field(description="pending, delivered or failed")
    attempts: list[AttemptOut]
    next_attempt_at: datetime | None
    created_at: datetime


def _targets(request: Request) -> Targets:
    targets: Targets = request.app.state.settings.webhooks().targets
    return targets


def _fields(e: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": e.id, "url": e.url, "description": e.description, "event_types": e.event_types,
        "enabled": e.enabled, "created_at": e.created_at, "updated_at": e.updated_at,
        "previous_secret_valid_until": e.previous_secret_until,
    }


def _delivery(d: LoggedDelivery) -> DeliveryOut:
    row = d.delivery
    return DeliveryOut(
        id=row.id, delivery_id=row.uuid, event_id=d.event_id, event_type=d.event_type,
        status=row.status,
        attempts=[AttemptOut(at=a.at, status_code=a.status_code, error=a.error,
                             duration_ms=a.duration_ms) for a in d.attempts],
        next_attempt_at=row.next_attempt_at if row.status == "pending" else None,
        created_at=row.created_at,
    )


@router.get("")
async def list_webhooks(admin: AdminDep, session: SessionDep) -> WebhooksOut:
    """Every endpoint with its delivery counts, and the event types one can subscribe to."""
    views = await webhook_admin.list_endpoints(session=session)
    return WebhooksOut(
        event_types=[
            EventTypeOut(type=t, description=d, emitted=t not in NOT_EMITTED_YET)
            for t, d in EVENT_TYPES.items()
        ],
        endpoints=[
            EndpointListed(
                **_fields(v.endpoint), pending=v.pending, failed=v.failed, delivered=v.delivered
            )
            for v in views
        ],
    )


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_webhook(
    body: EndpointIn, admin: AdminDep, session: SessionDep, request: Request
) -> EndpointCreated:
    """A new endpoint; the answer carries its signing secret, the only time it is shown."""
    endpoint, secret = await webhook_admin.create_endpoint(
        session=session, bus=request.app.state.bus, targets=_targets(request), url=body.url,
        event_types=body.event_types, description=body.description, enabled=body.enabled,
        agent_id=admin.id, ip=client_ip(request),
    )
    return EndpointCreated(**_fields(endpoint), secret=secret)


@router.patch("/{endpoint_id}", responses=NOT_FOUND)
async def update_webhook(
    endpoint_id: RowId, body: EndpointPatch, admin: AdminDep, session: SessionDep,
    request: Request,
) -> EndpointOut:
    """Change the URL, event types, description or enabled; the secret stays."""
    endpoint = await webhook_admin.update_endpoint(
        session=session, bus=request.app.state.bus, targets=_targets(request),
        endpoint_id=endpoint_id, url=body.url, event_types=body.event_types,
        description=body.description, enabled=body.enabled, agent_id=admin.id,
        ip=client_ip(request),
    )
    return EndpointOut(**_fields(endpoint))


@router.delete("/{endpoint_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
async def delete_webhook(
    endpoint_id: RowId, admin: AdminDep, session: SessionDep, request: Request
) -> Response:
    """Delete the endpoint, its pending deliveries and its log."""
    await webhook_admin.delete_endpoint(
        session=session, bus=request.app.state.bus, endpoint_id=endpoint_id, agent_id=admin.id,
        ip=client_ip(request),
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{endpoint_id}/secret", responses=NOT_FOUND)
async def rotate_webhook_secret(
    endpoint_id: RowId, admin: AdminDep, session: SessionDep, request: Request
) -> SecretOut:
    """A new signing secret (shown once); the old one also signs for 24 hours."""
    endpoint, secret = await webhook_admin.rotate_secret(
        session=session, bus=request.app.state.bus, endpoint_id=endpoint_id, agent_id=admin.id,
        ip=client_ip(request),
    )
    assert endpoint.previous_secret_until is not None
    return SecretOut(secret=secret, previous_secret_valid_until=endpoint.previous_secret_until)


@router.post(
    "/{endpoint_id}/test",
    status_code=status.HTTP_202_ACCEPTED,
    responses={**NOT_FOUND, 409: {"description": "the endpoint is disabled"}},
)
async def send_test_event(
    endpoint_id: RowId, admin: AdminDep, session: SessionDep, request: Request
) -> TestOut:
    """Queue a `webhook.test` event for this endpoint; it appears in the delivery log."""
    event_id = await webhook_admin.send_test(
        session=session, endpoint_id=endpoint_id, agent_id=admin.id, ip=client_ip(request)
    )
    return TestOut(event_id=event_id)


@router.get("/{endpoint_id}/deliveries", responses=NOT_FOUND)
async def list_deliveries(
    endpoint_id: RowId,
    admin: AdminDep,
    session: SessionDep,
    before_id: Annotated[RowId | None, Query(description="older than this delivery")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = LOG_PAGE,
) -> list[DeliveryOut]:
    """The delivery log, newest first: each delivery with every attempt (time, status code or
    error, duration)."""
    logged = await webhook_admin.delivery_log(
        session=session, endpoint_id=endpoint_id, limit=limit, before_id=before_id
    )
    return [_delivery(d) for d in logged]


@router.post(
    "/{endpoint_id}/deliveries/{delivery_id}/retry",
    status_code=status.HTTP_202_ACCEPTED,
    responses={404: {"description": "no such delivery of this endpoint"}},
)
async def retry_delivery(
    endpoint_id: RowId, delivery_id: RowId, admin: AdminDep, session: SessionDep,
    request: Request,
) -> Response:
    """Deliver it again now (a failed one, say, once the receiver is fixed), retries afresh."""
    await webhook_admin.redeliver(
        session=session, endpoint_id=endpoint_id, delivery_id=delivery_id, agent_id=admin.id,
        ip=client_ip(request),
    )
    return Response(status_code=status.HTTP_202_ACCEPTED)
