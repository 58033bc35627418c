"""Agent login and logout, and the logged-in agent."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response, status

from app.db import SessionDep
from app.schemas import AgentOut, LoginIn, LoginOut
from app.security import PAGE_COOKIE, AgentDep, LoginDep, client_ip
from handoff import logins

router = APIRouter(prefix="/api/agent", tags=["auth"])


@router.post(
    "/login",
    responses={
        401: {"description": "wrong e-mail or password"},
        429: {"description": "too many failed logins: try again after `Retry-After` seconds"},
    },
)
async def login(
    body: LoginIn, session: SessionDep, request: Request, response: Response
) -> LoginOut:
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
    token = request.app.state.tokens.for_agent(result.agent.id)
    _set_page_cookie(request, response, token)
    return LoginOut(token=token, agent=AgentOut.model_validate(result.agent))


def _set_page_cookie(request: Request, response: Response, token: str) -> None:
    """The login token as the cookie only GET /admin reads (app/security.py PAGE_COOKIE)."""
    response.set_cookie(
        PAGE_COOKIE,
        token,
        max_age=request.app.state.settings.agent_token_ttl_s,
        path="/admin",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )


@router.post("/page-login", status_code=status.HTTP_204_NO_CONTENT)
async def page_login(login: LoginDep, request: Request, response: Response) -> None:
    """Give this tab's login to the /admin page too (the cookie a log in sets; e.g. after it
    was cleared by logging out in another tab)."""
    token = request.headers["authorization"].partition(" ")[2]
    _set_page_cookie(request, response, token)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(
    login: LoginDep, session: SessionDep, request: Request, response: Response
) -> None:
    """End this login token on every replica (REST and /ws/agent refuse it from now on)."""
    response.delete_cookie(PAGE_COOKIE, path="/admin")
    await logins.log_out(
        session=session,
        bus=request.app.state.bus,
        agent_id=login.agent.id,
        jti=login.claims.jti,
        expires_at=login.claims.expires_at,
        ip=client_ip(request),
    )


@router.get("/me")
async def me(agent: AgentDep) -> AgentOut:
    return AgentOut.model_validate(agent)
