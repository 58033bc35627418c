"""Health: liveness and readiness probes for load balancers, Docker and Kubernetes."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

router = APIRouter()

DB_PROBE_TIMEOUT_S = 2.0  # a probe must answer well inside the balancer's own check timeout


@router.get("/api/health")
async def api_health() -> dict[str, str]:
    """Liveness under /api, for clients that only reach the API prefix."""
    return {"status": "ok"}


@router.get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:
    """Liveness: the event loop answers. Restart the process only when this fails."""
    return {"status": "ok"}


@router.get("/readyz", include_in_schema=False)
async def readyz(request: Request) -> JSONResponse:
    """Readiness: database reachable, bus connected, bot index loaded, not shutting down."""
    state = request.app.state
    checks: dict[str, Any] = {
        "database": await _database_ok(request),
        "bus": bool(getattr(state, "bus", None) is not None and state.bus.connected),
        "bot": getattr(state, "brain", None) is not None,
        "accepting": not state.hub.draining,
    }
    ready = all(checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not_ready", "checks": checks},
        status_code=200 if ready else 503,
    )


async def _database_ok(request: Request) -> bool:
    sessions = getattr(request.app.state, "sessions", None)
    if sessions is None:
        return False
    try:
        async with asyncio.timeout(DB_PROBE_TIMEOUT_S), sessions() as session:
            await session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means "do not send traffic here"
        return False
    return True
