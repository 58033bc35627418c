"""Signed tokens for visitors and agents, the agent auth dependency, and API keys.

Both kinds of token expire (Settings.visitor_token_ttl_s, agent_token_ttl_s). A visitor's is
renewed by every welcome frame; an agent's carries a random id (`jti`) that logging out
revokes (handoff/logins.py). The signing key is CHATDESK_SECRET_KEY, or, when that is unset
outside production, a random key the first start stored in the database (handoff/server_keys.py).
Integrations send an API key instead (`Bearer ck_...`, handoff/api_keys.py) to the routes whose
dependency is `login_or_key` (ReaderDep, WriterDep, KbManagerDep); `ApiKeyUsage` audits each call.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.requests import HTTPConnection
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.db import SessionDep
from app.settings import Settings
from handoff import agents, api_keys, logins, server_keys
from handoff.api_key_models import ApiKey
from handoff.models import Agent

VISITOR_SALT = "chatdesk.visitor"
AGENT_SALT = "chatdesk.agent"
JTI_BYTES = 16  # 128 random bits name one login

log = logging.getLogger(__name__)


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


# --- API keys (issue 18): an agent's login, or an integration's key with the needed scope ---
KEY_STATE = "api_key_id"  # request.state: the key a request named (the usage record reads it)


@dataclass(frozen=True)
class Principal:
    """Who is calling: an agent (by their login) or an integration (by its API key)."""

    agent: Agent | None = None
    key: ApiKey | None = None

    @property
    def agent_id(self) -> int | None:
        return self.agent.id if self.agent is not None else None


async def key_principal(
    *, request: Request, session: AsyncSession, secret: str, scope: api_keys.Scope
) -> Principal:
    """The integration a key names, if it exists, is not revoked or expired (401) and has
    `scope` (403). Checked in the database on every request: no replica trusts a stale copy."""
    check = await api_keys.check_key(session=session, secret=secret)
    if check.key is not None:
        setattr(request.state, KEY_STATE, check.key.id)
    if check.refused is not None or check.key is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            f"API key {check.refused or 'unknown'}",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not api_keys.allows(check.key, scope):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"this API key lacks the scope {scope}")
    return Principal(key=check.key)


def login_or_key(
    scope: api_keys.Scope, *, admin: bool = False
) -> Callable[..., Awaitable[Principal]]:
    """A dependency: an agent's login (an admin's, if `admin`) or a key with `scope`."""

    async def principal(
        request: Request,
        session: SessionDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        token = credentials.credentials if credentials else None
        if token is not None and api_keys.looks_like_key(token):
            who = await key_principal(request=request, session=session, secret=token, scope=scope)
        else:
            login = await current_login(request, session, credentials)
            if admin and not login.agent.is_admin:
                raise HTTPException(status.HTTP_403_FORBIDDEN, "admins only")
            who = Principal(agent=login.agent)
        # The check's reads are done: on SQLite its transaction holds the write lock, which the
        # message writer (POST .../messages) must get.
        await session.commit()
        return who

    return principal


# An agent (or an admin, for the KB), or a key with the scope the routes need.
ReaderDep = Annotated[Principal, Depends(login_or_key(api_keys.Scope.CONVERSATIONS_READ))]
WriterDep = Annotated[Principal, Depends(login_or_key(api_keys.Scope.MESSAGES_WRITE))]
KbManagerDep = Annotated[Principal, Depends(login_or_key(api_keys.Scope.KB_MANAGE, admin=True))]
# The reports (issue 15): admins, or an integration's key that may read conversations.
ReportsReaderDep = Annotated[
    Principal, Depends(login_or_key(api_keys.Scope.CONVERSATIONS_READ, admin=True))
]


class ApiKeyUsage:
    """ASGI middleware: every HTTP call made with an API key goes into the audit log (key id,
    method, route, status; handoff/api_keys.py `record_use`).

    Recorded once the answer is sent and the request's session is closed, in a transaction of
    its own: on SQLite a request's session may hold the one write lock until then. A call whose
    record the process died before writing is the price: the answer is never held up for it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # A plain call, not a coroutine: a call without a key (and every websocket) goes
        # straight on to the app, with no frame of ours held for its whole life (issue 12).
        secret = _bearer_key(scope) if scope["type"] == "http" else None
        if secret is None:
            return self.app(scope, receive, send)
        return self._audited(scope, receive, send, secret)

    async def _audited(self, scope: Scope, receive: Receive, send: Send, secret: str) -> None:
        state: dict[str, Any] = scope.setdefault("state", {})
        answered = [500]  # what an exception that escapes the app becomes

        async def send_noting_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                answered[0] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            await _record(scope, state, secret, answered[0])


def _bearer_key(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            kind, _, token = value.decode("latin-1").partition(" ")
            if kind.lower() == "bearer" and api_keys.looks_like_key(token.strip()):
                return token.strip()
    return None


async def _record(scope: Scope, state: dict[str, Any], secret: str, status_code: int) -> None:
    try:
        async with scope["app"].state.sessions() as session:
            key_id = state.get(KEY_STATE)
            if key_id is None:  # a route that takes no keys: whose key was it?
                key_id = await api_keys.key_id_for(session=session, secret=secret)
            if key_id is None:
                log.info("a call with an unknown API key (%s...): not recorded", secret[:8])
                return
            client = scope.get("client")
            await api_keys.record_use(
                session=session,
                key_id=key_id,
                method=scope["method"],
                route=getattr(scope.get("route"), "path", None) or scope["path"],
                status=status_code,
                ip=client[0] if client else None,
            )
    except Exception:  # noqa: BLE001 - the call itself is answered; say so, do not fail it
        log.exception("could not record an API key call in the audit log")
