"""The returning visitors' group read (handoff/visitor_reader.py): what a hello finds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import make_engine, read_only
from handoff import visitors
from handoff.models import Conversation, Ticket, TicketStatus
from handoff.states import ConversationState
from handoff.visitor_reader import VisitorReader


@pytest.fixture
async def reader(database_url: str) -> AsyncIterator[tuple[VisitorReader, list[str]]]:
    """The reader on an engine of its own, as in the app, and the statements it ran."""
    engine = make_engine(database_url)
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.split()[0].upper() not in ("BEGIN", "ROLLBACK", "COMMIT"):
            statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        async with VisitorReader(read_only(engine)) as started:
            yield started, statements
    finally:
        await engine.dispose()


async def test_a_returning_visitor_is_found_with_their_latest_conversation_and_its_ticket(
    session: AsyncSession,
    new_chat: Callable[..., Awaitable[Conversation]],
    reader: tuple[VisitorReader, list[str]],
) -> None:
    first = await new_chat()
    first.state = ConversationState.CLOSED
    latest = await visitors.open_conversation(session=session, visitor_id=first.visitor_id)
    latest.state = ConversationState.TICKET
    session.add(Ticket(conversation_id=latest.id, email="eva@example.com"))
    await session.commit()

    found = await reader[0].read(first.visitor_id)

    assert found is not None and found.user_id is None
    assert found.conversation is not None
    assert (found.conversation.id, found.conversation.state) == (latest.id, "ticket")
    assert found.ticket is not None
    assert (found.ticket.email, found.ticket.status) == ("eva@example.com", TicketStatus.OPEN)


async def test_an_unknown_visitor_is_none_and_a_visitor_without_a_chat_has_none(
    session: AsyncSession, reader: tuple[VisitorReader, list[str]]
) -> None:
    lone = await visitors.create_visitor(session=session, name="Lone", locale="cs")

    found = await reader[0].read(lone.id)

    assert found is not None and found.locale == "cs"
    assert (found.conversation, found.ticket) == (None, None)
    assert await reader[0].read(lone.id + 1000) is None


async def test_hellos_arriving_together_are_read_in_one_query(
    new_chat: Callable[..., Awaitable[Conversation]], reader: tuple[VisitorReader, list[str]]
) -> None:
    chats = [await new_chat() for _ in range(30)]
    the_reader, statements = reader
    await the_reader.read(chats[0].visitor_id)  # the reader is idle again after this
    statements.clear()

    found = await asyncio.gather(*(the_reader.read(c.visitor_id) for c in chats[1:]))

    assert [f.conversation.id for f in found if f and f.conversation] == [c.id for c in chats[1:]]
    # The first hello is read at once; all that asked while it was read, together next.
    assert len(statements) <= 2, statements


async def test_a_hello_sees_what_was_committed_before_it_asked(
    session: AsyncSession,
    new_chat: Callable[..., Awaitable[Conversation]],
    reader: tuple[VisitorReader, list[str]],
) -> None:
    chat = await new_chat()
    the_reader = reader[0]
    before = asyncio.ensure_future(the_reader.read(chat.visitor_id))  # a read under way
    await asyncio.sleep(0)
    chat.state = ConversationState.CLOSED
    newer = await visitors.open_conversation(session=session, visitor_id=chat.visitor_id)

    after = await the_reader.read(chat.visitor_id)

    await before
    assert after is not None and after.conversation is not None
    assert after.conversation.id == newer.id
