"""Tickets: opened on request, pending once answered, open again when the customer writes."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot import Reason
from handoff import agent_actions, tickets, visitors
from handoff.conversations import get_conversation, ticket_for
from handoff.errors import Conflict, NotFound
from handoff.escalation import escalate
from handoff.events import AGENTS_CHANNEL, conversation_channel
from handoff.mail import MailConfig
from handoff.messages import messages_after
from handoff.models import AgentStatus, Conversation, TicketStatus, utcnow
from handoff.routing import Routing
from handoff.states import ConversationState as S

ROUTING = Routing(auto_assign=False, ticket_reply_within_s=3600)
NO_MAIL = MailConfig(host=None)  # replies are logged, not sent


@pytest.fixture
def ticket_chat(session, bus, new_chat):
    """A chat that became a ticket because nobody was online."""

    async def make(email: str | None = None) -> Conversation:
        conv = await new_chat(email=email)
        await escalate(
            session=session, bus=bus, conv=conv, reason=Reason.ASKED_FOR_HUMAN, routing=ROUTING
        )
        assert conv.state == S.TICKET
        return conv

    return make


async def status_of(session, conv: Conversation) -> TicketStatus:
    ticket = await ticket_for(session=session, conversation_id=conv.id)
    assert ticket is not None
    await session.refresh(ticket)
    return TicketStatus(ticket.status)


async def test_email_me_instead_turns_a_waiting_chat_into_a_ticket(
    session, bus, new_agent, new_chat, listen
) -> None:
    await new_agent("Ann")
    conv = await new_chat()
    await escalate(
        session=session, bus=bus, conv=conv, reason=Reason.LOW_CONFIDENCE, routing=ROUTING
    )
    visitor = listen(conversation_channel(conv.id))

    before = utcnow()
    posted = await tickets.request_ticket(
        session=session, bus=bus, conversation_id=conv.id, client_msg_id="t1", routing=ROUTING
    )

    assert not posted.duplicate and posted.message.text == "Please e-mail me instead."
    conv = await get_conversation(session=session, conversation_id=conv.id)
    assert conv.state == S.TICKET
    assert await status_of(session, conv) == TicketStatus.OPEN
    heard = visitor.events()
    texts_heard = [e["text"] for e in heard if e["type"] == "message"]
    assert texts_heard[0] == "Please e-mail me instead."
    assert texts_heard[1].startswith("As you asked, so I've opened ticket #")
    [state] = [e for e in heard if e["type"] == "state"]
    assert state["state"] == "ticket" and state["ticket"]["status"] == "open"
    promised = datetime.fromisoformat(state["ticket"]["reply_by"])
    assert before + timedelta(hours=1) <= promised <= utcnow() + timedelta(hours=1)

    resent = await tickets.request_ticket(
        session=session, bus=bus, conversation_id=conv.id, client_msg_id="t1", routing=ROUTING
    )
    assert resent.duplicate and resent.message.seq == posted.message.seq
    assert len(await tickets.list_tickets(session=session)) == 1
    with pytest.raises(Conflict):  # a ticket already: not waiting in the queue any more
        await tickets.request_ticket(
            session=session, bus=bus, conversation_id=conv.id, client_msg_id="t2", routing=ROUTING
        )


async def test_email_me_instead_needs_a_queued_chat(session, bus, new_chat) -> None:
    conv = await new_chat()  # still with the bot
    with pytest.raises(Conflict):
        await tickets.request_ticket(
            session=session, bus=bus, conversation_id=conv.id, client_msg_id="t1", routing=ROUTING
        )
    stored = await messages_after(
        session=session, conversation_id=conv.id, after_seq=0, include_notes=True
    )
    assert stored == [], "nothing is stored for a refused request"
    assert await tickets.list_tickets(session=session) == []


async def test_ticket_goes_pending_open_and_solved(
    session, bus, writer, new_agent, ticket_chat, listen
) -> None:
    ann = await new_agent("Ann", status=AgentStatus.OFFLINE)  # answers tickets from the console
    conv = await ticket_chat(email="kim@example.com")
    visitor = listen(conversation_channel(conv.id))
    assert await status_of(session, conv) == TicketStatus.OPEN

    reply = await tickets.reply_to_ticket(
        session=session,
        bus=bus,
        mail=NO_MAIL,
        conversation_id=conv.id,
        agent=ann,
        client_msg_id="a1",
        text="Your parcel left our warehouse today.",
    )
    assert await status_of(session, conv) == TicketStatus.PENDING, "waiting on the customer"
    [shown] = visitor.events("message")
    assert shown["seq"] == reply.message.seq and shown["sender"] == "agent"
    assert shown["text"] == "Your parcel left our warehouse today."
    assert shown["author"] == {"name": "Ann", "avatar_url": None}

    await session.commit()

    await visitors.post_visitor_message(
        writer=writer, bus=bus, conversation_id=conv.id, client_msg_id="v1", text="Thanks!"
    )
    assert await status_of(session, conv) == TicketStatus.OPEN, "the ball is ours again"

    await agent_actions.close(session=session, bus=bus, conversation_id=conv.id, agent=ann)
    assert await status_of(session, conv) == TicketStatus.SOLVED
    conv = await get_conversation(session=session, conversation_id=conv.id)
    assert conv.state == S.CLOSED
    heard = visitor.events()
    assert [e["meta"].get("kind") for e in heard if e["type"] == "message"][-2:] == [
        "closed",
        "rating_request",
    ]
    assert [e["state"] for e in heard if e["type"] == "state"] == ["closed"]

    with pytest.raises(Conflict):
        await tickets.reply_to_ticket(
            session=session,
            bus=bus,
            mail=NO_MAIL,
            conversation_id=conv.id,
            agent=ann,
            client_msg_id="a2",
            text="One more thing",
        )


async def test_set_status_by_hand_and_list_by_status(
    session, bus, writer, ticket_chat, listen
) -> None:
    chats = [await ticket_chat() for _ in range(3)]
    ids = [(await ticket_for(session=session, conversation_id=c.id)).id for c in chats]
    console = listen(AGENTS_CHANNEL)

    await tickets.set_status(
        session=session, bus=bus, ticket_id=ids[0], status=TicketStatus.PENDING
    )
    await tickets.set_status(session=session, bus=bus, ticket_id=ids[1], status=TicketStatus.SOLVED)

    async def listed(status: TicketStatus | None) -> list[int]:
        return [t.id for t in await tickets.list_tickets(session=session, status=status)]

    assert await listed(TicketStatus.OPEN) == [ids[2]]
    assert await listed(TicketStatus.PENDING) == [ids[0]]
    assert await listed(TicketStatus.SOLVED) == [ids[1]]
    assert await listed(None) == ids[::-1], "newest first"
    changed = [e["conversation_id"] for e in console.events("conversation")]
    assert changed == [chats[0].id, chats[1].id], "consoles refresh their ticket lists"

    # A ticket solved by hand opens again when the customer writes in it.
    await session.commit()
    await visitors.post_visitor_message(
        writer=writer, bus=bus, conversation_id=chats[1].id, client_msg_id="v1", text="Hello?"
    )
    assert await listed(TicketStatus.OPEN) == [ids[2], ids[1]]

    with pytest.raises(NotFound):
        await tickets.set_status(session=session, bus=bus, ticket_id=9999, status=TicketStatus.OPEN)
