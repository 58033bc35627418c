"""The visitor's side: who they are, their open conversation, resuming it, what they send.

A visitor keeps one conversation open at a time; a message after it was closed starts a
new one (`open_conversation`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import texts, webhooks
from handoff.bus import Bus
from handoff.conversations import current_conversation, get_conversation
from handoff.errors import Conflict, NotFound
from handoff.events import AGENTS_CHANNEL, conversation_channel, conversation_event
from handoff.mail import normalised_address
from handoff.messages import announce, append_message
from handoff.models import Conversation, Sender, Ticket, Visitor
from handoff.states import ConversationState
from handoff.tickets import remember_email, reopen_on_customer_message
from handoff.visitor_reader import Returning, VisitorReader, read_returning
from handoff.visitor_state import visitor_state
from handoff.writer import Guard, MessageWriter, NewConversation, NewMessage, Stored

S = ConversationState
WITH_A_PERSON = (S.QUEUED, S.ASSIGNED, S.TICKET)  # agents' lists change when these get a message


@dataclass(frozen=True)
class VerifiedIdentity:
    """Who the embedding site vouches this visitor is (its signature already checked)."""

    user_id: str
    name: str | None
    email: str | None


def page_url_to_store(url: str | None, *, keep_query: bool = False) -> str | None:
    """The page a visitor is on, as agents may see it: no query or fragment unless kept.

    Query strings and fragments carry reset tokens, OAuth codes and session ids; user:password@
    is dropped always. The widget strips them too; this is the server's own guard.
    """
    if not url:
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return None
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal keeps its brackets
    netloc = f"{host}:{port}" if port is not None else host
    if keep_query:
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


async def create_visitor(
    *,
    session: AsyncSession,
    name: str | None = None,
    locale: str | None = None,
    page_url: str | None = None,
) -> Visitor:
    """A new anonymous visitor."""
    visitor = Visitor(name=name, locale=locale, page_url=page_url_to_store(page_url))
    session.add(visitor)
    await session.commit()
    return visitor


def _vouch(visitor: Visitor, verified: VerifiedIdentity) -> None:
    """The site's word on who this is; only a signed identity ever writes these fields."""
    visitor.user_id = verified.user_id
    if verified.name:
        visitor.verified_name = verified.name
    if verified.email:
        visitor.verified_email = verified.email


async def visitor_for_user(
    *,
    session: AsyncSession,
    verified: VerifiedIdentity,
    token_visitor_id: int | None,
    name: str | None,
    locale: str | None,
    page_url: str | None,
) -> int:
    """The one visitor of a signed-in user, on any device; committed.

    The user's own visitor if they have one (their conversations follow them); else the
    browser's anonymous visitor becomes theirs (the chat they began before logging in goes
    on); else a new visitor. A token of another user's visitor is never resumed.
    """
    for _attempt in range(2):  # the same user saying hello on two devices at once: retry once
        mine = await session.scalar(select(Visitor).where(Visitor.user_id == verified.user_id))
        if mine is None and token_visitor_id is not None:
            anonymous = await session.get(Visitor, token_visitor_id)
            if anonymous is not None and anonymous.user_id is None:
                mine = anonymous
        if mine is None:
            mine = Visitor(name=name, locale=locale, page_url=page_url)
            session.add(mine)
        elif locale:
            mine.locale = locale  # the language of the device they write from now
        _vouch(mine, verified)
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()  # the other hello created or claimed it: use theirs
            continue
        return mine.id
    raise Conflict("signing in on two devices at once; say hello again")


async def open_conversation(*, session: AsyncSession, visitor_id: int) -> Conversation:
    """The visitor's open conversation, starting a new one if the last was closed."""
    conv = await current_conversation(session=session, visitor_id=visitor_id)
    if conv is None or conv.state == S.CLOSED:
        if conv is None and await session.get(Visitor, visitor_id, populate_existing=True) is None:
            raise NotFound("this visitor was deleted; reconnect to start again")
        conv = Conversation(visitor_id=visitor_id, state=S.BOT)
        session.add(conv)
        await webhooks.emit(session, "conversation.created", lambda: webhooks.opened_data(
            visitor_id, conv.id))
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
    # The hello's locale differs from the stored one (the widget's language changed since):
    # the caller remembers it in a writing session (this hello only reads).
    new_locale: str | None = None


async def _read_alone(*, session: AsyncSession, visitor_id: int) -> Returning | None:
    """A returning visitor read in the caller's session (no reader: scripts and tests)."""
    return (await read_returning(await session.connection(), [visitor_id])).get(visitor_id)


def _with_the_bot(visitor_id: int, conversation_id: int) -> Conversation:
    """The conversation the writer just opened, as it stands: with the bot, nothing in it."""
    return Conversation(
        id=conversation_id, visitor_id=visitor_id, state=S.BOT, last_seq=0, bot_misses=0
    )


