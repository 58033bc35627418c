"""Tickets in the console: lists, answering one, changing its status."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from app.db import SessionDep
from app.schemas import RowId, TicketDetail, TicketOut, TicketReplyIn, TicketStatusIn
from app.security import AgentDep, ReaderDep
from handoff import tickets
from handoff.models import TicketStatus

router = APIRouter(prefix="/api/agent", tags=["tickets"])


@router.get("/tickets")
async def all_tickets(reader: ReaderDep, session: SessionDep) -> list[TicketOut]:
    """Every ticket, newest first (the first console's list; see /tickets/list)."""
    return [TicketOut.model_validate(t) for t in await tickets.list_tickets(session=session)]


@router.get("/tickets/list")
async def list_tickets(
    reader: ReaderDep,
    session: SessionDep,
    status_filter: Annotated[
        str | None, Query(alias="status", pattern="^(open|pending|solved)$")
    ] = None,
) -> list[TicketDetail]:
    """Tickets newest first, with their promised reply time, optionally of one status."""
    rows = await tickets.list_tickets(
        session=session, status=TicketStatus(status_filter) if status_filter else None
    )
    return [TicketDetail.model_validate(t) for t in rows]


@router.patch("/tickets/{ticket_id}")
async def set_ticket_status(
    ticket_id: RowId, body: TicketStatusIn, agent: AgentDep, session: SessionDep, request: Request
) -> TicketDetail:
    ticket = await tickets.set_status(
        session=session,
        bus=request.app.state.bus,
        ticket_id=ticket_id,
        status=TicketStatus(body.status),
    )
    return TicketDetail.model_validate(ticket)


@router.post("/conversations/{conversation_id}/ticket-reply", status_code=status.HTTP_201_CREATED)
async def ticket_reply(
    conversation_id: RowId,
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
        canned_reply_id=body.canned_reply_id,
    )
    return {"seq": posted.message.seq, "duplicate": posted.duplicate}
