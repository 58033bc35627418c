"""Privacy: one visitor's data exported or deleted for good, and old conversations purged.

What an operator answering a data request relies on: every row about the visitor is in the
export and gone after the deletion; nobody else's conversation, queue place or agent notices
anything but the freed slot; the audit log says who did it without repeating the data.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import make_engine, make_read_sessionmaker
from bot import Reason
from handoff import agent_actions, audit, feedback, privacy, visitors
from handoff.conversations import get_conversation
from handoff.errors import NotFound
from handoff.escalation import escalate
from handoff.events import AGENTS_CHANNEL, QUEUE_CHANNEL, conversation_channel
from handoff.messages import append_message, messages_after
from handoff.models import (
    Conversation,
    Message,
    MessageFeedback,
    Rating,
    Sender,
    Ticket,
    Visitor,
    utcnow,
)
from handoff.queue import queue_position
from handoff.routing import Routing
from handoff.states import ConversationState as S

MANUAL = Routing(auto_assign=False)
AUTO = Routing()
TABLES = (Visitor, Conversation, Message, Ticket, Rating, MessageFeedback)


async def count(session: AsyncSession, model: type, **where: object) -> int:
    query = select(func.count()).select_from(model).filter_by(**where)
    return int(await session.scalar(query) or 0)


async def count_where(session: AsyncSession, where: object) -> int:
    return int(await session.scalar(select(func.count()).select_from(Message).where(where)) or 0)


async def everything(session: AsyncSession) -> dict[str, int]:
    return {m.__tablename__: await count(session, m) for m in TABLES}


async def history(session: AsyncSession, visitor_email: str) -> Visitor:
    """A visitor with a rated, closed chat (bot answer with feedback, a note, a ticket)."""
    conv = await visitors.open_conversation(
        session=session, visitor_id=(await visitors.create_visitor(session=session, name="Eve")).id
    )
    visitor = await session.get(Visitor, conv.visitor_id)
    assert visitor is not None
    visitor.email = visitor_email
    await session.commit()
    for sender, text in [(Sender.VISITOR, "my order 42?"), (Sender.BOT, "It ships today.")]:
        await append_message(session=session, conversation_id=conv.id, sender=sender, text=text)
    await append_message(
        session=session, conversation_id=conv.id, sender=Sender.NOTE, text="VIP customer"
    )
    session.add(Ticket(conversation_id=conv.id, email="eve.tickets@example.com"))
    await session.commit()
    await feedback.record_helpful(session=session, conversation_id=conv.id, seq=2, helpful=True)
    conv = await get_conversation(session=session, conversation_id=conv.id)
    conv.state, conv.closed_at = S.CLOSED, utcnow()
    await session.commit()
    await feedback.rate(session=session, visitor_id=conv.visitor_id, stars=5, comment="great")
    visitor = await session.get(Visitor, conv.visitor_id)
    assert visitor is not None
    return visitor


async def queued_chat(session, bus, visitor_id: int | None = None) -> Conversation:
    if visitor_id is None:
        visitor_id = (await visitors.create_visitor(session=session)).id
    conv = await visitors.open_conversation(session=session, visitor_id=visitor_id)
    await append_message(session=session, conversation_id=conv.id, sender=Sender.VISITOR, text="hi")
    await session.commit()
    await escalate(
        session=session, bus=bus, conv=conv, reason=Reason.ASKED_FOR_HUMAN, routing=MANUAL
    )
    return await get_conversation(session=session, conversation_id=conv.id)


async def test_delete_takes_every_row_of_the_visitor_and_nothing_else(
    session, bus, listen, new_agent
) -> None:
    await new_agent("Ann")  # online, so escalations queue instead of becoming tickets
    eve = await history(session, "Eve@Example.com")
    eve_waiting = await queued_chat(session, bus, eve.id)
    other = await queued_chat(session, bus)
    others_before = [
        (m.seq, m.text)
        for m in await messages_after(
            session=session, conversation_id=other.id, after_seq=0, include_notes=True
        )
    ]
    assert await queue_position(session=session, conv=other) == 2
    before = await everything(session)
    eve_convs = select(Conversation.id).where(Conversation.visitor_id == eve.id)
    eve_messages = await count_where(session, Message.conversation_id.in_(eve_convs))
    eve_socket = listen(conversation_channel(eve_waiting.id))
    line = listen(QUEUE_CHANNEL)  # the one queue broadcast every visitor socket hears
    consoles = listen(AGENTS_CHANNEL)

    rows = await privacy.delete_visitor(
        session=session, bus=bus, visitor_id=eve.id, agent_id=7, routing=MANUAL
    )

    assert rows == {
        "visitors": 1,
        "conversations": 2,
        "messages": eve_messages,
        "tickets": 1,
        "ratings": 1,
        "message_feedback": 1,
    }
    assert await everything(session) == {t: before[t] - rows[t] for t in before}
    assert await count(session, Conversation, visitor_id=eve.id) == 0
    assert await count_where(session, Message.conversation_id.in_(eve_convs)) == 0
    # The other visitor: same messages, same seqs, moved up the queue and told so.
    after = await messages_after(
        session=session, conversation_id=other.id, after_seq=0, include_notes=True
    )
    assert [(m.seq, m.text) for m in after] == others_before
    fresh = await get_conversation(session=session, conversation_id=other.id)
    assert await queue_position(session=session, conv=fresh) == 1
    assert line.events()[-1]["queued"] == [other.id]
    nxt = await append_message(
        session=session, conversation_id=other.id, sender=Sender.VISITOR, text="still there?"
    )
    assert nxt.seq == others_before[-1][0] + 1
    # Eve's open socket is told; every console drops both of her conversations.
    told = eve_socket.events("state")
    assert told == [
        {
            "type": "state",
            "conversation_id": eve_waiting.id,
            "state": "closed",
            "escalation_reason": None,
            "deleted": True,
        }
    ]
    dropped = consoles.events("conversation")
    assert {e["conversation_id"] for e in dropped} >= {eve_waiting.id}
    assert all(e["state"] == "deleted" for e in dropped)
    # The audit log names who and how much, and none of the deleted data.
    (event,) = await audit.recent(session=session, action="visitor_deleted")
    assert event.agent_id == 7
    assert event.detail == {"visitor_id": eve.id, "rows": rows}
    assert "example.com" not in str(event.detail).lower()

    with pytest.raises(NotFound):
        await privacy.delete_visitor(session=session, bus=bus, visitor_id=eve.id, agent_id=7)


async def test_deleting_a_chat_an_agent_holds_frees_their_slot_for_the_queue(
    session, bus, new_agent
) -> None:
    ann = await new_agent("Ann", capacity=1)
    held = await queued_chat(session, bus)
    waiting = await queued_chat(session, bus)
    await agent_actions.take(session=session, bus=bus, conversation_id=held.id, agent=ann)
    assert (await get_conversation(session=session, conversation_id=waiting.id)).state == S.QUEUED

    await privacy.delete_visitor(
        session=session, bus=bus, visitor_id=held.visitor_id, agent_id=None, routing=AUTO
    )

    fresh = await get_conversation(session=session, conversation_id=waiting.id)
    assert (fresh.state, fresh.assigned_agent_id) == (S.ASSIGNED, ann.id)


async def test_export_has_profile_conversations_messages_tickets_ratings_feedback(
    session,
) -> None:
    eve = await history(session, "eve@example.com")
    await history(session, "someone.else@example.com")

    data = await privacy.export_visitor(session=session, visitor_id=eve.id, agent_id=3)

    shown = data["visitor"]
    assert (shown["id"], shown["name"], shown["email"]) == (eve.id, "Eve", "eve@example.com")
    (conv,) = shown["conversations"]
    assert conv["state"] == "closed" and conv["closed_at"].endswith("+00:00")
    assert [(m["seq"], m["sender"], m["text"]) for m in conv["messages"]] == [
        (1, "visitor", "my order 42?"),
        (2, "bot", "It ships today."),
        (3, "note", "VIP customer"),
    ]
    assert [t["email"] for t in conv["tickets"]] == ["eve.tickets@example.com"]
    assert [(r["stars"], r["comment"]) for r in conv["ratings"]] == [(5, "great")]
    assert [(f["seq"], f["helpful"]) for f in conv["message_feedback"]] == [(2, True)]
    assert "someone.else" not in str(data)
    (event,) = await audit.recent(session=session, action="visitor_exported")
    assert (event.agent_id, event.detail) == (3, {"visitor_id": eve.id})

    with pytest.raises(NotFound):
        await privacy.export_visitor(session=session, visitor_id=eve.id + 100, agent_id=3)


async def test_find_by_the_email_on_the_profile_or_on_a_ticket(session) -> None:
    eve = await history(session, "eve@example.com")
    await history(session, "bob@example.com")

    assert [
        v.id for v in await privacy.find_visitors(session=session, email=" EVE@example.com")
    ] == [eve.id]
    found = await privacy.find_visitors(session=session, email="eve.tickets@example.com")
    assert eve.id in [v.id for v in found]
    assert await privacy.find_visitors(session=session, email="nobody@example.com") == []


async def test_a_deleted_visitors_token_never_reaches_a_newer_visitor(
    session, bus, writer, database_url
) -> None:
    eve = await history(session, "eve@example.com")
    await privacy.delete_visitor(session=session, bus=bus, visitor_id=eve.id, agent_id=None)
    newcomer = await visitors.create_visitor(session=session, name="Newcomer")

    engine = make_engine(database_url)  # a hello reads in a read session, as the app does
    try:
        async with make_read_sessionmaker(engine)() as reading:
            back = await visitors.resume(
                session=reading,
                writer=writer,
                visitor_id=eve.id,  # what Eve's old token still says
                name=None,
                locale=None,
                page_url=None,
                verified=None,
                conversation_id=None,
                last_seq=0,
            )
    finally:
        await engine.dispose()

    assert newcomer.id != eve.id, "ids of deleted visitors are never handed out again"
    assert back.visitor_id not in (eve.id, newcomer.id)
    assert back.new_conversation


async def test_a_socket_of_a_deleted_visitor_gets_an_error_not_a_new_chat(session, bus) -> None:
    eve = await history(session, "eve@example.com")
    await privacy.delete_visitor(session=session, bus=bus, visitor_id=eve.id, agent_id=None)

    with pytest.raises(NotFound):
        await visitors.open_conversation(session=session, visitor_id=eve.id)
    assert await count(session, Conversation, visitor_id=eve.id) == 0


async def back_date(session, conv: Conversation, days: float, *, closed: bool) -> None:
    then = utcnow() - timedelta(days=days)
    values = {"created_at": then, "closed_at": then if closed else None}
    if closed:
        values["state"] = S.CLOSED
    await session.execute(update(Conversation).where(Conversation.id == conv.id).values(**values))
    await session.execute(
        update(Message).where(Message.conversation_id == conv.id).values(created_at=then)
    )
    await session.commit()


async def chat(session, visitor_id: int | None = None, texts: int = 2) -> Conversation:
    if visitor_id is None:
        visitor_id = (await visitors.create_visitor(session=session)).id
    conv = Conversation(visitor_id=visitor_id, state=S.BOT)
    session.add(conv)
    await session.commit()
    for n in range(texts):
        await append_message(
            session=session, conversation_id=conv.id, sender=Sender.VISITOR, text=f"q{n}"
        )
    await session.commit()
    return conv


async def test_purge_deletes_what_expired_and_visitors_left_with_nothing(
    session, bus, new_agent
) -> None:
    await new_agent("Ann")
    gone = [await chat(session) for _ in range(3)]  # closed 40 days ago, each its own visitor
    for conv in gone:
        await back_date(session, conv, 40, closed=True)
    recent = await chat(session)
    await back_date(session, recent, 10, closed=True)
    returning = await chat(session)  # an old chat, and a new one of the same visitor
    await back_date(session, returning, 40, closed=True)
    still_there = await chat(session, returning.visitor_id)
    idle_bot = await chat(session)  # the bot answered 40 days ago; nobody came back
    await back_date(session, idle_bot, 40, closed=False)
    lively_bot = await chat(session)
    await back_date(session, lively_bot, 40, closed=False)
    await append_message(
        session=session, conversation_id=lively_bot.id, sender=Sender.VISITOR, text="back!"
    )
    await session.commit()
    waiting = await queued_chat(session, bus)  # a person still has to answer these
    await back_date(session, waiting, 40, closed=False)
    await session.execute(
        update(Conversation).where(Conversation.id == waiting.id).values(state=S.QUEUED)
    )
    await session.commit()
    expired = [*gone, returning, idle_bot]

    rows = await privacy.purge_expired(
        session=session, bus=bus, older_than=utcnow() - timedelta(days=30), batch=2
    )

    assert rows["conversations"] == len(expired)
    assert rows["visitors"] == len(gone) + 1, "the returning visitor keeps their profile"
    assert rows["messages"] == 2 * len(expired)
    remaining = set((await session.scalars(select(Conversation.id))).all())
    assert remaining == {recent.id, still_there.id, lively_bot.id, waiting.id}
    assert await session.get(Visitor, returning.visitor_id) is not None
    (event,) = await audit.recent(session=session, action="retention_purged")
    assert event.detail is not None and event.detail["rows"] == rows

    again = await privacy.purge_expired(
        session=session, bus=bus, older_than=utcnow() - timedelta(days=30)
    )
    assert again == {"conversations": 0, "visitors": 0}
    assert len(await audit.recent(session=session, action="retention_purged")) == 2
