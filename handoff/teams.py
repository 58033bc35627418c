"""Teams as admins run them: add, rename, delete a team; add and remove its members. Every
change is audited in its transaction. Routing by team is in handoff/team_routing.py.

FAQ entries name their team by name (KB files carry names, not ids): a rename renames it in
the entries too; a deleted team's name stays on its entries, which then go to everyone (and to
the team again if one of that name is added back).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import audit
from handoff.errors import Conflict, Invalid, NotFound
from handoff.models import Agent
from handoff.team_models import TEAM_NAME_MAX, ConversationTeam, FaqEntryTeam, Team, TeamMember


@dataclass(frozen=True)
class TeamView:
    team: Team
    member_ids: tuple[int, ...]


def check_team_name(name: str) -> str:
    """The name stripped, or Invalid (empty, too long)."""
    name = " ".join(name.split())
    if not 1 <= len(name) <= TEAM_NAME_MAX:
        raise Invalid(f"team name must be 1 to {TEAM_NAME_MAX} characters")
    return name


async def get_team(*, session: AsyncSession, team_id: int) -> Team:
    """One team, or NotFound."""
    team = await session.get(Team, team_id)
    if team is None:
        raise NotFound(f"team {team_id} not found")
    return team


async def _view(session: AsyncSession, team: Team) -> TeamView:
    ids = await session.scalars(
        select(TeamMember.agent_id)
        .where(TeamMember.team_id == team.id)
        .order_by(TeamMember.agent_id)
    )
    return TeamView(team, tuple(ids))


async def list_teams(*, session: AsyncSession) -> list[TeamView]:
    """Every team by name with its members' ids (two statements for the whole list)."""
    teams = (await session.scalars(select(Team).order_by(Team.name))).all()
    members: dict[int, list[int]] = {}
    for team_id, agent_id in await session.execute(
        select(TeamMember.team_id, TeamMember.agent_id).order_by(TeamMember.agent_id)
    ):
        members.setdefault(team_id, []).append(agent_id)
    return [TeamView(t, tuple(members.get(t.id, ()))) for t in teams]


async def _check_free(session: AsyncSession, name: str, but: int | None = None) -> None:
    # Case-insensitive: "orders" and "Orders" on two buttons would only confuse visitors.
    clash = await session.scalar(
        select(Team.id).where(func.lower(Team.name) == name.lower(), Team.id != (but or 0))
    )
    if clash is not None:
        raise Conflict(f"a team named {name!r} exists")


async def create_team(
    *, session: AsyncSession, name: str, actor: Agent, ip: str | None
) -> TeamView:
    """A new team without members (audited as team_created)."""
    name = check_team_name(name)
    await _check_free(session, name)
    team = Team(name=name)
    session.add(team)
    await session.flush()
    audit.record(session, "team_created", agent_id=actor.id, ip=ip, team_id=team.id, name=name)
    await session.commit()
    return TeamView(team, ())


async def rename_team(
    *, session: AsyncSession, team_id: int, name: str, actor: Agent, ip: str | None
) -> TeamView:
    """A new name for the team, and for the FAQ entries that named it (audited)."""
    team = await get_team(session=session, team_id=team_id)
    name = check_team_name(name)
    await _check_free(session, name, but=team.id)
    old = team.name
    team.name = name
    await session.execute(
        update(FaqEntryTeam).where(FaqEntryTeam.team == old).values(team=name)
    )
    audit.record(
        session, "team_renamed", agent_id=actor.id, ip=ip, team_id=team.id, old=old, name=name
    )
    await session.commit()
    return await _view(session, team)


async def delete_team(
    *, session: AsyncSession, team_id: int, actor: Agent, ip: str | None
) -> None:
    """Remove the team; its chats and topics go to everyone (audited as team_deleted)."""
    team = await get_team(session=session, team_id=team_id)
    name = team.name
    # Explicitly, not only by ON DELETE CASCADE: SQLite enforces foreign keys only when asked.
    await session.execute(delete(TeamMember).where(TeamMember.team_id == team.id))
    await session.execute(delete(ConversationTeam).where(ConversationTeam.team_id == team.id))
    await session.delete(team)
    audit.record(session, "team_deleted", agent_id=actor.id, ip=ip, team_id=team_id, name=name)
    await session.commit()


async def set_membership(
    *,
    session: AsyncSession,
    team_id: int,
    agent_id: int,
    member: bool,
    actor: Agent,
    ip: str | None,
) -> TeamView:
    """Put the agent in the team (member) or take them out; doing it twice changes nothing."""
    team = await get_team(session=session, team_id=team_id)
    if await session.get(Agent, agent_id) is None:
        raise NotFound(f"agent {agent_id} not found")
    current = await session.get(TeamMember, (team.id, agent_id))
    if member and current is None:
        session.add(TeamMember(team_id=team.id, agent_id=agent_id))
    elif not member and current is not None:
        await session.delete(current)
    else:
        return await _view(session, team)
    action = "team_member_added" if member else "team_member_removed"
    audit.record(
        session, action, agent_id=actor.id, ip=ip, team_id=team.id, target_agent_id=agent_id
    )
    await session.commit()
    return await _view(session, team)


async def teams_named(*, session: AsyncSession, names: Sequence[str]) -> dict[str, Team]:
    """The teams of these names (any case), by the name's lower case."""
    if not names:
        return {}
    lowered = sorted({n.lower() for n in names})
    rows = await session.scalars(select(Team).where(func.lower(Team.name).in_(lowered)))
    return {t.name.lower(): t for t in rows}
