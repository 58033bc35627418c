"""Teams: admins' changes, the team's queue first with fallback to everyone, transfer to a team,
the bot's topic rule, and an FAQ entry's team stored with the knowledge base."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot import Entry, Reason
from handoff import agent_actions, knowledge, teams
from handoff.errors import Conflict, Invalid
from handoff.escalation import escalate
from handoff.models import Agent, Conversation, Message, Sender, utcnow
from handoff.routing import Routing, drain_queue
from handoff.states import ConversationState as S
from handoff.team_models import ConversationTeam
from handoff.team_routing import falling_back, recognised_team, waiting_for

HOUR = Routing(team_fallback_s=3600)  # nothing falls back by itself during a test


async def team_of(session, name: str, *members: Agent) -> int:
    admin = members[0]
    view = await teams.create_team(session=session, name=name, actor=admin, ip=None)
    for m in members:
        await teams.set_membership(
            session=session, team_id=view.team.id, agent_id=m.id, member=True, actor=admin, ip=None
        )
    return view.team.id


async def escalated(session, bus, new_chat, team_id: int | None, routing: Routing = HOUR) -> int:
    conv = await new_chat()
    await escalate(
        session=session, bus=bus, conv=conv, reason=Reason.ASKED_FOR_HUMAN, routing=routing,
        team_id=team_id,
    )
    return conv.id


async def holder(session, conversation_id: int) -> int | None:
    conv = await session.get(Conversation, conversation_id, populate_existing=True)
    await session.commit()
    return conv.assigned_agent_id if conv.state == S.ASSIGNED else None


async def test_admins_add_rename_and_delete_teams_and_members(session, new_agent) -> None:
    ann = await new_agent("Ann")
    view = await teams.create_team(session=session, name="  Orders ", actor=ann, ip=None)
    assert view.team.name == "Orders" and view.member_ids == ()
    with pytest.raises(Conflict):
        await teams.create_team(session=session, name="orders", actor=ann, ip=None)
    with pytest.raises(Invalid):
        await teams.create_team(session=session, name="   ", actor=ann, ip=None)
    await knowledge.replace_all(
        session=session, entries=[Entry("track", "Where is my order?", "Here.", team="Orders")]
    )
    for _ in range(2):  # twice: no change the second time
        view = await teams.set_membership(
            session=session, team_id=view.team.id, agent_id=ann.id, member=True, actor=ann, ip=None
        )
    assert view.member_ids == (ann.id,)
    view = await teams.rename_team(
        session=session, team_id=view.team.id, name="Orders & shipping", actor=ann, ip=None
    )
    assert view.team.name == "Orders & shipping"
    assert (await knowledge.entry_teams(session=session)) == {"track": "Orders & shipping"}
    view = await teams.set_membership(
        session=session, team_id=view.team.id, agent_id=ann.id, member=False, actor=ann, ip=None
    )
    assert view.member_ids == ()
    await teams.delete_team(session=session, team_id=view.team.id, actor=ann, ip=None)
    assert await teams.list_teams(session=session) == []
    # The entry keeps its team's name: nothing the admin wrote is lost; it routes to everyone.
    assert (await knowledge.entry_teams(session=session)) == {"track": "Orders & shipping"}


async def test_a_teams_chat_goes_to_its_members_first_then_to_anyone(
    session, bus, new_agent, new_chat
) -> None:
    ann = await new_agent("Ann", capacity=1)
    bob = await new_agent("Bob", capacity=3)
    orders = await team_of(session, "Orders", ann)
    await team_of(session, "Returns", bob)

    first = await escalated(session, bus, new_chat, orders)
    assert await holder(session, first) == ann.id, "Bob has more room, but it is Orders' chat"
    second = await escalated(session, bus, new_chat, orders)
    assert await holder(session, second) is None, "Ann is full: it waits for Orders"
    shown = await waiting_for(session=session, conversation_ids=[second], fallback_s=3600)
    assert shown == {second: "Orders"}, "the console's queue says whom it waits for"
    anyone = await escalated(session, bus, new_chat, None)
    assert await holder(session, anyone) == bob.id, "a later chat for anyone is not held up"

    # The fallback time passes (moved back rather than waited for): anyone may take it now.
    await session.execute(
        update(ConversationTeam)
        .where(ConversationTeam.conversation_id == second)
        .values(since=utcnow() - timedelta(seconds=HOUR.team_fallback_s + 1))
    )
    await session.commit()
    assert await waiting_for(session=session, conversation_ids=[second], fallback_s=3600) == {}
    await drain_queue(session=session, bus=bus, routing=HOUR)
    assert await holder(session, second) == bob.id


async def test_nobody_waits_for_a_team_with_nobody_online(session, bus, new_agent, new_chat):
    from handoff.models import AgentStatus

    away = await new_agent("Ann", status=AgentStatus.AWAY)
    bob = await new_agent("Bob")
    orders = await team_of(session, "Orders", away)
    chat = await escalated(session, bus, new_chat, orders)
    assert await holder(session, chat) == bob.id


async def test_the_fallback_clock_says_when_the_queue_needs_a_drain(
    session, bus, new_agent, new_chat
) -> None:
    ann = await new_agent("Ann", capacity=0)  # never auto-assigned: the chat stays queued
    orders = await team_of(session, "Orders", ann)
    await escalated(session, bus, new_chat, orders, Routing(team_fallback_s=60))
    now = utcnow()
    due = await falling_back(
        session=session, fallback_s=60, after=now, until=now + timedelta(seconds=61)
    )
    not_yet = await falling_back(
        session=session, fallback_s=60, after=now - timedelta(seconds=10), until=now
    )
    await session.commit()
    assert due and not not_yet


async def test_an_agent_transfers_a_chat_to_a_team(session, bus, new_agent, new_chat) -> None:
    ann = await new_agent("Ann", capacity=1)
    bob = await new_agent("Bob", capacity=3)
    returns = await team_of(session, "Returns", ann)
    chat = await escalated(session, bus, new_chat, None)
    assert await holder(session, chat) == bob.id
    for wrong in ({}, {"to_agent_id": ann.id, "to_team_id": returns}):
        with pytest.raises(Invalid):
            await agent_actions.transfer(
                session=session, bus=bus, conversation_id=chat, agent=bob, note=None,
                routing=HOUR, **{"to_agent_id": None, **wrong},
            )
    conv = await agent_actions.transfer(
        session=session, bus=bus, conversation_id=chat, agent=bob, to_agent_id=None,
        to_team_id=returns, note="they want to send it back", routing=HOUR,
    )
    assert conv.state == S.ASSIGNED and conv.assigned_agent_id == ann.id
    said = (
        await session.scalars(
            select(Message).where(Message.conversation_id == chat).order_by(Message.seq)
        )
    ).all()
    await session.commit()
    note, system = [m for m in said if m.meta and m.meta.get("to_team_id") == returns]
    assert note.sender == Sender.NOTE and note.text == "they want to send it back"
    assert system.sender == Sender.SYSTEM and "Returns" in system.text

    # A transfer to one's own team is to a colleague: not back to Ann, though she has more room.
    cid = await new_agent("Cid", capacity=1)
    ann.capacity = 3
    await teams.set_membership(
        session=session, team_id=returns, agent_id=cid.id, member=True, actor=ann, ip=None
    )
    conv = await agent_actions.transfer(
        session=session, bus=bus, conversation_id=chat, agent=ann, to_agent_id=None,
        to_team_id=returns, note=None, routing=HOUR,
    )
    assert conv.assigned_agent_id == cid.id


def test_the_bots_topic_is_clear_enough_to_route_by() -> None:
    teams_by_entry = {"track": "Orders", "cancel": "Orders", "refund": "Returns"}

    def cands(*ids: str) -> list[dict[str, object]]:
        return [{"entry_id": i} for i in ids]

    assert recognised_team(cands("track", "refund"), 0.6, 0.5, teams_by_entry) == "Orders"
    assert recognised_team(cands("track", "refund"), 0.3, 0.5, teams_by_entry) is None
    assert recognised_team(cands("track", "cancel"), 0.3, 0.5, teams_by_entry) == "Orders", (
        "below the clarify threshold, but the two best agree on the team"
    )
    assert recognised_team(cands("size", "track"), 0.9, 0.5, teams_by_entry) is None
    assert recognised_team([], 0.9, 0.5, teams_by_entry) is None


async def test_an_entrys_team_is_stored_and_read_with_the_knowledge_base(session) -> None:
    entries = [
        Entry("track", "Where is my order?", "Track it here.", team="Orders"),
        Entry("hello", "Hi", "Hello!"),
    ]
    await knowledge.replace_all(session=session, entries=entries)
    assert await knowledge.load_entries(session=session) == [entries[1], entries[0]]
    assert await knowledge.set_entry_team(session=session, entry_id="hello", team=" Sales ") == (
        "Sales"
    )
    assert await knowledge.set_entry_team(session=session, entry_id="track", team="") is None
    loaded = {e.id: e.team for e in await knowledge.load_entries(session=session)}
    assert loaded == {"hello": "Sales", "track": None}
