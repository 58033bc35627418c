"""Agent login and logout, and the logged-in agent."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status

from app.db import SessionDep
from app.schemas import AgentOut, LoginIn, LoginOut
from app.security import AgentDep, LoginDep, client_ip
from handoff import logins

router = APIRouter(prefix="/api/agent", tags=["auth"])


@router.post(
    "/login",
    responses={
        401: {"description": "wrong e-mail or password"},
        429: {"description": "too many failed logins: try again after `Retry-After` seconds"},
    },
)
async def login(body: LoginIn, session: SessionDep, request: Request) -> LoginOut:
    result = await logins.log_in(
        session=session,
        slots=request.app.state.login_slots,
        policy=request.app.state.settings.login_policy(),
        email=body.email,
        password=body.password,
        ip=client_ip(request),
    )
    if result.retry_after_s:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"too many failed logins: try again in {result.retry_after_s} s",
            headers={"Retry-After": str(result.retry_after_s)},
        )
    if result.agent is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong e-mail or password")
    return LoginOut(
        token=request.app.state.tokens.for_agent(result.agent.id),
        agent=AgentOut.model_validate(result.agent),
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(login: LoginDep, session: SessionDep, request: Request) -> None:
    """End this login token on every replica (REST and /ws/agent refuse it from now on)."""
    await logins.log_out(
        session=session,
        agent_id=login.agent.id,
        jti=login.claims.jti,
        expires_at=login.claims.expires_at,
        ip=client_ip(request),
    )


@router.get("/me")
async def me(agent: AgentDep) -> AgentOut:
    return AgentOut.model_validate(agent)
