"""Escalation: the queue when we are open and someone is online, otherwise a ticket with a promise.

What the visitor reads (texts) and the `state` frame their socket receives are asserted as
published on the conversation's channel after the commit.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot import Reason
from handoff import texts
from handoff.conversations import ticket_for
from handoff.escalation import escalate, request_human
from handoff.events import AGENTS_CHANNEL, conversation_channel
from handoff.hours import WEEKDAYS, BusinessHours
from handoff.models import AgentStatus, TicketStatus, utcnow
from handoff.routing import Routing
from handoff.states import ConversationState as S

MANUAL = Routing(auto_assign=False)
ZONE = "Europe/Berlin"


def closed_until_the_day_after_tomorrow() -> tuple[BusinessHours, datetime]:
    """Hours that are closed now: open only on the day after tomorrow, 09:00-17:00 local."""
    opening_day = utcnow().astimezone(ZoneInfo(ZONE)).date() + timedelta(days=2)
    hours = BusinessHours.parse({WEEKDAYS[opening_day.weekday()]: "09:00-17:00"}, ZONE)
    return hours, datetime.combine(opening_day, time(9), hours.timezone)


def said(events: list[dict]) -> list[str]:
    return [e["text"] for e in events if e["type"] == "message"]


def reply_by(state: dict) -> datetime:
    return datetime.fromisoformat(state["ticket"]["reply_by"])


async def test_open_with_an_agent_online_joins_the_queue(
    session, bus, new_agent, new_chat, listen
) -> None:
    await new_agent("Ann")
    first, second = await new_chat(), await new_chat()
    visitor, console = listen(conversation_channel(first.id)), listen(AGENTS_CHANNEL)

    await escalate(
        session=session, bus=bus, conv=first, reason=Reason.LOW_CONFIDENCE, routing=MANUAL
    )

    assert first.state == S.QUEUED
    heard = visitor.events()
    assert said(heard) == [texts.text("queue.joined", position=1)]
    assert heard[0]["sender"] == "system"
    assert heard[0]["meta"] == {"kind": "escalate", "reason": "low_confidence"}
    [state] = [e for e in heard if e["type"] == "state"]
    assert state["state"] == "queued" and state["escalation_reason"] == "low_confidence"
    assert state["queue_position"] == 1
    assert state["estimated_wait_s"] is None, "no pickups yet: no estimate rather than a guess"
    assert console.events("conversation") == [
        {
            "type": "conversation",
            "conversation_id": first.id,
            "state": "queued",
            "assigned_agent_id": None,
        }
    ]
    assert await ticket_for(session=session, conversation_id=first.id) is None

    behind = listen(conversation_channel(second.id))
    await escalate(
        session=session, bus=bus, conv=second, reason=Reason.ASKED_FOR_HUMAN, routing=MANUAL
    )
    assert said(behind.events()) == [texts.text("queue.joined", position=2)]


async def test_auto_routing_hands_the_chat_to_the_agent_at_once(
    session, bus, new_agent, new_chat, listen
) -> None:
    ann = await new_agent("Ann")
    conv = await new_chat()
    visitor = listen(conversation_channel(conv.id))

    await escalate(
        session=session, bus=bus, conv=conv, reason=Reason.ASKED_FOR_HUMAN, routing=Routing()
    )

    heard = visitor.events()
    assert said(heard) == [texts.text("queue.joined", position=1), "Ann joined the conversation."]
    last_state = [e for e in heard if e["type"] == "state"][-1]
    assert last_state["state"] == "assigned"
    assert last_state["agent"] == {"name": "Ann", "avatar_url": None}
    await session.refresh(conv)
    assert conv.assigned_agent_id == ann.id


async def test_closed_opens_a_ticket_promising_the_next_opening(
    session, bus, new_agent, new_chat, listen
) -> None:
    await new_agent("Ann")  # online, but we are closed: nobody should be paged
    hours, opening = closed_until_the_day_after_tomorrow()
    conv = await new_chat()
    visitor = listen(conversation_channel(conv.id))

    await escalate(
        session=session,
        bus=bus,
        conv=conv,
        reason=Reason.ASKED_FOR_HUMAN,
        routing=Routing(hours=hours),
    )

    assert conv.state == S.TICKET
    ticket = await ticket_for(session=session, conversation_id=conv.id)
    assert ticket is not None and ticket.status == TicketStatus.OPEN
    assert ticket.reply_by == opening
    heard = visitor.events()
    promise = texts.text(
        "ticket.opened",
        why="We're closed at the moment",
        ticket_id=ticket.id,
        when=texts.local_time(opening, hours.timezone),
    )
    assert said(heard) == [promise]
    # Written out for the visitor: the weekday, the date and the zone's name (Babel, English).
    day = f"{opening:%A, %B} {opening.day}, {opening.year}, 9:00\u202fAM (Central European"
    assert day in promise, promise
    [state] = [e for e in heard if e["type"] == "state"]
    assert state["state"] == "ticket" and state["queue_position"] is None
    assert state["ticket"]["id"] == ticket.id and state["ticket"]["status"] == "open"
    assert reply_by(state) == opening


async def test_open_but_nobody_online_promises_the_usual_delay(
    session, bus, new_agent, new_chat, listen
) -> None:
    await new_agent("Ann", status=AgentStatus.AWAY)
    await new_agent("Bob", seen_ago_s=600)  # said online, then the console went silent
    conv = await new_chat(email="kim@example.com")
    visitor = listen(conversation_channel(conv.id))
    routing = Routing(ticket_reply_within_s=2 * 3600)

    before = utcnow()
    await escalate(
        session=session, bus=bus, conv=conv, reason=Reason.REPEATED_MISSES, routing=routing
    )
    after = utcnow()

    assert conv.state == S.TICKET
    heard = visitor.events()
    [text] = said(heard)
    assert text.startswith("No one from our team is available right now, so I've opened ticket #")
    [state] = [e for e in heard if e["type"] == "state"]
    assert state["escalation_reason"] == "repeated_misses"
    assert state["ticket"]["email"] == "kim@example.com", "replies go to the address on file"
    promised = reply_by(state)
    assert before + timedelta(hours=2) <= promised <= after + timedelta(hours=2)
    assert texts.local_time(promised, routing.hours.timezone) in text


async def test_talk_to_a_person_escalates_once_even_when_resent(
    session, bus, new_agent, new_chat, listen
) -> None:
    await new_agent("Ann")
    conv = await new_chat()
    visitor = listen(conversation_channel(conv.id))

    first = await request_human(
        session=session, bus=bus, conversation_id=conv.id, client_msg_id="h1", routing=MANUAL
    )
    again = await request_human(
        session=session, bus=bus, conversation_id=conv.id, client_msg_id="h1", routing=MANUAL
    )

    assert (first.duplicate, again.duplicate) == (False, True)
    assert again.message.seq == first.message.seq
    heard = visitor.events()
    assert said(heard) == [
        "I'd like to talk to a person.",
        texts.text("queue.joined", position=1),
    ]
    assert [e["state"] for e in heard if e["type"] == "state"] == ["queued"]
