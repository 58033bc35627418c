"""Re-routing (issue 16) on the real database and the in-memory bus: an agent gone (no console
for the presence timeout) or silent (no answer for a while) loses the chat to the head of the
queue, exactly once however many replicas sweep, and routing gives it to someone else."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import make_engine, make_sessionmaker
from handoff import agent_actions, agents, reroute
from handoff.events import AGENTS_CHANNEL, conversation_channel
from handoff.messages import append_message
from handoff.models import Agent, AgentPresence, AgentStatus, Conversation, Message, Sender, utcnow
from handoff.queue import queue_position
from handoff.routing import Routing, drain_queue
from handoff.states import ConversationState as S

ROUTING = Routing(presence_timeout_s=60)
NO_SILENCE = reroute.Reroute(warn_s=10_000, reroute_s=0)


async def queued(session: AsyncSession, new_chat, ago_s: float) -> Conversation:
    chat = await new_chat()
    chat.move_to(S.QUEUED)
    chat.queued_at = utcnow() - timedelta(seconds=ago_s)
    await session.commit()
    return chat


async def fresh(session: AsyncSession, chat: Conversation) -> Conversation:
    conv = await session.get(Conversation, chat.id)
    assert conv is not None
    await session.refresh(conv)
    return conv


async def test_a_gone_agents_chat_goes_to_the_head_of_the_queue_once(
    session, bus, new_agent, new_chat, listen, database_url
):
    bob = await new_agent("Bob")
    ada = await new_agent("Ada", capacity=1, status=AgentStatus.OFFLINE)
    mine = await queued(session, new_chat, ago_s=60)
    older = await queued(session, new_chat, ago_s=120)  # waiting longer than Bob's chat did
    await agent_actions.take(session=session, bus=bus, conversation_id=mine.id, agent=bob)
    # Bob's replica died: his presence row is as old as his last status change.
    long_ago = utcnow() - timedelta(seconds=120)
    await session.execute(
        update(AgentPresence).where(AgentPresence.agent_id == bob.id).values(last_seen_at=long_ago)
    )
    await session.execute(update(Agent).where(Agent.id == bob.id).values(last_seen_at=long_ago))
    await session.commit()
    visitor = listen(conversation_channel(mine.id))

    # Two replicas sweep at once: the chat is re-queued by exactly one of them.
    engine = make_engine(database_url)
    try:
        sessions = make_sessionmaker(engine)

        async def sweep() -> int:
            async with sessions() as s:
                return await reroute.sweep(session=s, bus=bus, routing=ROUTING, config=NO_SILENCE)

        assert sorted(await asyncio.gather(sweep(), sweep())) == [0, 1]
    finally:
        await engine.dispose()

    conv = await fresh(session, mine)
    assert conv.state == S.QUEUED and conv.assigned_agent_id is None
    assert conv.queued_at is not None and conv.queued_at < (await fresh(session, older)).queued_at
    assert await queue_position(session=session, conv=conv) == 1, "the head, not the back"
    said = [e["text"] for e in visitor.events("message")]
    assert said == [
        "Your agent is no longer available. A colleague will take over; everything you wrote "
        "is kept."
    ]
    # Ada comes online with one free slot: the re-queued chat is first.
    await agents.set_presence(session=session, agent_id=ada.id, status=AgentStatus.ONLINE)
    await session.commit()
    assert await drain_queue(session=session, bus=bus, routing=ROUTING) == [mine.id]
    assert (await fresh(session, mine)).assigned_agent_id == ada.id
    assert (await fresh(session, older)).state == S.QUEUED


async def test_an_away_agent_with_a_live_console_keeps_the_chat(session, bus, new_agent, new_chat):
    bob = await new_agent("Bob")
    chat = await queued(session, new_chat, ago_s=5)
    await agent_actions.take(session=session, bus=bus, conversation_id=chat.id, agent=bob)
    await agents.set_presence(session=session, agent_id=bob.id, status=AgentStatus.AWAY)
    await session.commit()
    assert await reroute.sweep(session=session, bus=bus, routing=ROUTING, config=NO_SILENCE) == 0
    assert (await fresh(session, chat)).assigned_agent_id == bob.id


async def visitor_waits(session: AsyncSession, chat: Conversation, ago_s: float) -> None:
    """The visitor wrote `ago_s` ago, and the chat was assigned then too."""
    msg = await append_message(
        session=session, conversation_id=chat.id, sender=Sender.VISITOR, text="hello?"
    )
    then = utcnow() - timedelta(seconds=ago_s)
    await session.execute(update(Message).where(Message.id == msg.id).values(created_at=then))
    await session.execute(
        update(Conversation).where(Conversation.id == chat.id).values(assigned_at=then)
    )
    await session.commit()


async def test_a_silent_agent_is_warned_once_then_the_chat_goes_to_a_colleague(
    session, bus, new_agent, new_chat, listen
):
    config = reroute.Reroute(warn_s=60, reroute_s=60)
    bob = await new_agent("Bob", capacity=5)  # most free slots: routing would pick him again
    ada = await new_agent("Ada", capacity=1)
    await session.commit()
    chat = await queued(session, new_chat, ago_s=100)
    answered = await queued(session, new_chat, ago_s=100)
    for c in (chat, answered):
        await agent_actions.take(session=session, bus=bus, conversation_id=c.id, agent=bob)
    await visitor_waits(session, chat, ago_s=90)
    await visitor_waits(session, answered, ago_s=90)
    await append_message(
        session=session, conversation_id=answered.id, sender=Sender.AGENT, text="Hi!",
        agent_id=bob.id,
    )
    await session.commit()
    consoles = listen(AGENTS_CHANNEL)

    assert await reroute.sweep(session=session, bus=bus, routing=ROUTING, config=config) == 0
    [warning] = consoles.events("agent_silent")
    assert warning["conversation_id"] == chat.id and warning["agent_id"] == bob.id
    assert warning["reroute_at"] is not None
    await reroute.sweep(session=session, bus=bus, routing=ROUTING, config=config)
    assert consoles.events("agent_silent") == [], "warned once per unanswered message"
    assert not await reroute.anything_to_do(session=session, routing=ROUTING, config=config)

    await visitor_waits(session, chat, ago_s=150)  # past the warning and the second period
    assert await reroute.anything_to_do(session=session, routing=ROUTING, config=config)
    visitor = listen(conversation_channel(chat.id))
    assert await reroute.sweep(session=session, bus=bus, routing=ROUTING, config=config) == 1
    conv = await fresh(session, chat)
    assert conv.state == S.ASSIGNED and conv.assigned_agent_id == ada.id, "someone else"
    said = [e["text"] for e in visitor.events("message")]
    assert said[0].startswith("Your agent is no longer available") and "Ada joined" in said[1]
    assert (await fresh(session, answered)).assigned_agent_id == bob.id
