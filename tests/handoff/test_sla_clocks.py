"""SLA clocks on the real database (handoff/sla_clocks.py): a ticket's clock across a closing
night and a pending period, its breach recorded once however many replicas sweep, the next
response clock of a live chat, stopped on reply and on close."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import make_engine, make_read_sessionmaker, make_sessionmaker
from bot import Reason
from handoff import agent_actions, tickets, visitors, webhook_admin, webhooks
from handoff.bus import MemoryBus
from handoff.escalation import escalate
from handoff.events import AGENTS_CHANNEL
from handoff.hours import BusinessHours
from handoff.mail import MailConfig
from handoff.models import AgentStatus, Ticket, TicketStatus, utcnow
from handoff.routing import Routing
from handoff.sla import SlaTargets
from handoff.sla_models import SlaBreach, SlaClock, SlaPause
from handoff.sla_sweep import sweep, sweeping_alone
from handoff.states import ConversationState as S
from handoff.webhook_models import WebhookEvent
from handoff.webhooks import Targets

BERLIN = ZoneInfo("Europe/Berlin")
HOURS = BusinessHours.parse({d: "09:00-17:00" for d in ("mon", "tue", "wed", "thu", "fri")},
                            "Europe/Berlin")
ALWAYS = BusinessHours()
HOUR = 3600
TARGETS = SlaTargets(
    chat_first_response_s=120, chat_next_response_s=300,
    ticket_first_response_s=HOUR, ticket_next_response_s=8 * HOUR,
)
NO_MAIL = MailConfig(host=None)
Replica = tuple[async_sessionmaker[AsyncSession], async_sessionmaker[AsyncSession]]  # write, read


def local(day: int, hh: int, mm: int = 0) -> datetime:
    """Berlin wall clock in November 2026 (Friday the 27th, Monday the 30th), as UTC."""
    return datetime(2026, 11, day, hh, mm, tzinfo=BERLIN).astimezone(UTC)


@pytest.fixture
async def replicas(database_url: str) -> AsyncIterator[list[Replica]]:
    """Two replicas' (write, read) session makers, each on an engine of its own."""
    engines = [make_engine(database_url) for _ in range(2)]
    try:
        yield [(make_sessionmaker(e), make_read_sessionmaker(e)) for e in engines]
    finally:
        webhooks.SUBSCRIBED.forget()
        for e in engines:
            await e.dispose()


async def swept(
    replica: Replica, bus: MemoryBus, *, hours: BusinessHours = HOURS, now: datetime
) -> list[int]:
    """One replica's sweep at `now`: the conversations that breached."""
    write, read = replica
    async with read() as r, write() as w:
        return await sweep(
            read_session=r, session=w, bus=bus, hours=hours, targets=TARGETS, now=now
        )


async def clock_row(session: AsyncSession, cid: int) -> SlaClock:
    row = await session.get(SlaClock, cid, populate_existing=True)
    assert row is not None
    await session.commit()  # on SQLite: let go of the write lock, the replicas write next
    return row


async def test_a_ticket_clock_counts_business_hours_pauses_while_pending_and_breaches_once(
    session, bus, writer, new_chat, new_agent, listen, replicas
) -> None:
    await webhook_admin.create_endpoint(
        session=session, bus=MemoryBus(), targets=Targets(), url="http://127.0.0.1:9/x",
        event_types=["sla.breached"], description=None, enabled=True, agent_id=None,
    )
    await webhooks.refresh(session=session)
    ann = await new_agent("Ann", status=AgentStatus.OFFLINE)
    conv = await new_chat()
    await escalate(session=session, bus=bus, conv=conv, reason=Reason.ASKED_FOR_HUMAN,
                   routing=Routing(auto_assign=False))
    assert conv.state == S.TICKET
    ticket = await session.scalar(select(Ticket).where(Ticket.conversation_id == conv.id))
    assert ticket is not None
    await tickets.set_status(session=session, bus=bus, ticket_id=ticket.id,
                             status=TicketStatus.PENDING)  # waiting on the customer: paused
    await tickets.set_status(session=session, bus=bus, ticket_id=ticket.id,
                             status=TicketStatus.OPEN)
    # As if the ticket came on Friday at 16:30 and was pending Monday 09:00-10:00.
    await session.execute(update(Ticket).where(Ticket.id == ticket.id)
                          .values(created_at=local(27, 16, 30)))
    await session.execute(update(SlaPause).where(SlaPause.conversation_id == conv.id)
                          .values(started_at=local(30, 9), ended_at=local(30, 10)))
    await session.commit()
    consoles = listen(AGENTS_CHANNEL)

    # Friday's half hour, then Monday from 10:00: the hour is up at 10:30, not earlier.
    assert await swept(replicas[0], bus, now=local(30, 10, 29)) == []
    row = await clock_row(session, conv.id)
    assert (row.kind, row.metric, row.status) == ("ticket", "first_response", "running")
    assert row.due_at == local(30, 10, 30) and row.breached_at is None
    [told] = consoles.events("conversation")
    assert told["conversation_id"] == conv.id and told["sla"]["due_at"] == row.due_at.isoformat()
    assert told["sla"]["elapsed_s"] == 59 * 60 and not told["sla"]["breached"]

    # Both replicas sweep after it is due: the breach is recorded and sent once.
    assert await swept(replicas[0], bus, now=local(30, 10, 31)) == [conv.id]
    assert await swept(replicas[1], bus, now=local(30, 10, 32)) == []
    assert (await clock_row(session, conv.id)).breached_at == local(30, 10, 31)
    [alarm] = consoles.events("conversation")  # the consoles are told once, by the winner
    assert alarm["conversation_id"] == conv.id and alarm["sla"]["breached"]
    [event] = (await session.scalars(select(WebhookEvent))).all()
    assert event.type == "sla.breached" and event.data["conversation"]["id"] == conv.id
    assert event.data["sla"]["metric"] == "first_response" and event.data["sla"]["breached"]
    assert event.data["sla"]["target_s"] == HOUR
    [breach] = (await session.scalars(select(SlaBreach))).all()  # what the reports count
    assert (breach.conversation_id, breach.kind, breach.metric) == (conv.id, "ticket",
                                                                    "first_response")
    assert breach.started_at == local(27, 16, 30) and breach.breached_at == local(30, 10, 31)
    await session.commit()

    # Ann answers: the clock stops, its first response kept in business seconds for reports;
    # the reply made the ticket pending (a pause) until the customer writes again.
    await tickets.reply_to_ticket(session=session, bus=bus, mail=NO_MAIL, conversation_id=conv.id,
                                  agent=ann, client_msg_id="a1", text="On its way.")
    await swept(replicas[1], bus, now=utcnow())
    row = await clock_row(session, conv.id)
    assert row.status == "stopped" and row.due_at is None and row.first_response_s is not None
    assert row.first_response_s > HOUR
    open_pauses = select(func.count()).select_from(SlaPause).where(SlaPause.ended_at.is_(None))
    assert await session.scalar(open_pauses) == 1
    await session.commit()
    wrote = await visitors.post_visitor_message(
        writer=writer, bus=bus, conversation_id=conv.id, client_msg_id="v1", text="Thanks!"
    )
    assert wrote is not None
    assert await session.scalar(open_pauses) == 0, "the customer wrote: the pause ended"
    await session.commit()
    await swept(replicas[0], bus, now=utcnow())
    row = await clock_row(session, conv.id)
    assert (row.metric, row.status) == ("next_response", "running")
    assert row.started_at == wrote.message.created_at
    assert row.breached_at is None, "a new clock: no breach yet"