async def resume(
    *,
    session: AsyncSession,
    writer: MessageWriter,
    visitor_id: int | None,
    name: str | None,
    locale: str | None,
    page_url: str | None,
    verified: VerifiedIdentity | None,
    conversation_id: int | None,
    last_seq: int,
    keep_page_query: bool = False,
    reader: VisitorReader | None = None,
) -> Resumed:
    """A visitor says hello: the same visitor (or a new one) and their open conversation.

    `visitor_id` is the one the hello's token names; `verified` an identity the embedding site
    signed (already checked). A signed-in user's visitor is resumed only under that user's
    signed identity: another user, or nobody signed in, gets a visitor of their own and none of
    the first user's history. Messages are resumed after `last_seq` only when the visitor names
    their own current conversation; another visitor's conversation is refused, never shown.

    `session` may be a read session (an anonymous hello only reads); a new conversation, and a
    first visit's visitor, are written by the `writer`'s group commit. A returning visitor is
    read by the `reader` (with other hellos, in one query), or in `session` without one.
    """
    page_url = page_url_to_store(page_url, keep_query=keep_page_query)
    token_visitor_id = visitor_id
    new_locale: str | None = None
    last: Conversation | None = None
    last_ticket: Ticket | None = None  # read with `last`
    known_last = False  # `last` was read with the visitor (the usual returning hello)
    if verified is not None:
        visitor_id = await visitor_for_user(
            session=session,
            verified=verified,
            token_visitor_id=visitor_id,
            name=name,
            locale=locale,
            page_url=page_url,
        )
    elif visitor_id is not None:
        found = await (
            reader.read(visitor_id)
            if reader is not None
            else _read_alone(session=session, visitor_id=visitor_id)
        )
        user_id = found.user_id if found is not None else None
        if found is not None and user_id is None:
            known_last, last, last_ticket = True, found.conversation, found.ticket
        if found is not None and locale and locale != found.locale:
            new_locale = locale
        if found is None:
            visitor_id = None  # deleted (handoff/privacy.py): a new visitor, nothing of the old
        elif user_id is not None:
            visitor_id = None  # a signed-in user's chat, but the site vouches for nobody now
    # The browser's token named someone else (another user, or a signed-out one): a switch the
    # site caused, not a visitor reaching for a conversation that is not theirs.
    switched = token_visitor_id is not None and token_visitor_id != visitor_id
    if visitor_id is None:
        # A first visit: the visitor and their conversation, with every other one arriving.
        visitor = {"name": name, "locale": locale, "page_url": page_url}
        conv = _with_the_bot(*await writer.open(NewConversation(visitor=visitor)))
        return Resumed(
            visitor_id=conv.visitor_id,
            conversation=conv,
            after_seq=0,
            state=await visitor_state(session=session, conv=conv),
            refused_conversation=conversation_id is not None and not switched,
            new_conversation=True,
        )
    if not known_last:
        last = await current_conversation(session=session, visitor_id=visitor_id)
    if last is not None and last.state != S.CLOSED:
        conv = last
    else:  # the last one was closed: a new one
        await session.commit()  # SQLite: hold no lock while the writer writes
        conv = _with_the_bot(*await writer.open(NewConversation(visitor_id=visitor_id)))
    refused = False
    if conversation_id is not None and conversation_id != conv.id and not switched:
        named = await session.get(Conversation, conversation_id)
        refused = named is None or named.visitor_id != visitor_id
    return Resumed(
        visitor_id=visitor_id,
        conversation=conv,
        after_seq=last_seq if conversation_id == conv.id else 0,
        state=await visitor_state(
            session=session, conv=conv, ticket=last_ticket if conv is last else None
        ),
        refused_conversation=refused,
        new_conversation=False,
        new_locale=new_locale,
    )


async def post_visitor_message(
    *,
    writer: MessageWriter,
    bus: Bus,
    conversation_id: int,
    client_msg_id: str,
    text: str,
    meta: dict[str, Any] | None = None,
) -> Stored | None:
    """Store what the visitor typed (idempotent on client_msg_id), committed and published;
    `meta` says where it came from when not the widget (an e-mail: handoff/mail_in.py).

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
            meta=meta,
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
    """Remember the e-mail the visitor typed (and on their open ticket); returns it normalised."""
    normalised = normalised_address(email)
    visitor = await session.get(Visitor, visitor_id)
    if visitor is None:
        raise NotFound("visitor not found")
    visitor.email = normalised  # what they typed; a signed `verified_email` stays as it is
    await remember_email(session=session, conversation_id=conversation_id, email=normalised)
    conv = await get_conversation(session=session, conversation_id=conversation_id)
    msg = await append_message(
        session=session,
        conversation_id=conversation_id,
        sender=Sender.SYSTEM,
        text=texts.text("email.saved", visitor.locale, email=normalised),
        meta={"kind": "email"},
    )
    await session.commit()
    await announce(session=session, bus=bus, conv=conv, messages=[msg], queue=False)
    return normalised
