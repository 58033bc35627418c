"""Group commit: messages that arrive together share a transaction, each stored once, in order."""

from __future__ import annotations

import asyncio

from sqlalchemy import event

from app.db import make_engine
from handoff.conversations import get_conversation
from handoff.models import Sender, Visitor
from handoff.states import ConversationState
from handoff.writer import Guard, MessageWriter, NewConversation, NewMessage


def visitor_says(conversation_id: int, cmid: str, text: str = "hello") -> NewMessage:
    return NewMessage(
        conversation_id=conversation_id,
        sender=Sender.VISITOR,
        text=text,
        client_msg_id=cmid,
        guard=Guard.OPEN,
    )


async def test_a_burst_shares_a_few_commits_and_every_message_is_stored(
    session, bus, database_url, new_chat
) -> None:
    chats = [await new_chat() for _ in range(20)]
    await session.commit()
    engine = make_engine(database_url)
    commits = []
    event.listen(engine.sync_engine, "commit", lambda conn: commits.append(1))
    try:
        async with MessageWriter(engine, bus) as writer:
            stored = await asyncio.gather(
                *(writer.store(visitor_says(c.id, f"m{i}")) for c in chats for i in range(5))
            )
    finally:
        await engine.dispose()
    assert all(s is not None and not s.duplicate for s in stored)
    by_chat: dict[int, list[int]] = {}
    for s in stored:
        assert s is not None
        by_chat.setdefault(s.message.conversation_id, []).append(s.message.seq)
    assert all(seqs == [1, 2, 3, 4, 5] for seqs in by_chat.values()), "in submission order"
    assert len(commits) < len(stored) / 10, f"{len(commits)} commits for {len(stored)} messages"


async def test_a_resend_is_the_original_and_leaves_no_gap(session, writer, new_chat) -> None:
    conv = await new_chat()
    await session.commit()
    first = await writer.store(visitor_says(conv.id, "m1", "Where is my parcel?"))
    again = await writer.store(visitor_says(conv.id, "m1", "Where is my parcel?"))
    after = await writer.store(visitor_says(conv.id, "m2", "It was due Monday."))
    assert first is not None and again is not None and after is not None
    assert (again.message.seq, again.duplicate) == (1, True)
    assert again.message.text == "Where is my parcel?"
    assert after.message.seq == 2, "the resend gave its seq back"
    conv = await get_conversation(session=session, conversation_id=conv.id)
    assert conv.last_seq == 2


async def test_guards_refuse_what_may_not_be_written(session, writer, new_chat, new_agent) -> None:
    ann = await new_agent("Ann")
    conv = await new_chat()
    await session.commit()
    reply = NewMessage(
        conversation_id=conv.id,
        sender=Sender.AGENT,
        text="Hi, Ann here",
        client_msg_id="a1",
        guard=Guard.HELD_BY_AGENT,
        agent_id=ann.id,
    )
    assert await writer.store(reply) is None, "an agent who does not hold the chat"
    question = await writer.store(visitor_says(conv.id, "v1"))
    assert question is not None and question.message.seq == 1
    later = await writer.store(visitor_says(conv.id, "v2"))
    assert later is not None
    stale_answer = NewMessage(
        conversation_id=conv.id,
        sender=Sender.BOT,
        text="An answer to v1",
        client_msg_id=None,
        guard=Guard.BOT_LAST_WORD,
        answering_seq=question.message.seq,
    )
    assert await writer.store(stale_answer) is None, "v1 is no longer the last word"
    conv = await get_conversation(session=session, conversation_id=conv.id)
    assert conv.last_seq == 2, "a refused message allocates nothing"


async def test_two_replicas_writing_one_conversation_never_share_a_seq(
    session, bus, database_url, new_chat
) -> None:
    conv = await new_chat()
    await session.commit()
    engines = [make_engine(database_url) for _ in range(2)]
    try:
        async with (
            MessageWriter(engines[0], bus) as one,
            MessageWriter(engines[1], bus) as two,
        ):
            stored = await asyncio.gather(
                *((one if i % 2 else two).store(visitor_says(conv.id, f"m{i}")) for i in range(40))
            )
    finally:
        for engine in engines:
            await engine.dispose()
    seqs = sorted(s.message.seq for s in stored if s is not None)
    assert seqs == list(range(1, 41))