async def test_a_live_chat_next_response_clock_starts_on_the_visitor_and_stops_on_close(
    session, bus, writer, new_chat, new_agent, replicas
) -> None:
    ann = await new_agent("Ann")
    conv = await new_chat()
    await escalate(session=session, bus=bus, conv=conv, reason=Reason.ASKED_FOR_HUMAN,
                   routing=Routing())
    assert conv.state == S.ASSIGNED and conv.assigned_agent_id == ann.id
    await session.commit()
    await swept(replicas[0], bus, hours=ALWAYS, now=utcnow())
    row = await clock_row(session, conv.id)
    assert (row.kind, row.metric, row.status) == ("chat", "first_response", "running")
    assert row.target_s == 120
    await session.commit()

    await agent_actions.post_agent_message(session=session, writer=writer, conversation_id=conv.id,
                                           agent=ann, client_msg_id="a1", text="Hello!")
    await agent_actions.post_agent_message(session=session, writer=writer, conversation_id=conv.id,
                                           agent=ann, client_msg_id="n1", text="vip", note=True)
    await session.commit()
    await swept(replicas[0], bus, hours=ALWAYS, now=utcnow())
    assert (await clock_row(session, conv.id)).status == "stopped", "answered: nobody waits"
    await session.commit()

    stored = await visitors.post_visitor_message(
        writer=writer, bus=bus, conversation_id=conv.id, client_msg_id="v1", text="One more?"
    )
    assert stored is not None
    await swept(replicas[0], bus, hours=ALWAYS, now=utcnow())
    row = await clock_row(session, conv.id)
    assert (row.metric, row.status, row.target_s) == ("next_response", "running", 300)
    assert row.started_at == stored.message.created_at
    await session.commit()

    await agent_actions.close(session=session, bus=bus, conversation_id=conv.id, agent=ann)
    await swept(replicas[0], bus, hours=ALWAYS, now=utcnow())
    assert (await clock_row(session, conv.id)).status == "stopped", "closing stops the clock"


async def test_a_reply_before_any_sweep_still_keeps_its_first_response(
    session, bus, writer, new_chat, new_agent, replicas
) -> None:
    ann = await new_agent("Ann")
    conv = await new_chat()
    await escalate(session=session, bus=bus, conv=conv, reason=Reason.ASKED_FOR_HUMAN,
                   routing=Routing())
    await session.commit()
    await agent_actions.post_agent_message(session=session, writer=writer, conversation_id=conv.id,
                                           agent=ann, client_msg_id="a1", text="Hi, quick!")
    await session.commit()
    assert await swept(replicas[0], bus, hours=ALWAYS, now=utcnow()) == []
    row = await clock_row(session, conv.id)
    assert (row.metric, row.status, row.due_at) == ("first_response", "stopped", None)
    assert row.first_response_s is not None and 0 <= row.first_response_s < 60


async def test_while_one_replica_sweeps_another_skips_its_round(replicas: list[Replica]) -> None:
    """On PostgreSQL the second replica skips instead of queueing behind the first one's row
    locks (and the message writer behind both); SQLite has a single writer anyway."""
    (write_1, _), (write_2, _) = replicas
    async with write_1() as first, write_2() as second:
        postgres = first.get_bind().dialect.name == "postgresql"
        assert await sweeping_alone(first)
        assert await sweeping_alone(second) is not postgres
        await first.commit()  # the sweep's lock goes with its transaction
        await second.rollback()
        assert await sweeping_alone(second)
