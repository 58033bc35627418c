"""Admin REST for the team each FAQ entry's topic goes to (issue 16; handoff/team_routing.py).
Apart from app/routes/kb.py, which is near the module size limit."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from app.db import SessionDep
from app.security import KbManagerDep, client_ip
from handoff import knowledge
from handoff.team_models import TEAM_NAME_MAX

router = APIRouter(prefix="/api/admin", tags=["knowledge base"])


class EntryTeamIn(BaseModel):
    team: Annotated[str, Field(max_length=TEAM_NAME_MAX)] | None = None  # None or "": everyone


class EntryTeamOut(BaseModel):
    entry_id: str
    team: str | None


@router.get("/kb-teams")
async def entry_teams(admin: KbManagerDep, session: SessionDep) -> dict[str, str]:
    """Entry id -> the team's name, for every entry naming a team."""
    return await knowledge.entry_teams(session=session)


@router.put("/kb/{entry_id}/team", responses={404: {"description": "no such entry"}})
async def set_entry_team(
    entry_id: str, body: EntryTeamIn, admin: KbManagerDep, session: SessionDep, request: Request
) -> EntryTeamOut:
    """Name the team the entry's topic goes to first when the bot hands it to a person."""
    team = await knowledge.set_entry_team(
        session=session,
        entry_id=entry_id,
        team=body.team,
        actor_id=admin.agent_id,
        ip=client_ip(request),
    )
    request.app.state.kb_changed.set()  # exports and every replica's copy follow
    return EntryTeamOut(entry_id=entry_id, team=team)