async def test_stopping_commits_what_was_already_submitted(
    session, bus, database_url, new_chat
) -> None:
    conv = await new_chat()
    await session.commit()
    engine = make_engine(database_url)
    try:
        async with MessageWriter(engine, bus) as writer:
            pending = [
                asyncio.create_task(writer.store(visitor_says(conv.id, f"m{i}"))) for i in range(30)
            ]
            await asyncio.sleep(0)  # submitted, not yet written: now the process shuts down
        stored = await asyncio.gather(*pending)
    finally:
        await engine.dispose()
    assert sorted(s.message.seq for s in stored if s is not None) == list(range(1, 31))


async def test_a_mixed_burst_gets_what_each_message_would_alone(
    session, bus, writer, new_chat, new_agent
) -> None:
    """Resends, notes, replies, refused and accepted messages in one batch: order kept."""
    ann = await new_agent("Ann")
    held, closed, plain = await new_chat(), await new_chat(), await new_chat()
    await session.commit()
    first = await writer.store(visitor_says(plain.id, "p1"))
    assert first is not None
    await agent_takes(session, held.id, ann.id)
    await close_now(session, closed.id)

    def agent_says(cmid: str, *, note: bool = False) -> NewMessage:
        return NewMessage(
            conversation_id=held.id,
            sender=Sender.NOTE if note else Sender.AGENT,
            text=cmid,
            client_msg_id=cmid,
            guard=Guard.NONE if note else Guard.HELD_BY_AGENT,
            agent_id=ann.id,
        )

    burst = [
        visitor_says(held.id, "v1"),
        agent_says("a1"),
        agent_says("n1", note=True),
        agent_says("a2"),
        visitor_says(closed.id, "c1"),
        visitor_says(plain.id, "p1"),  # a resend
        visitor_says(plain.id, "p2"),
    ]
    got = await asyncio.gather(*(writer.store(m) for m in burst))
    assert [s.message.seq if s else None for s in got] == [1, 2, 3, 4, None, 1, 2]
    assert [s.duplicate if s else None for s in got] == [False] * 4 + [None, True, False]

    # Without a resend the burst is one transaction (no one-at-a-time fallback).
    again = [
        agent_says("a3"),
        visitor_says(held.id, "v2"),
        agent_says("n2", note=True),
        visitor_says(closed.id, "c2"),
        visitor_says(plain.id, "p3"),
    ]
    got = await asyncio.gather(*(writer.store(m) for m in again))
    assert [s.message.seq if s else None for s in got] == [5, 6, 7, None, 3]
    assert not any(s.duplicate for s in got if s is not None)


async def agent_takes(session, conversation_id: int, agent_id: int) -> None:
    conv = await get_conversation(session=session, conversation_id=conversation_id)
    conv.state, conv.assigned_agent_id = ConversationState.ASSIGNED, agent_id
    await session.commit()


async def close_now(session, conversation_id: int) -> None:
    conv = await get_conversation(session=session, conversation_id=conversation_id)
    conv.state = ConversationState.CLOSED
    await session.commit()


async def test_conversations_opened_together_share_a_commit(
    session, bus, database_url, new_chat
) -> None:
    returning = await new_chat()  # a visitor whose next conversation opens alongside
    await session.commit()
    engine = make_engine(database_url)
    commits = []
    event.listen(engine.sync_engine, "commit", lambda conn: commits.append(1))
    try:
        async with MessageWriter(engine, bus) as writer:
            ids = await asyncio.gather(
                *(
                    writer.open(
                        NewConversation(visitor={"name": f"v{n}", "locale": "cs"} if n % 2 else {})
                    )
                    for n in range(40)
                ),
                writer.open(NewConversation(visitor_id=returning.visitor_id)),
                writer.store(visitor_says(999_999, "nowhere")),  # no such conversation: refused
            )
            first_message = await writer.store(visitor_says(ids[3][1], "first"))
    finally:
        await engine.dispose()
    first_visits, (again, next_conversation), refused = ids[:-2], ids[-2], ids[-1]
    assert refused is None
    assert again == returning.visitor_id and next_conversation != returning.id
    assert len({v for v, _ in first_visits}) == len({c for _, c in first_visits}) == 40
    assert len(commits) < 10, f"{len(commits)} commits for 41 new conversations"
    for n, (visitor_id, conversation_id) in enumerate(first_visits):
        conv = await get_conversation(session=session, conversation_id=conversation_id)
        assert conv.visitor_id == visitor_id and conv.state == ConversationState.BOT
        visitor = await session.get(Visitor, visitor_id)
        assert visitor is not None and visitor.name == (f"v{n}" if n % 2 else None)
    assert first_message is not None and first_message.message.seq == 1
