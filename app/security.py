"""Signed tokens for visitors and agents, and the agent auth dependency."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import SessionDep
from app.settings import Settings
from handoff.models import Agent

VISITOR_SALT = "chatdesk.visitor"
AGENT_SALT = "chatdesk.agent"


class Tokens:
    """Issues and checks tokens; a visitor token names exactly one visitor."""

    def __init__(self, settings: Settings) -> None:
        self._visitor = URLSafeSerializer(settings.secret_key, salt=VISITOR_SALT)
        self._agent = URLSafeTimedSerializer(settings.secret_key, salt=AGENT_SALT)
        self._agent_ttl_s = settings.agent_token_ttl_s

    def for_visitor(self, visitor_id: int) -> str:
        return str(self._visitor.dumps(visitor_id))

    def visitor_id(self, token: str) -> int | None:
        try:
            value = self._visitor.loads(token)
        except BadSignature:
            return None
        return value if isinstance(value, int) else None

    def for_agent(self, agent_id: int) -> str:
        return str(self._agent.dumps(agent_id))

    def agent_id(self, token: str) -> int | None:
        try:
            value = self._agent.loads(token, max_age=self._agent_ttl_s)
        except (BadSignature, SignatureExpired):
            return None
        return value if isinstance(value, int) else None


async def agent_for_token(
    *, session: AsyncSession, tokens: Tokens, token: str | None
) -> Agent | None:
    """The agent a login token names, if it is valid and the agent still exists."""
    agent_id = tokens.agent_id(token) if token else None
    return await session.get(Agent, agent_id) if agent_id is not None else None


_bearer = HTTPBearer(auto_error=False)


async def current_agent(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Agent:
    """The agent named by the bearer token, or 401."""
    agent = await agent_for_token(
        session=session,
        tokens=request.app.state.tokens,
        token=credentials.credentials if credentials else None,
    )
    if agent is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "log in first", headers={"WWW-Authenticate": "Bearer"}
        )
    return agent


async def current_admin(agent: Annotated[Agent, Depends(current_agent)]) -> Agent:
    """The current agent if they are an admin, or 403."""
    if not agent.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "admins only")
    return agent


AgentDep = Annotated[Agent, Depends(current_agent)]
AdminDep = Annotated[Agent, Depends(current_admin)]
