"""REST endpoints for agents: login, conversation lists, transcript, take, close, tickets."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from sqlalchemy import select

from app.db import SessionDep
from app.schemas import (
    AgentOut,
    ConversationOut,
    LoginIn,
    LoginOut,
    MessageOut,
    TicketOut,
    TranscriptOut,
    VisitorOut,
)
from app.security import AgentDep
from handoff import agents as agent_service
from handoff import conversations as chat
from handoff.errors import Conflict, Forbidden, Invalid, NotFound
from handoff.messages import messages_after
from handoff.models import Ticket, Visitor
from handoff.states import ConversationState, IllegalTransition

router = APIRouter(prefix="/api")

LIST_FILTERS: dict[str, tuple[ConversationState, ...]] = {
    "queued": (ConversationState.QUEUED,),
    "mine": (ConversationState.ASSIGNED,),
    "open": (
        ConversationState.BOT,
        ConversationState.QUEUED,
        ConversationState.ASSIGNED,
        ConversationState.TICKET,
    ),
    "tickets": (ConversationState.TICKET,),
    "closed": (ConversationState.CLOSED,),
}


def http_error(exc: Exception) -> HTTPException:
    """Map a domain error to its HTTP status."""
    if isinstance(exc, NotFound):
        return HTTPException(status.HTTP_404_NOT_FOUND, str(exc))
    if isinstance(exc, Forbidden):
        return HTTPException(status.HTTP_403_FORBIDDEN, str(exc))
    if isinstance(exc, Conflict | IllegalTransition):
        return HTTPException(status.HTTP_409_CONFLICT, str(exc))
    return HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(exc))


DOMAIN_ERRORS = (NotFound, Forbidden, Conflict, IllegalTransition, Invalid)


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.post("/agent/login")
async def login(body: LoginIn, session: SessionDep, request: Request) -> LoginOut:
    agent = await agent_service.authenticate(
        session=session, email=body.email, password=body.password
    )
    if agent is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong e-mail or password")
    return LoginOut(
        token=request.app.state.tokens.for_agent(agent.id), agent=AgentOut.model_validate(agent)
    )


@router.get("/agent/me")
async def me(agent: AgentDep) -> AgentOut:
    return AgentOut.model_validate(agent)


@router.get("/agent/conversations")
async def list_conversations(
    agent: AgentDep,
    session: SessionDep,
    filter: Annotated[str, Query(pattern="^(queued|mine|open|tickets|closed)$")] = "open",
) -> list[ConversationOut]:
    rows = await chat.list_conversations(
        session=session,
        states=LIST_FILTERS[filter],
        agent_id=agent.id if filter == "mine" else None,
    )
    return [ConversationOut.model_validate(c) for c in rows]


@router.get("/agent/conversations/{conversation_id}")
async def transcript(conversation_id: int, agent: AgentDep, session: SessionDep) -> TranscriptOut:
    try:
        conv = await chat.get_conversation(session=session, conversation_id=conversation_id)
    except NotFound as exc:
        raise http_error(exc) from exc
    visitor = await session.get(Visitor, conv.visitor_id)
    messages = await messages_after(
        session=session, conversation_id=conv.id, after_seq=0, include_notes=True
    )
    return TranscriptOut(
        conversation=ConversationOut.model_validate(conv),
        visitor=VisitorOut.model_validate(visitor),
        messages=[MessageOut.model_validate(m) for m in messages],
    )


@router.post("/agent/conversations/{conversation_id}/take")
async def take(
    conversation_id: int, agent: AgentDep, session: SessionDep, request: Request
) -> ConversationOut:
    try:
        conv = await chat.take(
            session=session,
            bus=request.app.state.bus,
            conversation_id=conversation_id,
            agent=agent,
        )
    except DOMAIN_ERRORS as exc:
        raise http_error(exc) from exc
    return ConversationOut.model_validate(conv)


@router.post("/agent/conversations/{conversation_id}/close")
async def close(
    conversation_id: int, agent: AgentDep, session: SessionDep, request: Request
) -> ConversationOut:
    try:
        conv = await chat.close(
            session=session,
            bus=request.app.state.bus,
            conversation_id=conversation_id,
            agent=agent,
            routing=request.app.state.settings.routing(),
        )
    except DOMAIN_ERRORS as exc:
        raise http_error(exc) from exc
    return ConversationOut.model_validate(conv)


@router.get("/agent/tickets")
async def tickets(agent: AgentDep, session: SessionDep) -> list[TicketOut]:
    rows = (await session.scalars(select(Ticket).order_by(Ticket.id.desc()))).all()
    return [TicketOut.model_validate(t) for t in rows]
