"""REST for posting a chat message (an integration with an API key, or an agent).

The same services as the sockets: an agent's reply goes through the message writer exactly as
the console's `message` frame; an integration's through handoff/api_messages.py. Visitors and
agents see the message live. Idempotent on `client_msg_id`: a retry answers the first seq.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, StringConstraints

from app.db import SessionDep
from app.schemas import ClientMsgId, RowId
from app.security import WriterDep
from handoff import agent_actions, api_messages
from handoff.messages import Posted
from handoff.models import MESSAGE_TEXT_MAX
from handoff.writer import Stored

router = APIRouter(prefix="/api/conversations", tags=["messages"])
Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MESSAGE_TEXT_MAX)
]


class MessageIn(BaseModel):
    client_msg_id: ClientMsgId  # with an API key: at most 48 characters
    text: Text  # not blank
    # Who speaks. An agent: "agent" (their reply, in a chat they hold). A key: "bot" (any
    # conversation not closed) or "agent" (a reply on an open ticket). Default: as the caller.
    sender: Literal["bot", "agent"] | None = None
    # An agent's reply: the canned reply its text came from, if any (its uses are counted,
    # handoff/canned_stats.py). Ignored for API keys.
    canned_reply_id: RowId | None = None


class MessagePosted(BaseModel):
    conversation_id: int
    seq: int
    sender: str
    duplicate: bool  # a retry: the message stored the first time


@router.post(
    "/{conversation_id}/messages",
    status_code=status.HTTP_201_CREATED,
    responses={
        403: {"description": "not where this caller may write (see `sender`)"},
        404: {"description": "no such conversation"},
        409: {"description": "the conversation is closed"},
    },
)
async def post_message(
    conversation_id: RowId,
    body: MessageIn,
    who: WriterDep,
    session: SessionDep,
    request: Request,
) -> MessagePosted:
    """Post a message into a conversation: as the bot or an agent (scope `messages:write`)."""
    state = request.app.state
    posted: Stored | Posted
    if who.agent is not None:
        if body.sender == "bot":
            raise HTTPException(status.HTTP_403_FORBIDDEN, "agents write as themselves")
        posted = await agent_actions.post_agent_message(
            session=session,
            writer=state.writer,
            conversation_id=conversation_id,
            agent=who.agent,
            client_msg_id=body.client_msg_id,
            text=body.text,
            canned_reply_id=body.canned_reply_id,
        )
    else:
        assert who.key is not None
        posted = await api_messages.post_for_key(
            session=session,
            writer=state.writer,
            bus=state.bus,
            mail=state.settings.mail(),
            key=who.key,
            conversation_id=conversation_id,
            client_msg_id=body.client_msg_id,
            text=body.text,
            as_agent=body.sender == "agent",
        )
    msg = posted.message
    return MessagePosted(
        conversation_id=msg.conversation_id, seq=msg.seq, sender=msg.sender,
        duplicate=posted.duplicate,
    )
