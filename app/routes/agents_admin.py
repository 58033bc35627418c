"""Admin REST for the team: list, create, disable, re-enable, reset a password, set capacity
and the admin role. The rules (last admin, capacity range, password length) are in
handoff/team.py; every change is audited there."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from app.db import SessionDep
from app.schemas import PasswordResetIn, RowId, TeamMemberIn, TeamMemberOut, TeamMemberPatch
from app.security import AdminDep, client_ip
from handoff import team
from handoff.models import Agent
from handoff.routing import RosterEntry, roster

router = APIRouter(prefix="/api/admin/agents", tags=["admin: agents"])
ERRORS: dict[int | str, dict[str, str]] = {
    404: {"description": "no such agent"},
    409: {"description": "the last admin would be left without the role, or disabled"},
}


def _out(e: RosterEntry) -> TeamMemberOut:
    a = e.agent
    return TeamMemberOut(
        id=a.id,
        email=a.email,
        name=a.name,
        avatar_url=a.avatar_url,
        is_admin=a.is_admin,
        capacity=a.capacity,
        status=str(e.status),
        active=e.active,
        disabled_at=a.disabled_at,
        created_at=a.created_at,
        last_seen_at=a.last_seen_at,
    )


async def _member(session: SessionDep, request: Request, agent: Agent) -> TeamMemberOut:
    entries = await roster(
        session=session, presence_timeout_s=request.app.state.settings.presence_timeout_s
    )
    return next(_out(e) for e in entries if e.agent.id == agent.id)


@router.get("")
async def list_team(admin: AdminDep, session: SessionDep, request: Request) -> list[TeamMemberOut]:
    """Every agent, disabled ones too, with role, capacity, live status and load."""
    entries = await roster(
        session=session, presence_timeout_s=request.app.state.settings.presence_timeout_s
    )
    return [_out(e) for e in entries]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "an agent with this e-mail exists"}},
)
async def create_member(
    body: TeamMemberIn, admin: AdminDep, session: SessionDep, request: Request
) -> TeamMemberOut:
    """A new agent (or admin) who can log in at once with the password given."""
    agent = await team.create_member(
        session=session,
        email=body.email,
        name=body.name,
        password=body.password,
        capacity=body.capacity,
        is_admin=body.is_admin,
        actor=admin,
        ip=client_ip(request),
    )
    return await _member(session, request, agent)


@router.patch("/{agent_id}", responses=ERRORS)
async def update_member(
    agent_id: RowId, body: TeamMemberPatch, admin: AdminDep, session: SessionDep, request: Request
) -> TeamMemberOut:
    """Set capacity (chats at once) and/or the admin role; the last admin keeps theirs."""
    agent = await team.update_member(
        session=session,
        bus=request.app.state.bus,
        routing=request.app.state.routing,
        agent_id=agent_id,
        actor=admin,
        ip=client_ip(request),
        capacity=body.capacity,
        is_admin=body.is_admin,
    )
    return await _member(session, request, agent)


@router.post("/{agent_id}/disable", responses=ERRORS)
async def disable_member(
    agent_id: RowId, admin: AdminDep, session: SessionDep, request: Request
) -> TeamMemberOut:
    """They cannot log in; their tokens are refused and their open consoles logged out at
    once on every replica; the chats they held go back to the queue."""
    agent = await team.disable_member(
        session=session,
        bus=request.app.state.bus,
        routing=request.app.state.routing,
        agent_id=agent_id,
        actor=admin,
        ip=client_ip(request),
    )
    return await _member(session, request, agent)


@router.post("/{agent_id}/enable", responses={404: ERRORS[404]})
async def enable_member(
    agent_id: RowId, admin: AdminDep, session: SessionDep, request: Request
) -> TeamMemberOut:
    """They may log in again (with their password; old logins stay ended)."""
    agent = await team.enable_member(
        session=session, agent_id=agent_id, actor=admin, ip=client_ip(request)
    )
    return await _member(session, request, agent)


@router.post(
    "/{agent_id}/password",
    responses={404: ERRORS[404], 409: {"description": "your own: use your profile"}},
)
async def reset_password(
    agent_id: RowId, body: PasswordResetIn, admin: AdminDep, session: SessionDep, request: Request
) -> TeamMemberOut:
    """Give the agent a new password; every login of theirs ends (open consoles too)."""
    agent = await team.reset_password(
        session=session,
        bus=request.app.state.bus,
        agent_id=agent_id,
        password=body.password,
        actor=admin,
        ip=client_ip(request),
    )
    return await _member(session, request, agent)
