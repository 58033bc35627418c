"""ORM models of outgoing webhooks (handoff/webhooks.py, handoff/webhook_delivery.py).

Kept apart from handoff/models.py, which is near the module size limit; the tables share its
`Base` (migrations/env.py imports this module so that Alembic sees them). Migration 0010.

- `webhook_endpoints`: the URLs admins configured, their event types and signing secret;
- `webhook_events`: the outbox, one row per event, written in the transaction of the change;
- `webhook_deliveries`: one row per (event, endpoint), made when the worker fans an event out;
  its `next_attempt_at` is also the claim's lease;
- `webhook_attempts`: the delivery log, one row per HTTP attempt.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from handoff.models import Base, UTCDateTime, utcnow

URL_MAX = 2000  # what browsers and proxies reliably carry


class WebhookEndpoint(Base):
    """A receiver an admin configured: where, which event types, and the secret it checks."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(URL_MAX))
    description: Mapped[str | None] = mapped_column(String(200))
    event_types: Mapped[list[str]] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # HMAC keys are needed in clear to sign; shown to the admin once, never by the API again.
    secret: Mapped[str] = mapped_column(String(100))
    # After a rotation the old secret signs too (a second v1=) until then: no missed events.
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_secret_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookEvent(Base):
    """One event in the outbox; `uuid` is its idempotency key, the same on every delivery."""

    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Set when the worker made its deliveries; until then the event waits to be fanned out.
    fanned_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A test event goes to this endpoint only, whatever it subscribes to.
    endpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )

    __table_args__ = (Index("ix_webhook_events_unfanned", "fanned_out_at", "id"),)


class WebhookDelivery(Base):
    """One event for one endpoint: pending (due at next_attempt_at), delivered or failed."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)  # X-Chatdesk-Delivery
    event_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_events.id", ondelete="CASCADE"), index=True
    )
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint", "endpoint_id", "id"),
    )


class WebhookAttempt(Base):
    """One HTTP attempt of a delivery: when, the status code or the error, how long it took."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer)
