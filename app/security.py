"""Signed tokens for visitors and agents, and the agent auth dependency.

Both kinds of token expire (Settings.visitor_token_ttl_s, agent_token_ttl_s). A visitor's is
renewed by every welcome frame; an agent's carries a random id (`jti`) that logging out
revokes (handoff/logins.py). The signing key is CHATDESK_SECRET_KEY, or, when that is unset
outside production, a random key the first start stored in the database (handoff/server_keys.py).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.requests import HTTPConnection
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import SessionDep
from app.settings import Settings
from handoff import agents, logins, server_keys
from handoff.models import Agent

VISITOR_SALT = "chatdesk.visitor"
AGENT_SALT = "chatdesk.agent"
JTI_BYTES = 16  # 128 random bits name one login


@dataclass(frozen=True)
class AgentClaims:
    """What a valid agent token says: who, which login, when it was issued, until when."""

    agent_id: int
    jti: str
    expires_at: datetime
    issued_at: datetime


class Tokens:
    """Issues and checks tokens; a visitor token names exactly one visitor."""

    def __init__(self, secret: str, *, agent_ttl_s: int, visitor_ttl_s: int) -> None:
        self._visitor = URLSafeTimedSerializer(secret, salt=VISITOR_SALT)
        self._agent = URLSafeTimedSerializer(secret, salt=AGENT_SALT)
        self._agent_ttl_s = agent_ttl_s
        self._visitor_ttl_s = visitor_ttl_s

    def for_visitor(self, visitor_id: int) -> str:
        return str(self._visitor.dumps(visitor_id))

    def visitor_id(self, token: str) -> int | None:
        """The visitor a token names, unless it is forged or older than the visitor TTL."""
        try:
            value = self._visitor.loads(token, max_age=self._visitor_ttl_s)
        except BadSignature:  # SignatureExpired is one
            return None
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def for_agent(self, agent_id: int) -> str:
        # "t": the issue time in microseconds (the signature's own timestamp has whole
        # seconds), so a login right after a password reset is told apart from one before.
        payload = {"a": agent_id, "j": secrets.token_hex(JTI_BYTES), "t": time.time_ns() // 1000}
        return str(self._agent.dumps(payload))

    def agent_claims(self, token: str) -> AgentClaims | None:
        """The claims of an unexpired, correctly signed agent token (revocation is not checked)."""
        try:
            value, signed_at = self._agent.loads(
                token, max_age=self._agent_ttl_s, return_timestamp=True
            )
        except BadSignature:
            return None
        if not isinstance(value, dict):
            return None
        agent_id, jti = value.get("a"), value.get("j")
        if not isinstance(agent_id, int) or not isinstance(jti, str):
            return None
        signed_at = signed_at.astimezone(UTC)
        expires_at = signed_at + timedelta(seconds=self._agent_ttl_s)
        issued_us = value.get("t")
        issued_at = (
            datetime.fromtimestamp(issued_us / 1_000_000, UTC)
            if isinstance(issued_us, int) and not isinstance(issued_us, bool)
            else signed_at  # a token from before "t" existed
        )
        return AgentClaims(agent_id=agent_id, jti=jti, expires_at=expires_at, issued_at=issued_at)


async def make_tokens(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> Tokens:
    """Tokens signed with the configured secret, else with the database's own key."""
    secret = settings.secret_key
    if secret is None:
        async with sessions() as session:
            secret = await server_keys.get_or_create(session=session, name=server_keys.SIGNING_KEY)
    return Tokens(
        secret,
        agent_ttl_s=settings.agent_token_ttl_s,
        visitor_ttl_s=settings.visitor_token_ttl_s,
    )


@dataclass(frozen=True)
class Login:
    """The agent a request's bearer token names, and that token's claims."""

    agent: Agent
    claims: AgentClaims


async def login_for_token(
    *, session: AsyncSession, tokens: Tokens, token: str | None
) -> Login | None:
    """The login a token names, if it is valid, not logged out, and the agent still exists,
    is not disabled and has had no password reset since (handoff/team.py)."""
    claims = tokens.agent_claims(token) if token else None
    if claims is None or await logins.is_revoked(session=session, jti=claims.jti):
        return None
    agent = await session.get(Agent, claims.agent_id)
    if agent is None or not agents.login_still_valid(agent, issued_at=claims.issued_at):
        return None
    return Login(agent=agent, claims=claims)


async def agent_for_token(
    *, session: AsyncSession, tokens: Tokens, token: str | None
) -> Agent | None:
    """The agent a login token names, if it is valid, not logged out, and the agent exists."""
    login = await login_for_token(session=session, tokens=tokens, token=token)
    return login.agent if login is not None else None


def client_ip(conn: HTTPConnection) -> str | None:
    """The client's address (behind a proxy: as uvicorn's FORWARDED_ALLOW_IPS trusts it)."""
    return conn.client.host if conn.client else None


_bearer = HTTPBearer(auto_error=False)

# The login token again, as an HttpOnly cookie (Path=/admin) that only the admin pages read
# (GET /admin and its widget preview): they answer 403 to an agent who is not an admin. No API
# accepts it, so a cross-site request can never act with it; the API takes the bearer only.
PAGE_COOKIE = "chatdesk_login"


async def current_login(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Login:
    """The login named by the bearer token, or 401 (also once logged out or expired)."""
    login = await login_for_token(
        session=session,
        tokens=request.app.state.tokens,
        token=credentials.credentials if credentials else None,
    )
    if login is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "log in first", headers={"WWW-Authenticate": "Bearer"}
        )
    return login


LoginDep = Annotated[Login, Depends(current_login)]


async def current_agent(login: LoginDep) -> Agent:
    """The agent named by the bearer token, or 401."""
    return login.agent


async def current_admin(agent: Annotated[Agent, Depends(current_agent)]) -> Agent:
    """The current agent if they are an admin, or 403."""
    if not agent.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "admins only")
    return agent


AgentDep = Annotated[Agent, Depends(current_agent)]
AdminDep = Annotated[Agent, Depends(current_admin)]
