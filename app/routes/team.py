"""The team as the console sees it: who is online with how many chats, and business hours."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.db import SessionDep
from app.schemas import AgentSummary, HoursOut
from app.security import AgentDep
from handoff.models import utcnow
from handoff.routing import roster

router = APIRouter(prefix="/api/agent", tags=["team"])


@router.get("/agents")
async def list_agents(agent: AgentDep, session: SessionDep, request: Request) -> list[AgentSummary]:
    """Every enabled agent with their live status and load (for transfers)."""
    entries = await roster(
        session=session, presence_timeout_s=request.app.state.settings.presence_timeout_s
    )
    return [
        AgentSummary(
            id=e.agent.id,
            name=e.agent.name,
            avatar_url=e.agent.avatar_url,
            status=str(e.status),
            capacity=e.agent.capacity,
            active=e.active,
        )
        for e in entries
        if e.agent.disabled_at is None
    ]


@router.get("/hours")
async def hours(agent: AgentDep, request: Request) -> HoursOut:
    """Whether we are open now, and when we next open (the hours in force, as admins set them)."""
    settings = request.app.state.settings
    business = request.app.state.routing.hours
    now = utcnow()
    return HoursOut(
        open_now=business.is_open(now),
        next_opening=business.next_opening(now),
        timezone=business.timezone.key,
        routing_mode=str(settings.routing_mode),
    )
