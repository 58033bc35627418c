"""REST endpoints for agents: login, conversation lists, transcript, take, close, tickets."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse
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


# Services raise domain errors; this is the one place that turns them into HTTP statuses,
# so endpoints stay free of try/except (registered in app.main.create_app).
DOMAIN_STATUS: dict[type[Exception], int] = {
    NotFound: status.HTTP_404_NOT_FOUND,
    Forbidden: status.HTTP_403_FORBIDDEN,
    Conflict: status.HTTP_409_CONFLICT,
    IllegalTransition: status.HTTP_409_CONFLICT,
    Invalid: status.HTTP_422_UNPROCESSABLE_CONTENT,
}


async def domain_error(request: Request, exc: Exception) -> JSONResponse:
    """Answer a domain error with its HTTP status and message."""
    code = next(c for cls, c in DOMAIN_STATUS.items() if isinstance(exc, cls))
    return JSONResponse({"detail": str(exc)}, status_code=code)


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
    conv = await chat.get_conversation(session=session, conversation_id=conversation_id)
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
    conv = await chat.take(
        session=session,
        bus=request.app.state.bus,
        conversation_id=conversation_id,
        agent=agent,
    )
    return ConversationOut.model_validate(conv)


@router.post("/agent/conversations/{conversation_id}/close")
async def close(
    conversation_id: int, agent: AgentDep, session: SessionDep, request: Request
) -> ConversationOut:
    conv = await chat.close(
        session=session,
        bus=request.app.state.bus,
        conversation_id=conversation_id,
        agent=agent,
        routing=request.app.state.settings.routing(),
    )
    return ConversationOut.model_validate(conv)


@router.get("/agent/tickets")
async def tickets(agent: AgentDep, session: SessionDep) -> list[TicketOut]:
    rows = (await session.scalars(select(Ticket).order_by(Ticket.id.desc()))).all()
    return [TicketOut.model_validate(t) for t in rows]
