"""Agent login and the logged-in agent."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status

from app.db import SessionDep
from app.schemas import AgentOut, LoginIn, LoginOut
from app.security import AgentDep
from handoff import agents

router = APIRouter(prefix="/api/agent", tags=["auth"])


@router.post("/login")
async def login(body: LoginIn, session: SessionDep, request: Request) -> LoginOut:
    agent = await agents.authenticate(session=session, email=body.email, password=body.password)
    if agent is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong e-mail or password")
    return LoginOut(
        token=request.app.state.tokens.for_agent(agent.id), agent=AgentOut.model_validate(agent)
    )


@router.get("/me")
async def me(agent: AgentDep) -> AgentOut:
    return AgentOut.model_validate(agent)
