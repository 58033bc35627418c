"""The visitor's side: who they are, their open conversation, resuming it, what they send.

A visitor keeps one conversation open at a time; a message after it was closed starts a
new one (`open_conversation`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import texts
from handoff.bus import Bus
from handoff.conversations import current_conversation, get_conversation
from handoff.errors import NotFound
from handoff.events import AGENTS_CHANNEL, conversation_channel, conversation_event
from handoff.mail import normalised_address
from handoff.messages import announce, append_message
from handoff.models import Conversation, Sender, Visitor
from handoff.states import ConversationState
from handoff.tickets import remember_email, reopen_on_customer_message
from handoff.visitor_state import visitor_state
from handoff.writer import Guard, MessageWriter, NewMessage, Stored

S = ConversationState
WITH_A_PERSON = (S.QUEUED, S.ASSIGNED, S.TICKET)  # agents' lists change when these get a message


async def create_visitor(
    *,
    session: AsyncSession,
    name: str | None = None,
    locale: str | None = None,
    page_url: str | None = None,
) -> Visitor:
    """A new anonymous visitor."""
    visitor = Visitor(name=name, locale=locale, page_url=page_url)
    session.add(visitor)
    await session.commit()
    return visitor


async def update_visitor_profile(
    *, session: AsyncSession, visitor_id: int, name: str | None, email: str | None
) -> None:
    """Put a name and e-mail the site vouched for on the visitor's profile (agents see them)."""
    visitor = await session.get(Visitor, visitor_id)
    if visitor is None:
        return
    if name:
        visitor.name = name
    if email:
        visitor.email = email
    await session.commit()


async def _exists(*, session: AsyncSession, visitor_id: int) -> bool:
    return await session.scalar(select(Visitor.id).where(Visitor.id == visitor_id)) is not None


async def open_conversation(*, session: AsyncSession, visitor_id: int) -> Conversation:
    """The visitor's open conversation, starting a new one if the last was closed."""
    conv = await current_conversation(session=session, visitor_id=visitor_id)
    if conv is None or conv.state == S.CLOSED:
        if conv is None and not await _exists(session=session, visitor_id=visitor_id):
            raise NotFound("this visitor was deleted; reconnect to start again")
        conv = Conversation(visitor_id=visitor_id, state=S.BOT)
        session.add(conv)
        await session.commit()
    return conv


async def conversation_for_message(
    *, session: AsyncSession, visitor_id: int, current_id: int
) -> tuple[Conversation, dict[str, Any] | None]:
    """Where the visitor's next message goes: `current_id`, or a new conversation after close.

    A new conversation comes with its state frame, for the client's fresh welcome.
    """
    conv = await open_conversation(session=session, visitor_id=visitor_id)
    if conv.id == current_id:
        return conv, None
    return conv, await visitor_state(session=session, conv=conv)


@dataclass(frozen=True)
class Resumed:
    """Where a (re)connecting visitor continues: their conversation and the seq to resume after."""

    visitor_id: int
    conversation: Conversation
    after_seq: int
    state: dict[str, Any]
    refused_conversation: bool  # they named a conversation that is not theirs
    new_conversation: bool  # created by this hello: nobody else has written to it yet


