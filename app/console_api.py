"""REST endpoints of the agent console: agents, transfer, reopen, tickets, canned replies."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from app.console_schemas import (
    AgentSummary,
    CannedIn,
    CannedOut,
    ContextOut,
    FeedbackOut,
    HoursOut,
    RatingOut,
    TicketDetail,
    TicketReplyIn,
    TicketStatusIn,
    TransferIn,
)
from app.db import SessionDep
from app.schemas import ConversationOut
from app.security import AdminDep, AgentDep
from handoff import canned, profile, tickets
from handoff import conversations as chat
from handoff.models import Ticket, TicketStatus, utcnow
from handoff.routing import roster

router = APIRouter(prefix="/api/agent")


def _ticket(ticket: Ticket) -> TicketDetail:
    return TicketDetail.model_validate(ticket, from_attributes=True)


@router.get("/agents")
async def list_agents(agent: AgentDep, session: SessionDep, request: Request) -> list[AgentSummary]:
    """Every agent with their live status and load (for transfers)."""
    entries = await roster(
        session=session, presence_timeout_s=request.app.state.settings.presence_timeout_s
    )
    return [
        AgentSummary(
            id=e.agent.id,
            name=e.agent.name,
            avatar_url=e.agent.avatar_url,
            status=str(e.status),
            capacity=e.agent.capacity,
            active=e.active,
        )
        for e in entries
    ]


@router.post("/conversations/{conversation_id}/transfer")
async def transfer(
    conversation_id: int, body: TransferIn, agent: AgentDep, session: SessionDep, request: Request
) -> ConversationOut:
    conv = await chat.transfer(
        session=session,
        bus=request.app.state.bus,
        conversation_id=conversation_id,
        agent=agent,
        to_agent_id=body.to_agent_id,
        note=body.note,
        routing=request.app.state.settings.routing(),
    )
    return ConversationOut.model_validate(conv)


@router.post("/conversations/{conversation_id}/reopen")
async def reopen(
    conversation_id: int, agent: AgentDep, session: SessionDep, request: Request
) -> ConversationOut:
    conv = await chat.reopen(
        session=session,
        bus=request.app.state.bus,
        conversation_id=conversation_id,
        agent=agent,
    )
    return ConversationOut.model_validate(conv)


@router.get("/conversations/{conversation_id}/context")
async def context(conversation_id: int, agent: AgentDep, session: SessionDep) -> ContextOut:
    ctx = await profile.conversation_context(session=session, conversation_id=conversation_id)
    return ContextOut(
        ticket=TicketDetail.model_validate(ctx.ticket, from_attributes=True)
        if ctx.ticket
        else None,
        rating=RatingOut.model_validate(ctx.rating) if ctx.rating else None,
        feedback=[FeedbackOut.model_validate(f) for f in ctx.feedback],
        earlier_conversations=[
            ConversationOut.model_validate(c) for c in ctx.earlier_conversations
        ],
        tickets=[TicketDetail.model_validate(t, from_attributes=True) for t in ctx.tickets],
    )


@router.post("/conversations/{conversation_id}/ticket-reply", status_code=status.HTTP_201_CREATED)
async def ticket_reply(
    conversation_id: int,
    body: TicketReplyIn,
    agent: AgentDep,
    session: SessionDep,
    request: Request,
) -> dict[str, int | bool]:
    """Answer a ticket: shown in the widget when the visitor is back, and e-mailed."""
    posted = await tickets.reply_to_ticket(
        session=session,
        bus=request.app.state.bus,
        mail=request.app.state.settings.mail(),
        conversation_id=conversation_id,
        agent=agent,
        client_msg_id=body.client_msg_id,
        text=body.text.strip(),
    )
    return {"seq": posted.message.seq, "duplicate": posted.duplicate}


@router.get("/tickets/list")
async def list_tickets(
    agent: AgentDep,
    session: SessionDep,
    status_filter: Annotated[
        str | None, Query(alias="status", pattern="^(open|pending|solved)$")
    ] = None,
) -> list[TicketDetail]:
    rows = await tickets.list_tickets(
        session=session, status=TicketStatus(status_filter) if status_filter else None
    )
    return [_ticket(t) for t in rows]


@router.patch("/tickets/{ticket_id}")
async def set_ticket_status(
    ticket_id: int, body: TicketStatusIn, agent: AgentDep, session: SessionDep, request: Request
) -> TicketDetail:
    ticket = await tickets.set_status(
        session=session,
        bus=request.app.state.bus,
        ticket_id=ticket_id,
        status=TicketStatus(body.status),
    )
    return _ticket(ticket)


@router.get("/canned")
async def search_canned(
    agent: AgentDep, session: SessionDep, q: Annotated[str, Query(max_length=200)] = ""
) -> list[CannedOut]:
    return [CannedOut.model_validate(r) for r in await canned.search(session=session, query=q)]


@router.post("/canned", status_code=status.HTTP_201_CREATED)
async def create_canned(body: CannedIn, admin: AdminDep, session: SessionDep) -> CannedOut:
    reply = await canned.create(
        session=session, shortcut=body.shortcut, title=body.title, text=body.text
    )
    return CannedOut.model_validate(reply)


@router.put("/canned/{reply_id}")
async def update_canned(
    reply_id: int, body: CannedIn, admin: AdminDep, session: SessionDep
) -> CannedOut:
    reply = await canned.update(
        session=session,
        reply_id=reply_id,
        shortcut=body.shortcut,
        title=body.title,
        text=body.text,
    )
    return CannedOut.model_validate(reply)


@router.delete("/canned/{reply_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_canned(reply_id: int, admin: AdminDep, session: SessionDep) -> None:
    await canned.delete(session=session, reply_id=reply_id)


@router.get("/hours")
async def hours(agent: AgentDep, request: Request) -> HoursOut:
    settings = request.app.state.settings
    business = settings.hours()
    now = utcnow()
    opening = business.next_opening(now)
    return HoursOut(
        open_now=opening == now,
        next_opening=opening,
        timezone=business.timezone.key,
        routing_mode=str(settings.routing_mode),
    )
