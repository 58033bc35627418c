"""`/metrics` for Prometheus: the counters of handoff/metrics.py and the database's gauges.

Who may scrape: with `CHATDESK_METRICS_TOKEN` set, whoever sends it as a bearer token; without
it, only this machine (a loopback client address, as uvicorn's proxy settings resolve it).
"""

from __future__ import annotations

import ipaddress
import os
import secrets

from fastapi import APIRouter, HTTPException, Request, Response, status
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)

from app.db import SessionDep
from app.security import client_ip
from handoff.agents import online_agents
from handoff.metrics import (
    AGENTS_ONLINE,
    QUEUE_LENGTH,
    QUEUE_OLDEST_WAIT_SECONDS,
    QUEUE_RECENT_WAIT_SECONDS,
)
from handoff.models import utcnow
from handoff.queue import queue_summary, recent_wait_s

router = APIRouter(include_in_schema=False)


def _may_scrape(request: Request) -> None:
    token = request.app.state.settings.metrics_token
    if token is not None:
        offered = request.headers.get("authorization", "").removeprefix("Bearer ")
        if not secrets.compare_digest(offered.encode(), token.encode()):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED, "metrics token required",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return
    ip = client_ip(request)
    try:
        local = ip is not None and ipaddress.ip_address(ip).is_loopback
    except ValueError:
        local = False
    if not local:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "metrics from this machine only; or set a metrics token"
        )


def _registry() -> CollectorRegistry:
    """This process's metrics, or every worker's summed when `serve --workers N` runs."""
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


@router.get("/metrics")
async def metrics(request: Request, session: SessionDep) -> Response:
    _may_scrape(request)
    queued, oldest = await queue_summary(session=session)
    QUEUE_LENGTH.set(queued)
    QUEUE_OLDEST_WAIT_SECONDS.set((utcnow() - oldest).total_seconds() if oldest else 0)
    QUEUE_RECENT_WAIT_SECONDS.set(await recent_wait_s(session=session) or 0)
    timeout = request.app.state.settings.presence_timeout_s
    AGENTS_ONLINE.set(len(await online_agents(session=session, presence_timeout_s=timeout)))
    return Response(generate_latest(_registry()), media_type=CONTENT_TYPE_LATEST)
