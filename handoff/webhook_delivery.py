"""Outgoing webhooks, the delivery side: fan the outbox out, claim, sign, POST, retry.

One worker runs in every replica (started by the app's lifespan), with its own sessions and
at most `concurrency` requests in flight, so a slow receiver never holds up a chat. Each round:

1. events not yet fanned out become one `webhook_deliveries` row per endpoint that wants them
   (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so two replicas never fan out the same event);
2. due deliveries are claimed: their `next_attempt_at` moves a lease ahead and `attempts`
   counts up, in one transaction (PostgreSQL: `SKIP LOCKED` again; SQLite has one writer). A
   process that dies holding a claim lets it lapse: another one claims the row after the lease;
3. each is POSTed (no redirects followed, a short timeout), its attempt logged, and it is then
   delivered (2xx), due again after an exponential backoff with full jitter, or failed once
   past the maximum attempts or age.

Delivery is at least once: a receiver deduplicates on the body's `id` (the event's uuid).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
from sqlalchemy import delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.metrics import WEBHOOK_DELIVERIES
from handoff.models import utcnow
from handoff.webhook_http import Claimed, Outcome, body_of, make_client, send
from handoff.webhook_models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from handoff.webhooks import SUBSCRIBED, Targets

log = logging.getLogger(__name__)

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
POLL_S = 1.0  # an event goes out within about this long of its commit
FAN_OUT_BATCH = 200  # events fanned out per transaction
KEEP = timedelta(days=7)  # finished deliveries, their events and log are kept this long
PURGE_EVERY_S = 3600.0
D, EV, EP = WebhookDelivery, WebhookEvent, WebhookEndpoint


@dataclass(frozen=True)
class DeliveryConfig:
    """How deliveries are made and retried (app/settings.py builds it)."""

    timeout_s: float = 10.0  # a receiver should answer at once and do its work later
    max_attempts: int = 15  # with the defaults below: retries for up to a day (jitter: ~half)
    max_age_s: float = 3 * 86400.0
    retry_base_s: float = 10.0  # the n-th retry waits up to base * 2^(n-1), capped
    retry_max_s: float = 6 * 3600.0
    lease_s: float = 60.0  # a claim older than this was lost with its process: claimed again
    concurrency: int = 4  # requests in flight per process
    targets: Targets = field(default_factory=Targets)


def backoff_s(attempts: int, config: DeliveryConfig) -> float:
    """Full jitter: anywhere from 0 to the exponential cap, so retries never come in waves."""
    cap = min(config.retry_max_s, config.retry_base_s * 2 ** max(0, attempts - 1))
    return random.uniform(0, cap)


def _pg(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def fan_out(*, session: AsyncSession) -> int:
    """Make the deliveries of events not yet fanned out; commits. Returns how many events."""
    query = select(EV).where(EV.fanned_out_at.is_(None)).order_by(EV.id).limit(FAN_OUT_BATCH)
    if _pg(session):
        query = query.with_for_update(skip_locked=True)
    events = (await session.scalars(query)).all()
    if not events:
        await session.commit()
        return 0
    endpoints = (await session.scalars(select(EP).where(EP.enabled))).all()
    now = utcnow()
    for event in events:
        for endpoint in endpoints:
            wanted = (
                endpoint.id == event.endpoint_id
                if event.endpoint_id is not None
                else event.type in endpoint.event_types
            )
            if wanted:
                session.add(
                    D(uuid=_uuid(), event_id=event.id, endpoint_id=endpoint.id, status=PENDING,
                      attempts=0, next_attempt_at=now, created_at=now)
                )
        event.fanned_out_at = now
    await session.commit()
    return len(events)


def _uuid() -> str:
    return str(uuid.uuid4())


async def claim(*, session: AsyncSession, limit: int, lease_s: float) -> list[Claimed]:
    """Claim up to `limit` due deliveries of enabled endpoints for `lease_s`; commits."""
    now = utcnow()
    due = (
        select(D.id)
        .join(EP, EP.id == D.endpoint_id)
        .where(D.status == PENDING, D.next_attempt_at <= now, EP.enabled)
        .order_by(D.next_attempt_at, D.id)
        .limit(limit)
    )
    if _pg(session):
        due = due.with_for_update(skip_locked=True, of=D)
    ids = list((await session.scalars(due)).all())
    if not ids:
        await session.commit()
        return []
    await session.execute(
        update(D)
        .where(D.id.in_(ids))
        .values(next_attempt_at=now + timedelta(seconds=lease_s), attempts=D.attempts + 1)
    )
    rows = (
        await session.execute(
            select(D.id, D.uuid, D.attempts, D.created_at, EP.url, EP.secret,
                   EP.previous_secret, EP.previous_secret_until,
                   EV.uuid.label("event_uuid"), EV.type, EV.created_at.label("event_at"),
                   EV.data)
            .join(EP, EP.id == D.endpoint_id)
            .join(EV, EV.id == D.event_id)
            .where(D.id.in_(ids))
        )
    ).all()
    await session.commit()
    return [
        Claimed(
            id=r.id, uuid=r.uuid, attempts=r.attempts, created_at=r.created_at, url=r.url,
            secret=r.secret, previous_secret=r.previous_secret,
            previous_secret_until=r.previous_secret_until, event_type=r.type,
            body=body_of(event_id=r.event_uuid, type_=r.type, created_at=r.event_at, data=r.data),
        )
        for r in rows
    ]


async def record(
    *, session: AsyncSession, claimed: Claimed, outcome: Outcome, config: DeliveryConfig
) -> str:
    """Log the attempt and settle the delivery; commits. Returns delivered, retrying or failed."""
    now = utcnow()
    session.add(
        WebhookAttempt(
            delivery_id=claimed.id, at=now, status_code=outcome.status_code,
            error=outcome.error, duration_ms=outcome.duration_ms,
        )
    )
    mine = [D.id == claimed.id, D.status == PENDING]
    if outcome.ok:
        result, values = DELIVERED, {"status": DELIVERED, "finished_at": now}
    elif (
        claimed.attempts >= config.max_attempts
        or (now - claimed.created_at).total_seconds() >= config.max_age_s
    ):
        result, values = FAILED, {"status": FAILED, "finished_at": now}
    else:
        wait = timedelta(seconds=backoff_s(claimed.attempts, config))
        result, values = "retrying", {"next_attempt_at": now + wait}
        # Only while it is still our claim (a lapsed lease let another process try again).
        mine.append(D.attempts == claimed.attempts)
    await session.execute(update(D).where(*mine).values(**values))
    await session.commit()
    WEBHOOK_DELIVERIES.labels(result).inc()
    return result


async def release(*, session: AsyncSession, ids: Iterable[int]) -> None:
    """Give claims back at once (a graceful shutdown): due now, for whoever runs next."""
    ids = list(ids)
    if ids:
        await session.execute(
            update(D).where(D.id.in_(ids), D.status == PENDING).values(next_attempt_at=utcnow())
        )
        await session.commit()


async def purge(*, session: AsyncSession, older_than: timedelta = KEEP) -> None:
    """Forget events (their deliveries and log) older than `older_than` with nothing pending."""
    cutoff = utcnow() - older_than
    pending = exists().where(D.event_id == EV.id, D.status == PENDING)
    old = select(EV.id).where(EV.created_at < cutoff, EV.fanned_out_at.is_not(None), ~pending)
    await session.execute(delete(EV).where(EV.id.in_(old)))
    await session.commit()


_PROBE = select(
    select(EV.id).where(EV.fanned_out_at.is_(None)).limit(1).scalar_subquery(),
    select(D.next_attempt_at)
    .where(D.status == PENDING)
    .order_by(D.next_attempt_at)
    .limit(1)
    .scalar_subquery(),
)


class DeliveryWorker:
    """The replica's delivery loop; `run_forever` until cancelled (in-flight claims released)."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        read_sessions: async_sessionmaker[AsyncSession],
        config: DeliveryConfig,
    ) -> None:
        self.sessions, self.read_sessions, self.config = sessions, read_sessions, config
        self.inflight: dict[asyncio.Task[None], int] = {}
        self._purged_at = 0.0

    async def run_forever(self) -> None:
        config = self.config
        async with make_client(timeout_s=config.timeout_s, targets=config.targets) as client:
            try:
                while True:
                    wait_s = POLL_S
                    if SUBSCRIBED.endpoints or self.inflight:  # no endpoint: not even a poll
                        try:
                            wait_s = await self._round(client)
                        except Exception:  # noqa: BLE001 - the database may be back next round
                            log.exception("webhook delivery round failed; will retry")
                    if self.inflight:
                        await asyncio.wait(
                            list(self.inflight), timeout=wait_s,
                            return_when=asyncio.FIRST_COMPLETED,
                        )
                    else:
                        await asyncio.sleep(wait_s)
            finally:
                await self._stop()

    async def _round(self, client: httpx.AsyncClient) -> float:
        """Fan out, claim what is due and start it; the seconds until the next look."""
        async with self.read_sessions() as session:
            unfanned, next_due = (await session.execute(_PROBE)).one()
        if unfanned is not None:
            async with self.sessions() as session:
                await fan_out(session=session)
            next_due = utcnow()
        if time.monotonic() - self._purged_at > PURGE_EVERY_S:
            self._purged_at = time.monotonic()
            async with self.sessions() as session:
                await purge(session=session)
        free = self.config.concurrency - len(self.inflight)
        if next_due is None or free <= 0:
            return POLL_S
        if next_due > utcnow():
            return max(0.05, min(POLL_S, (next_due - utcnow()).total_seconds()))
        async with self.sessions() as session:
            claimed = await claim(session=session, limit=free, lease_s=self.config.lease_s)
        for c in claimed:
            task = asyncio.create_task(self._deliver(client, c), name=f"webhook-{c.id}")
            self.inflight[task] = c.id
            task.add_done_callback(self.inflight.pop)
        return 0.0 if len(claimed) == free else POLL_S

    async def _deliver(self, client: httpx.AsyncClient, claimed: Claimed) -> None:
        outcome = await send(
            client, claimed, timeout_s=self.config.timeout_s, targets=self.config.targets
        )
        try:
            async with self.sessions() as session:
                result = await record(
                    session=session, claimed=claimed, outcome=outcome, config=self.config
                )
        except Exception:  # noqa: BLE001 - the lease lapses and the delivery is tried again
            log.exception("webhook delivery %s: could not record the attempt", claimed.uuid)
            return
        if result != DELIVERED:
            log.info("webhook delivery %s to %s: %s (%s)", claimed.uuid, claimed.url, result,
                     outcome.error or outcome.status_code)

    async def _stop(self) -> None:
        tasks = dict(self.inflight)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        try:
            async with self.sessions() as session:
                await release(session=session, ids=tasks.values())
        except Exception:  # noqa: BLE001 - shutting down: the leases lapse instead
            log.warning("webhook claims not released; they are retried after the lease")
