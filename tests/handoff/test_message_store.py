"""Storing messages: once per client_msg_id, consecutive seqs, private notes kept from visitors."""

from __future__ import annotations

import asyncio

from app.db import make_engine, make_sessionmaker
from handoff import agent_actions, visitors
from handoff.conversations import get_conversation
from handoff.events import conversation_channel
from handoff.messages import append_message, messages_after, store_client_message
from handoff.models import AgentStatus, Sender


async def seqs(session, conversation_id: int, *, include_notes: bool = True) -> list[int]:
    stored = await messages_after(
        session=session, conversation_id=conversation_id, after_seq=0, include_notes=include_notes
    )
    return [m.seq for m in stored]


async def test_a_resend_gets_the_original_seq_and_stores_nothing(
    session, bus, new_chat, listen
) -> None:
    conv = await new_chat()
    visitor = listen(conversation_channel(conv.id))

    async def send(client_msg_id: str, text: str):
        return await store_client_message(
            session=session,
            bus=bus,
            conv=conv,
            sender=Sender.VISITOR,
            text=text,
            client_msg_id=client_msg_id,
        )

    first = await send("m1", "Where is my order?")
    other = await send("m2", "It was due Monday.")
    resent = await send("m1", "Where is my order?")

    assert (first.message.seq, first.duplicate) == (1, False)
    assert (other.message.seq, other.duplicate) == (2, False)
    assert (resent.message.seq, resent.duplicate) == (1, True)
    assert resent.message.text == "Where is my order?"
    assert await seqs(session, conv.id) == [1, 2]
    assert [e["seq"] for e in visitor.events("message")] == [1, 2], "a resend is not re-announced"


async def test_the_same_client_msg_id_elsewhere_is_a_new_message(session, bus, new_chat) -> None:
    """Idempotency is per conversation and sender: ids only need to be unique per client."""
    conv, other_conv = await new_chat(), await new_chat()
    for where, sender in (
        (conv, Sender.VISITOR),
        (conv, Sender.NOTE),
        (other_conv, Sender.VISITOR),
    ):
        posted = await store_client_message(
            session=session, bus=bus, conv=where, sender=sender, text="hi", client_msg_id="same"
        )
        assert not posted.duplicate
    assert await seqs(session, conv.id) == [1, 2]
    assert await seqs(session, other_conv.id) == [1]


async def test_seqs_are_consecutive_across_senders(
    session, bus, writer, new_agent, new_chat
) -> None:
    ann = await new_agent("Ann", status=AgentStatus.OFFLINE)
    conv = await new_chat()
    await session.commit()
    await visitors.post_visitor_message(
        writer=writer, bus=bus, conversation_id=conv.id, client_msg_id="v1", text="Hello"
    )
    await append_message(
        session=session, conversation_id=conv.id, sender=Sender.BOT, text="Hi! How can I help?"
    )
    await session.commit()
    await session.commit()
    await agent_actions.post_agent_message(
        session=session,
        writer=writer,
        conversation_id=conv.id,
        agent=ann,
        client_msg_id="n1",
        text="Regular customer",
        note=True,
    )
    await session.commit()
    await visitors.post_visitor_message(
        writer=writer, bus=bus, conversation_id=conv.id, client_msg_id="v2", text="My order"
    )
    assert await seqs(session, conv.id) == [1, 2, 3, 4]
    conv = await get_conversation(session=session, conversation_id=conv.id)
    assert conv.last_seq == 4


async def test_concurrent_writers_never_share_or_skip_a_seq(
    session, bus, database_url, new_chat
) -> None:
    conv = await new_chat()
    await session.commit()
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)

    async def writer(name: str) -> list[int]:
        # Two sockets of one visitor (two tabs) on their own connections.
        async with sessions() as s:
            mine = await get_conversation(session=s, conversation_id=conv.id)
            out = []
            for i in range(5):
                posted = await store_client_message(
                    session=s,
                    bus=bus,
                    conv=mine,
                    sender=Sender.VISITOR,
                    text=f"{name} {i}",
                    client_msg_id=f"{name}-{i}",
                )
                out.append(posted.message.seq)
            return out

    try:
        a, b = await asyncio.gather(writer("a"), writer("b"))
    finally:
        await engine.dispose()

    assert sorted(a + b) == list(range(1, 11))
    assert a == sorted(a) and b == sorted(b), "each writer's messages keep their order"
    assert await seqs(session, conv.id) == list(range(1, 11))


async def test_visitors_never_see_private_notes(session, bus, writer, new_agent, new_chat) -> None:
    ann = await new_agent("Ann", status=AgentStatus.OFFLINE)
    conv = await new_chat()
    for cid, text, note in (
        ("v1", "Hi", False),
        ("n1", "VIP, be nice", True),
        ("v2", "Hello?", False),
    ):
        if note:
            await session.commit()
            await agent_actions.post_agent_message(
                session=session,
                writer=writer,
                conversation_id=conv.id,
                agent=ann,
                client_msg_id=cid,
                text=text,
                note=True,
            )
        else:
            await session.commit()
            await visitors.post_visitor_message(
                writer=writer, bus=bus, conversation_id=conv.id, client_msg_id=cid, text=text
            )

    for_visitor = await messages_after(
        session=session, conversation_id=conv.id, after_seq=0, include_notes=False
    )
    assert [(m.seq, m.text) for m in for_visitor] == [(1, "Hi"), (3, "Hello?")], "a gap, no note"
    assert await seqs(session, conv.id) == [1, 2, 3], "agents see everything"
    resumed = await messages_after(
        session=session, conversation_id=conv.id, after_seq=1, include_notes=False
    )
    assert [m.seq for m in resumed] == [3], "a resume after seq 1 skips the note too"
    first = await messages_after(
        session=session, conversation_id=conv.id, after_seq=0, include_notes=True, limit=2
    )
    assert [m.seq for m in first] == [1, 2]


async def test_what_was_stored_can_be_acknowledged_after_later_work_rolled_back(
    session, bus, new_chat
) -> None:
    # A handoff stores the visitor's request, then routes it; routing that loses a race rolls
    # the session back. The ack still needs the stored message's seq.
    conv = await new_chat()
    posted = await store_client_message(
        session=session,
        bus=bus,
        conv=conv,
        sender=Sender.VISITOR,
        text="a person, please",
        client_msg_id="h1",
    )
    await get_conversation(session=session, conversation_id=conv.id)  # the routing's reads
    await session.rollback()
    assert (posted.message.seq, posted.message.client_msg_id) == (1, "h1")
