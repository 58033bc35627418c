"""Conversations in the console: lists, transcript and context, take, transfer, reopen, close."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status

from app.db import SessionDep
from app.schemas import (
    ContextOut,
    ConversationOut,
    FeedbackOut,
    MessageOut,
    RatingOut,
    RowId,
    TicketDetail,
    TranscriptOut,
    TransferIn,
    VisitorOut,
)
from app.security import AgentDep, ReaderDep
from handoff import agent_actions, profile, sla_clocks, team_routing
from handoff.conversations import list_conversations
from handoff.models import utcnow
from handoff.states import ConversationState

router = APIRouter(prefix="/api/agent/conversations", tags=["conversations"])

S = ConversationState
LIST_FILTERS: dict[str, tuple[ConversationState, ...]] = {
    "queued": (S.QUEUED,),
    "mine": (S.ASSIGNED,),
    "open": (S.BOT, S.QUEUED, S.ASSIGNED, S.TICKET),
    "tickets": (S.TICKET,),
    "closed": (S.CLOSED,),
}


@router.get("")
async def conversations(
    request: Request,
    reader: ReaderDep,
    session: SessionDep,
    filter: Annotated[str, Query(pattern="^(queued|mine|open|tickets|closed)$")] = "open",
) -> list[ConversationOut]:
    """Conversations in these states (an agent or a `conversations:read` key); `mine`:
    the agent's own chats (an API key holds none)."""
    if filter == "mine" and reader.agent_id is None:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "an API key holds no chats: no 'mine'")
    rows = await list_conversations(
        session=session,
        states=LIST_FILTERS[filter],
        agent_id=reader.agent_id if filter == "mine" else None,
    )
    now = utcnow()
    clocks = await sla_clocks.clocks_for(
        session=session,
        conversation_ids=[c.id for c in rows],
        hours=request.app.state.routing.hours,
        targets=request.app.state.sla,
        now=now,
    )
    teams = await team_routing.waiting_for(
        session=session,
        conversation_ids=[c.id for c in rows if c.state == S.QUEUED],
        fallback_s=request.app.state.routing.team_fallback_s,
    )
    return [
        ConversationOut.model_validate(c).model_copy(
            update={
                "sla": sla_clocks.clock_data(clocks.get(c.id), now=now),
                "team": teams.get(c.id),
            }
        )
        for c in rows
    ]


@router.get("/{conversation_id}")
async def transcript(
    conversation_id: RowId, reader: ReaderDep, session: SessionDep
) -> TranscriptOut:
    shown = await profile.transcript(session=session, conversation_id=conversation_id)
    return TranscriptOut(
        conversation=ConversationOut.model_validate(shown.conversation),
        visitor=VisitorOut.model_validate(shown.visitor),
        messages=[MessageOut.model_validate(m) for m in shown.messages],
    )


@router.get("/{conversation_id}/context")
async def context(conversation_id: RowId, reader: ReaderDep, session: SessionDep) -> ContextOut:
    ctx = await profile.conversation_context(session=session, conversation_id=conversation_id)
    return ContextOut(
        ticket=TicketDetail.model_validate(ctx.ticket) if ctx.ticket else None,
        rating=RatingOut.model_validate(ctx.rating) if ctx.rating else None,
        feedback=[FeedbackOut.model_validate(f) for f in ctx.feedback],
        earlier_conversations=[
            ConversationOut.model_validate(c) for c in ctx.earlier_conversations
        ],
        tickets=[TicketDetail.model_validate(t) for t in ctx.tickets],
    )


@router.post("/{conversation_id}/take")
async def take(
    conversation_id: RowId, agent: AgentDep, session: SessionDep, request: Request
) -> ConversationOut:
    conv = await agent_actions.take(
        session=session, bus=request.app.state.bus, conversation_id=conversation_id, agent=agent
    )
    return ConversationOut.model_validate(conv)


@router.post("/{conversation_id}/transfer")
async def transfer(
    conversation_id: RowId, body: TransferIn, agent: AgentDep, session: SessionDep, request: Request
) -> ConversationOut:
    conv = await agent_actions.transfer(
        session=session,
        bus=request.app.state.bus,
        conversation_id=conversation_id,
        agent=agent,
        to_agent_id=body.to_agent_id,
        note=body.note,
        routing=request.app.state.routing,
        to_team_id=body.to_team_id,
    )
    return ConversationOut.model_validate(conv)


@router.post("/{conversation_id}/reopen")
async def reopen(
    conversation_id: RowId, agent: AgentDep, session: SessionDep, request: Request
) -> ConversationOut:
    conv = await agent_actions.reopen(
        session=session, bus=request.app.state.bus, conversation_id=conversation_id, agent=agent
    )
    return ConversationOut.model_validate(conv)


@router.post("/{conversation_id}/close")
async def close(
    conversation_id: RowId, agent: AgentDep, session: SessionDep, request: Request
) -> ConversationOut:
    conv = await agent_actions.close(
        session=session,
        bus=request.app.state.bus,
        conversation_id=conversation_id,
        agent=agent,
        routing=request.app.state.routing,
    )
    return ConversationOut.model_validate(conv)
