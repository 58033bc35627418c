"""Admin REST for teams: list, add, rename, delete; add and remove members. The rules and the
audit are in handoff/teams.py; agents read the list for transfers at /api/agent/teams."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from app.db import SessionDep
from app.schemas import RowId, TeamIn, TeamOut
from app.security import AdminDep, AgentDep, client_ip
from handoff import teams

router = APIRouter(prefix="/api/admin/teams", tags=["admin: teams"])
agent_router = APIRouter(prefix="/api/agent", tags=["team"])
ERRORS: dict[int | str, dict[str, str]] = {404: {"description": "no such team (or agent)"}}
NAME_TAKEN: dict[int | str, dict[str, str]] = {409: {"description": "a team of this name exists"}}


def _out(view: teams.TeamView) -> TeamOut:
    t = view.team
    return TeamOut(id=t.id, name=t.name, member_ids=list(view.member_ids), created_at=t.created_at)


@router.get("")
async def list_teams(admin: AdminDep, session: SessionDep) -> list[TeamOut]:
    """Every team by name with its members' agent ids."""
    return [_out(v) for v in await teams.list_teams(session=session)]


@agent_router.get("/teams")
async def teams_for_transfer(agent: AgentDep, session: SessionDep) -> list[TeamOut]:
    """Every team by name with its members' ids (the console's transfer to a team)."""
    return [_out(v) for v in await teams.list_teams(session=session)]


@router.post("", status_code=status.HTTP_201_CREATED, responses=NAME_TAKEN)
async def create_team(
    body: TeamIn, admin: AdminDep, session: SessionDep, request: Request
) -> TeamOut:
    """A new team without members."""
    view = await teams.create_team(
        session=session, name=body.name, actor=admin, ip=client_ip(request)
    )
    return _out(view)


@router.patch("/{team_id}", responses=ERRORS | NAME_TAKEN)
async def rename_team(
    team_id: RowId, body: TeamIn, admin: AdminDep, session: SessionDep, request: Request
) -> TeamOut:
    """A new name (the FAQ entries naming the team follow it)."""
    view = await teams.rename_team(
        session=session, team_id=team_id, name=body.name, actor=admin, ip=client_ip(request)
    )
    return _out(view)


@router.delete("/{team_id}", status_code=status.HTTP_204_NO_CONTENT, responses=ERRORS)
async def delete_team(
    team_id: RowId, admin: AdminDep, session: SessionDep, request: Request
) -> Response:
    """Remove the team; its waiting chats and its topics go to everyone."""
    await teams.delete_team(session=session, team_id=team_id, actor=admin, ip=client_ip(request))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/{team_id}/members/{agent_id}", responses=ERRORS)
async def add_member(
    team_id: RowId, agent_id: RowId, admin: AdminDep, session: SessionDep, request: Request
) -> TeamOut:
    """Put the agent in the team (again: no change)."""
    view = await teams.set_membership(
        session=session, team_id=team_id, agent_id=agent_id, member=True, actor=admin,
        ip=client_ip(request),
    )
    return _out(view)


@router.delete("/{team_id}/members/{agent_id}", responses=ERRORS)
async def remove_member(
    team_id: RowId, agent_id: RowId, admin: AdminDep, session: SessionDep, request: Request
) -> TeamOut:
    """Take the agent out of the team (not in it: no change)."""
    view = await teams.set_membership(
        session=session, team_id=team_id, agent_id=agent_id, member=False, actor=admin,
        ip=client_ip(request),
    )
    return _out(view)
