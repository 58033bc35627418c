"""Admin REST for privacy requests: find a visitor by e-mail, export or delete everything."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from app.db import SessionDep
from app.schemas import RowId, VisitorOut
from app.security import AdminDep, client_ip
from handoff import privacy

router = APIRouter(prefix="/api/admin/visitors", tags=["privacy"])


@router.get("")
async def find_visitors(
    admin: AdminDep, session: SessionDep, email: Annotated[str, Query(min_length=1, max_length=320)]
) -> list[VisitorOut]:
    """Visitors with this e-mail on their profile or on one of their tickets."""
    rows = await privacy.find_visitors(session=session, email=email)
    return [VisitorOut.model_validate(v) for v in rows]


@router.get("/{visitor_id}/export")
async def export_visitor(
    visitor_id: RowId, admin: AdminDep, session: SessionDep, request: Request
) -> dict[str, Any]:
    """Everything stored about the visitor: profile, conversations with their messages
    (private notes included), tickets, ratings and feedback. Audit-logged."""
    return await privacy.export_visitor(
        session=session, visitor_id=visitor_id, agent_id=admin.id, ip=client_ip(request)
    )


@router.delete("/{visitor_id}")
async def delete_visitor(
    visitor_id: RowId, admin: AdminDep, session: SessionDep, request: Request
) -> dict[str, int]:
    """Delete the visitor and everything about them; answers the rows deleted per table."""
    return await privacy.delete_visitor(
        session=session,
        bus=request.app.state.bus,
        visitor_id=visitor_id,
        agent_id=admin.id,
        routing=request.app.state.routing,
        ip=client_ip(request),
    )
