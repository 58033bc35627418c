"""Routing by team: which team an escalated chat is for, who may get it, and the fallback.

- The bot's topic: when the bot hands a chat over, the team of its top candidate's FAQ entry,
  if the topic is clear enough (`recognised_team`): the candidate reached the clarify threshold
  (the bot would have asked "did you mean" about it), or the two best candidates name the same
  team (the subject is clear even if no one answer fits). Otherwise no team: everyone.
- A topic the visitor picked in the widget (the topic choice), or an agent's transfer to a
  team, names the team directly.
- While a chat waits for a team (`conversation_teams.since` + `Routing.team_fallback_s`), only
  that team's online members are assigned it (the drain in handoff/routing.py asks
  `allowed_agents`); when none of them is online at all nobody waits for them: anyone gets it.
  After the fallback time anyone gets it; `fallback_forever` drains the queue when that time
  comes, since no other event would.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.models import Conversation, utcnow
from handoff.periodic import every
from handoff.states import ConversationState
from handoff.team_models import ConversationTeam, FaqEntryTeam, Team, TeamMember

S = ConversationState
# The fallback clock is checked this often at most: a chat falls back within this of its time.
FALLBACK_CHECK_MAX_S = 5.0
# ... and at least this often apart, so a tiny test fallback does not spin the loop.
FALLBACK_CHECK_MIN_S = 0.05
TOPIC_AGREEING_CANDIDATES = 2  # the best this many naming one team make its topic clear


def recognised_team(
    candidates: Sequence[dict[str, Any]],
    confidence: float,
    clarify: float,
    teams_by_entry: dict[str, str],
) -> str | None:
    """The team name of the topic the bot recognised, or None (see the module's rule)."""
    if not candidates:
        return None
    top = teams_by_entry.get(str(candidates[0].get("entry_id")))
    if top is None:
        return None
    if confidence >= clarify:
        return top
    best = [
        teams_by_entry.get(str(c.get("entry_id")))
        for c in candidates[:TOPIC_AGREEING_CANDIDATES]
    ]
    if len(best) == TOPIC_AGREEING_CANDIDATES and all(t == top for t in best):
        return top
    return None


async def entry_teams(*, session: AsyncSession, entry_ids: Sequence[str]) -> dict[str, str]:
    """The team each of these FAQ entries names (entries naming none left out)."""
    if not entry_ids:
        return {}
    rows = await session.execute(
        select(FaqEntryTeam.entry_id, FaqEntryTeam.team).where(
            FaqEntryTeam.entry_id.in_(list(entry_ids))
        )
    )
    return {entry_id: team for entry_id, team in rows}


async def team_by_name(*, session: AsyncSession, name: str | None) -> Team | None:
    """The team of this name (any case), if there is one."""
    if not name:
        return None
    return await session.scalar(select(Team).where(func.lower(Team.name) == name.lower()))


async def route_to_team(
    *,
    session: AsyncSession,
    conversation_id: int,
    team_id: int,
    now: datetime | None = None,
    from_agent_id: int | None = None,
) -> None:
    """The chat waits for this team from now (in the caller's transaction); `from_agent_id`,
    the agent who transferred it there, is not offered it back."""
    await session.execute(
        delete(ConversationTeam).where(ConversationTeam.conversation_id == conversation_id)
    )
    session.add(
        ConversationTeam(
            conversation_id=conversation_id,
            team_id=team_id,
            since=now or utcnow(),
            from_agent_id=from_agent_id,
        )
    )
    await session.flush()


async def conversation_team(*, session: AsyncSession, conversation_id: int) -> Team | None:
    """The team the chat was last routed to, if any."""
    return await session.scalar(
        select(Team)
        .join(ConversationTeam, ConversationTeam.team_id == Team.id)
        .where(ConversationTeam.conversation_id == conversation_id)
    )


async def allowed_agents(
    *, session: AsyncSession, conversation_id: int, fallback_s: float
) -> frozenset[int] | None:
    """The agents a waiting chat may go to now: its team's members, or None (anyone)."""
    routed = await session.get(ConversationTeam, conversation_id)
    if routed is None or routed.since + timedelta(seconds=fallback_s) <= utcnow():
        return None
    members = await session.scalars(
        select(TeamMember.agent_id).where(TeamMember.team_id == routed.team_id)
    )
    return frozenset(members) - {routed.from_agent_id}


async def falling_back(
    *, session: AsyncSession, fallback_s: float, after: datetime, until: datetime
) -> bool:
    """Whether a queued chat's team time ran out in (after, until]: the queue needs a drain."""
    window = timedelta(seconds=fallback_s)
    found = await session.scalar(
        select(ConversationTeam.conversation_id)
        .join(Conversation, Conversation.id == ConversationTeam.conversation_id)
        .where(
            Conversation.state == S.QUEUED,
            ConversationTeam.since > after - window,
            ConversationTeam.since <= until - window,
        )
        .limit(1)
    )
    return found is not None


async def fallback_forever(
    *,
    sessions: async_sessionmaker[AsyncSession],
    fallback_s: float,
    drain: Callable[[AsyncSession], Awaitable[object]],
) -> None:
    """Drain the queue whenever a team's chat reaches its fallback time (every replica runs
    it: assignment is race-safe, and a replica that was down catches up on its first look)."""
    pause = min(FALLBACK_CHECK_MAX_S, max(FALLBACK_CHECK_MIN_S, fallback_s / 4))
    after = datetime.min.replace(tzinfo=utcnow().tzinfo) + timedelta(seconds=fallback_s)

    async def once() -> None:
        nonlocal after
        until = utcnow()
        async with sessions() as session:
            due = await falling_back(
                session=session, fallback_s=fallback_s, after=after, until=until
            )
            await session.commit()
            if due:
                await drain(session)
        after = until  # a failed look leaves it: the next one covers the same stretch

    await every(pause, "team fallback check", once)


async def topics(*, session: AsyncSession) -> list[dict[str, Any]]:
    """The topics a visitor may pick before the handover: teams with members, by name."""
    rows = await session.execute(
        select(Team.id, Team.name)
        .where(select(TeamMember.agent_id).where(TeamMember.team_id == Team.id).exists())
        .order_by(Team.name)
    )
    return [{"id": team_id, "name": name} for team_id, name in rows]


async def waiting_for(
    *, session: AsyncSession, conversation_ids: Sequence[int], fallback_s: float
) -> dict[int, str]:
    """Conversation id -> the team it is still waiting for (its fallback time not yet come)."""
    if not conversation_ids:
        return {}
    since = utcnow() - timedelta(seconds=fallback_s)
    rows = await session.execute(
        select(ConversationTeam.conversation_id, Team.name)
        .join(Team, Team.id == ConversationTeam.team_id)
        .where(
            ConversationTeam.conversation_id.in_(list(conversation_ids)),
            ConversationTeam.since > since,
        )
    )
    return {conversation_id: name for conversation_id, name in rows}