async def resume(
    *,
    session: AsyncSession,
    visitor_id: int | None,
    name: str | None,
    locale: str | None,
    page_url: str | None,
    site_name: str | None,
    site_email: str | None,
    conversation_id: int | None,
    last_seq: int,
) -> Resumed:
    """A visitor says hello: the same visitor (or a new one) and their open conversation.

    `site_name`/`site_email` come from an identity the embedding site signed (already
    verified). Messages are resumed after `last_seq` only when the visitor names their own
    current conversation; another visitor's conversation is refused, never shown.
    """
    if visitor_id is not None and not await _exists(session=session, visitor_id=visitor_id):
        visitor_id = None  # deleted (handoff/privacy.py): a new visitor, nothing of the old
    if visitor_id is None:
        # A first visit: the visitor and their conversation in one transaction, two INSERTs.
        visitor_id = await session.scalar(
            insert(Visitor)
            .values(name=site_name or name, email=site_email, locale=locale, page_url=page_url)
            .returning(Visitor.id)
        )
        assert visitor_id is not None
        conv_id = await session.scalar(
            insert(Conversation)
            .values(visitor_id=visitor_id, state=S.BOT)
            .returning(Conversation.id)
        )
        assert conv_id is not None
        conv = Conversation(
            id=conv_id, visitor_id=visitor_id, state=S.BOT, last_seq=0, bot_misses=0
        )
        await session.commit()
        return Resumed(
            visitor_id=visitor_id,
            conversation=conv,
            after_seq=0,
            state=await visitor_state(session=session, conv=conv),
            refused_conversation=conversation_id is not None,
            new_conversation=True,
        )
    if site_name or site_email:
        await update_visitor_profile(
            session=session, visitor_id=visitor_id, name=site_name, email=site_email
        )
    conv = await open_conversation(session=session, visitor_id=visitor_id)
    refused = False
    if conversation_id is not None and conversation_id != conv.id:
        named = await session.get(Conversation, conversation_id)
        refused = named is None or named.visitor_id != visitor_id
    return Resumed(
        visitor_id=visitor_id,
        conversation=conv,
        after_seq=last_seq if conversation_id == conv.id else 0,
        state=await visitor_state(session=session, conv=conv),
        refused_conversation=refused,
        new_conversation=False,
    )


async def post_visitor_message(
    *, writer: MessageWriter, bus: Bus, conversation_id: int, client_msg_id: str, text: str
) -> Stored | None:
    """Store what the visitor typed (idempotent on client_msg_id), committed and published.

    None when the conversation was closed meanwhile: the visitor's message belongs in a new
    one (`conversation_for_message`).
    """
    stored = await writer.store(
        NewMessage(
            conversation_id=conversation_id,
            sender=Sender.VISITOR,
            text=text,
            client_msg_id=client_msg_id,
            guard=Guard.OPEN,
            after_store=reopen_on_customer_message,
        )
    )
    if stored is not None and not stored.duplicate and stored.state in WITH_A_PERSON:
        await bus.publish_after_commit(
            AGENTS_CHANNEL,
            conversation_event(
                conversation_id=conversation_id,
                state=str(stored.state),
                assigned_agent_id=stored.assigned_agent_id,
            ),
        )
    return stored


async def visitor_typing(
    *, session: AsyncSession, bus: Bus, conversation_id: int, draft: str | None
) -> None:
    """Tell agents the visitor is typing; the draft itself only once a person holds the chat."""
    conv = await get_conversation(session=session, conversation_id=conversation_id)
    shown = draft if conv.state == S.ASSIGNED else None
    await bus.publish_after_commit(
        conversation_channel(conv.id),
        {"type": "typing", "conversation_id": conv.id, "sender": "visitor", "draft": shown},
    )


async def leave_email(
    *, session: AsyncSession, bus: Bus, visitor_id: int, conversation_id: int, email: str
) -> str:
    """Remember the visitor's e-mail (and on their open ticket); returns it normalised."""
    normalised = normalised_address(email)
    visitor = await session.get(Visitor, visitor_id)
    if visitor is None:
        raise NotFound("visitor not found")
    visitor.email = normalised
    await remember_email(session=session, conversation_id=conversation_id, email=normalised)
    conv = await get_conversation(session=session, conversation_id=conversation_id)
    msg = await append_message(
        session=session,
        conversation_id=conversation_id,
        sender=Sender.SYSTEM,
        text=texts.text("email.saved", email=normalised),
        meta={"kind": "email"},
    )
    await session.commit()
    await announce(session=session, bus=bus, conv=conv, messages=[msg], queue=False)
    return normalised
