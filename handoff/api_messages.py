"""A message an integration posts with an API key (scope `messages:write`).

The rule, the smallest that keeps today's rules whole: an integration is no agent, so it never
holds a chat and never takes one from the queue.

- As the **bot** (the default): into any conversation that is not closed, through the group-
  commit writer like a visitor's message, so the visitor and any watching agent see it live.
  It changes no state: a queued chat stays queued, a held chat stays with its agent.
- As an **agent reply**: only on an open ticket, where today any agent may answer without
  holding the chat; it is the ticket reply of handoff/tickets.py (ticket pending, e-mailed to
  the visitor if known), signed with the key's name. A live chat is the holding agent's.

Idempotent per key: the stored client_msg_id is the key's id and the client's, so a retry
gets the first message back and two integrations never collide (nor with the bot's own).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from handoff import tickets
from handoff.api_key_models import ApiKey
from handoff.bus import Bus
from handoff.conversations import get_conversation
from handoff.errors import Conflict, Forbidden, Invalid
from handoff.mail import MailConfig
from handoff.messages import Posted
from handoff.models import CLIENT_MSG_ID_MAX, Agent, Sender
from handoff.states import ConversationState
from handoff.writer import Guard, MessageWriter, NewMessage, Stored

S = ConversationState
# What a client may use of the 64 characters: the rest is the key's scope ("key123:").
CLIENT_ID_MAX = CLIENT_MSG_ID_MAX - 16


def scoped_id(key: ApiKey, client_msg_id: str) -> str:
    """The client_msg_id as stored: one key's ids apart from every other sender's."""
    return f"key{key.id}:{client_msg_id}"


def _signer(key: ApiKey) -> Agent:
    """The integration as a ticket reply's author: named after its key; never stored (no id)."""
    return Agent(name=key.name, avatar_url=None)


async def post_for_key(
    *,
    session: AsyncSession,
    writer: MessageWriter,
    bus: Bus,
    mail: MailConfig,
    key: ApiKey,
    conversation_id: int,
    client_msg_id: str,
    text: str,
    as_agent: bool,
) -> Stored | Posted:
    """Post as the bot (any conversation not closed) or as an agent (an open ticket only)."""
    text = text.strip()
    if not text:
        raise Invalid("text: a message must not be blank")
    if len(client_msg_id) > CLIENT_ID_MAX:
        raise Invalid(f"client_msg_id: at most {CLIENT_ID_MAX} characters with an API key")
    cmid = scoped_id(key, client_msg_id)
    if as_agent:
        conv = await get_conversation(session=session, conversation_id=conversation_id)
        if conv.state != S.TICKET:
            raise Forbidden(
                "an API key replies as an agent only on an open ticket; post as the bot"
            )
        return await tickets.reply_to_ticket(
            session=session,
            bus=bus,
            mail=mail,
            conversation_id=conversation_id,
            agent=_signer(key),
            client_msg_id=cmid,
            text=text,
        )
    await session.commit()  # the writer has its own connection: on SQLite, free the write lock
    stored = await writer.store(
        NewMessage(
            conversation_id=conversation_id,
            sender=Sender.BOT,
            text=text,
            client_msg_id=cmid,
            guard=Guard.OPEN,
            meta={"via": "api_key", "api_key_id": key.id, "integration": key.name},
        )
    )
    if stored is None:
        await get_conversation(session=session, conversation_id=conversation_id)  # NotFound
        raise Conflict(f"conversation {conversation_id} is closed")
    return stored
