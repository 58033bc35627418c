"""Admin REST for the audit log: who logged in, failed to, changed the KB or the team."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.db import SessionDep
from app.schemas import AuditEventOut
from app.security import AdminDep
from handoff import audit
from handoff.models import ROW_ID_MAX

router = APIRouter(prefix="/api/admin/audit", tags=["audit"])


@router.get("")
async def list_events(
    admin: AdminDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before_id: Annotated[int | None, Query(ge=1, le=ROW_ID_MAX)] = None,
    action: Annotated[str, Query(max_length=40)] = "",
) -> list[AuditEventOut]:
    """The newest events first; page back with `before_id` (the last id you got)."""
    rows = await audit.recent(session=session, limit=limit, before_id=before_id, action=action)
    return [AuditEventOut.model_validate(r) for r in rows]
