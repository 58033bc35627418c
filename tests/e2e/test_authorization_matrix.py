"""The authorisation matrix: who may use which REST route and which websocket frame.

The tables below are the data (docs/security.md prints them, from `matrix_markdown()`).
Every cell is tried against a real server: anonymous, two visitors, an agent, another agent
and an admin each send the request or frame and the test asserts whether it went through.

- REST: allowed means any status below 400, denied means 401 or 403. Each cell gets fresh
  objects (a conversation, a canned reply, ...), so an allowed cell really is a success. A
  page read with the login cookie (/admin): allowed is below 300, denied a 303 to the log in
  or a 403.
- Visitor frames are about visitor A's conversation: every principal says hello naming it
  (with their own credential) and sends the frame; allowed means the frame acted on A's
  conversation (a row of A changed, or A's agent saw it), denied means A's rows are unchanged.
- Agent frames are about a conversation held by "agent".
- REST only: integrations with an API key (issue 18), one key per scope and a revoked one
  with every scope. A key goes where its scope's routes are; everywhere else it is a 401/403.

A new route fails `test_every_route_and_frame_type_has_a_row` until it has a row here: one
line, e.g. `("POST", "/api/agent/logout"): Rest(AGENTS, fresh_token=True),`.
"""

from __future__ import annotations

import typing
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fastapi.routing
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import make_engine, make_sessionmaker
from app.main import create_app
from app.security import PAGE_COOKIE
from app.settings import Settings
from app.ws.frames import AgentFrame, VisitorFrame
from handoff import (
    agents,
    api_keys,
    avatars,
    canned,
    canned_stats,
    knowledge,
    teams,
    visitors,
    webhook_admin,
)
from handoff.messages import append_message
from handoff.miss_actions import dismiss as dismiss_misses  # issue 15
from handoff.miss_models import Miss
from handoff.misses import record as record_miss
from handoff.models import (
    Agent,
    Conversation,
    MessageFeedback,
    MessageRow,
    Rating,
    Sender,
    Ticket,
    Visitor,
    utcnow,
)
from handoff.report_models import NpsAnswer
from handoff.states import ConversationState as S
from handoff.webhook_delivery import fan_out
from handoff.webhook_models import WebhookDelivery
from handoff.webhooks import Targets
from tests.client import ChatClient, agent, visitor
from tests.conftest import (
    AGENT_PASSWORD,
    TEST_SECRET,
    Inbox,
    Server,
    make_settings,
    run_server,
    seed_kb,
)
from tests.e2e.test_privacy import admin_token

# A 1x1 PNG (for avatar uploads)
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415478"
    "9c63382127070002b6010534a675aa0000000049454e44ae426082"
)
ANON, VISITOR_A, VISITOR_B = "anonymous", "visitor A", "visitor B"
AGENT, OTHER_AGENT, ADMIN = "agent", "other agent", "admin"
PRINCIPALS = (ANON, VISITOR_B, AGENT, OTHER_AGENT, ADMIN, VISITOR_A)  # A last: A's cell changes A
# API keys (issue 18), on REST only: the sockets take none.
KEY_READ, KEY_WRITE = "key conversations:read", "key messages:write"
KEY_KB, KEY_REVOKED = "key kb:manage", "revoked key"
KEYS = (KEY_READ, KEY_WRITE, KEY_KB, KEY_REVOKED)
EVERYONE = frozenset(PRINCIPALS + KEYS)
AGENTS = frozenset({AGENT, OTHER_AGENT, ADMIN})
ADMINS = frozenset({ADMIN})
HOLDER = frozenset({AGENT})  # only the agent holding the conversation
OWNER = frozenset({VISITOR_A})  # only the visitor whose conversation it is
NOBODY: frozenset[str] = frozenset()
READERS = AGENTS | {KEY_READ}  # agents, and integrations reading conversations
KB_MANAGERS = ADMINS | {KEY_KB}


@dataclass(frozen=True)
class Req:
    path: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    params: dict[str, Any] | None = None
    content: bytes | None = None  # a raw body (an uploaded picture)


@dataclass(frozen=True)
class Rest:
    """Who may call a route; `make` builds one cell's request from fresh objects."""

    allowed: frozenset[str]
    make: Callable[[World], Awaitable[Req]] | None = None
    fresh_token: bool = False  # the call spends the caller's token (e.g. logout)
    cookie: bool = False  # a page: the token goes as the login cookie; denied = 303 to log in, 403


def _id() -> str:
    return uuid.uuid4().hex[:12]


class World:
    """Objects for the cells, created straight in the server's database."""

    def __init__(self, server: Server, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.server, self.sessions = server, sessions
        self.tokens: dict[str, str | None] = {}
        self.ids: dict[str, int] = {}
        self.inbox: Inbox | None = None

    async def chat(self, state: S = S.BOT, agent: str | None = None) -> int:
        """A new visitor's conversation in `state` with one message (and a ticket if one)."""
        async with self.sessions() as s:
            v = await visitors.create_visitor(session=s, name="Vic")
            now = utcnow()
            conv = Conversation(visitor_id=v.id, state=state, queued_at=now)
            if agent is not None:
                conv.assigned_agent_id, conv.assigned_at = self.ids[agent], now
            if state == S.CLOSED:
                conv.closed_at = now
            s.add(conv)
            await s.flush()
            await append_message(
                session=s, conversation_id=conv.id, sender=Sender.VISITOR, text="hello?"
            )
            if state == S.TICKET:
                s.add(Ticket(conversation_id=conv.id, email="vic@example.com"))
            await s.commit()
            return conv.id

    async def queued(self) -> Req:
        return Req({"conversation_id": await self.chat(S.QUEUED)})

    async def held(self) -> Req:
        return Req({"conversation_id": await self.chat(S.ASSIGNED, AGENT)})

    async def any_chat(self) -> Req:
        return Req({"conversation_id": await self.chat(S.BOT)})

    async def transfer(self) -> Req:
        cid = await self.chat(S.ASSIGNED, AGENT)
        return Req({"conversation_id": cid}, {"to_agent_id": self.ids[OTHER_AGENT]})

    async def closed(self) -> Req:
        return Req({"conversation_id": await self.chat(S.CLOSED)})

    async def ticket_reply(self) -> Req:
        cid = await self.chat(S.TICKET)
        return Req({"conversation_id": cid}, {"client_msg_id": _id(), "text": "On it."})

    async def ticket_status(self) -> Req:
        cid = await self.chat(S.TICKET)
        async with self.sessions() as s:
            ticket_id = await s.scalar(select(Ticket.id).where(Ticket.conversation_id == cid))
        return Req({"ticket_id": ticket_id}, {"status": "pending"})

    async def canned_body(self) -> Req:
        return Req(json={"shortcut": _id(), "title": "Hi", "text": "Hello there"})

    async def canned_reply(self) -> Req:
        async with self.sessions() as s:
            reply = await canned.create(session=s, shortcut=_id(), title="Hi", text="Hello")
        return Req({"reply_id": reply.id}, {"shortcut": _id(), "title": "Hi", "text": "Hey"})

    async def canned_earned(self) -> Req:
        """A canned reply that ended well as often as automation needs (issue 15)."""
        async with self.sessions() as s:
            reply = await canned.create(session=s, shortcut=_id(), title="Hi", text="Hello")
        for _ in range(self.server.settings.canned_automation_min_uses):
            cid = await self.chat(S.CLOSED)
            async with self.sessions() as s:
                msg = await append_message(
                    session=s, conversation_id=cid, sender=Sender.AGENT, text="Hello"
                )
                await s.commit()
                await canned_stats.record_use(
                    session=s, canned_reply_id=reply.id, message=MessageRow.of(msg)
                )
        return Req({"reply_id": reply.id})

    async def kb_body(self) -> Req:
        return Req(json={"id": f"e-{_id()}", "question": "Do you sell hats?", "answer": "Yes."})

    async def kb_entry(self) -> Req:
        entry_id = f"e-{_id()}"
        async with self.sessions() as s:
            await knowledge.create_entry(
                session=s, entry_id=entry_id, question="Hats?", answer="Yes.", variants=[]
            )
        return Req({"entry_id": entry_id}, {"question": "Caps?", "answer": "No.", "text": "Hat?"})

    async def kb_variant(self) -> Req:
        req = await self.kb_entry()
        async with self.sessions() as s:
            variant = await knowledge.add_variant(
                session=s, entry_id=req.path["entry_id"], text="Any hats?"
            )
        return Req({**req.path, "variant_id": variant.id})

    async def kb_import(self) -> Req:
        # A one-entry JSONL file, checked only (a dry run leaves the KB the other cells use).
        return Req(json={"id": "hats", "question": "Hats?", "answer": "Yes."},
                   params={"format": "jsonl", "dry_run": "true"})

    async def kb_try(self) -> Req:
        return Req(json={"question": "How much does shipping cost?"})

    async def kb_translation(self) -> Req:  # issue 17: an entry with a Czech translation
        req = await self.kb_entry()
        async with self.sessions() as s:
            await knowledge.set_translation(
                session=s, entry_id=req.path["entry_id"], lang="cs", question="Čepice?",
                answer="Ano.", variants=[],
            )
        return Req({**req.path, "lang": "cs"}, {"question": "Klobouky?", "answer": "Ne."})

    async def visitor(self) -> Req:
        async with self.sessions() as s:
            return Req({"visitor_id": (await visitors.create_visitor(session=s)).id})

    async def miss(self) -> Req:  # issue 15: an open miss in the inbox, and an entry to add it to
        req = await self.kb_entry()
        conv = await self.chat()
        async with self.sessions() as s:
            await record_miss(
                session=s, conversation_id=conv, seq=1, text="hats?", reason="low_confidence"
            )
            await s.commit()
            miss_id = await s.scalar(select(Miss.id).where(Miss.conversation_id == conv))
        body = {"miss_ids": [miss_id], "entry_id": req.path["entry_id"]}
        return Req(json=body)

    async def miss_new_entry(self) -> Req:
        req = await self.miss()
        body = {**req.json, "entry_id": f"e-{_id()}", "question": "Hats?", "answer": "Yes."}
        return Req(json=body)

    async def miss_action(self) -> Req:
        req = await self.miss()
        async with self.sessions() as s:
            action = await dismiss_misses(session=s, miss_ids=req.json["miss_ids"])
        return Req({"action_id": action.id})

    async def login(self) -> Req:
        return Req(json={"email": "agent@example.com", "password": AGENT_PASSWORD})

    async def console_js(self) -> Req:
        return Req({"name": "console.js"})

    async def email_query(self) -> Req:
        return Req(params={"email": "vic@example.com"})

    # The hours and widget section of /admin (app/routes/settings_admin.py).
    async def hours_body(self) -> Req:
        day = {"mon": [{"open": "09:00", "close": "17:00"}]}
        return Req(json={"days": day, "timezone": "Europe/Berlin", "holidays": ["2030-12-25"]})

    async def widget_body(self) -> Req:
        return Req(json={"title": "Help", "greeting": "Hi!", "color": "#2456d3"})

    # issue 14, agents and roles
    async def member_body(self) -> Req:
        return Req(json={"email": f"{_id()}@example.com", "name": "Newbie", "password": _id()})

    async def member(self) -> Req:
        async with self.sessions() as s:
            new = await agents.create_agent(
                session=s, email=f"{_id()}@example.com", name="Newbie", password=AGENT_PASSWORD
            )
        return Req({"agent_id": new.id}, {"capacity": 4, "password": "a fresh password"})

    async def profile(self) -> Req:
        return Req(json={})  # no change: every principal keeps their name

    async def own_password(self) -> Req:
        return Req(json={"current_password": AGENT_PASSWORD, "new_password": AGENT_PASSWORD})

    async def picture(self) -> Req:
        return Req(content=TINY_PNG)

    # issue 18, API keys
    async def key_body(self) -> Req:
        return Req(json={"name": "Shop", "scopes": ["conversations:read"]})

    async def api_key(self) -> Req:
        async with self.sessions() as s:
            made = await api_keys.create_key(
                session=s, name="Shop", scopes=["kb:manage"], expires_at=None, actor_id=None,
                ip=None,
            )
        return Req({"key_id": made.key.id})

    async def post_message(self) -> Req:
        cid = await self.chat(S.ASSIGNED, AGENT)
        return Req({"conversation_id": cid}, {"client_msg_id": _id(), "text": "Hello"})

    async def report(self) -> Req:  # issue 15
        return Req({"name": "csat.csv"}, params={"from": "2026-01-01", "to": "2026-01-31"})

    async def avatar(self) -> Req:
        async with self.sessions() as s:
            other = await s.get(Agent, self.ids[OTHER_AGENT])
            assert other is not None
            await avatars.set_avatar(session=s, agent=other, data=TINY_PNG, ip=None)
        return Req({"agent_id": self.ids[OTHER_AGENT]})

    # issue 18, outgoing webhooks (app/routes/webhooks_admin.py); receivers nobody listens on
    async def webhook_body(self) -> Req:
        return Req(json={"url": "http://127.0.0.1:9/hooks", "event_types": ["ticket.created"]})

    async def webhook(self) -> Req:
        bus = self.server.app.state.bus  # type: ignore[attr-defined]
        async with self.sessions() as s:
            made, _ = await webhook_admin.create_endpoint(
                session=s, bus=bus, targets=Targets(),
                url="http://127.0.0.1:9/hooks", event_types=["ticket.created"], description=None,
                enabled=True, agent_id=None,
            )
        return Req({"endpoint_id": made.id}, {"enabled": True})

    async def webhook_delivery(self) -> Req:
        req = await self.webhook()
        async with self.sessions() as s:
            endpoint_id = req.path["endpoint_id"]
            await webhook_admin.send_test(session=s, endpoint_id=endpoint_id, agent_id=None)
            await fan_out(session=s)
            delivery_id = await s.scalar(
                select(WebhookDelivery.id).where(WebhookDelivery.endpoint_id == endpoint_id)
            )
        return Req({**req.path, "delivery_id": delivery_id})

    # issue 16, teams (app/routes/teams_admin.py, app/routes/kb_teams.py)
    async def team_body(self) -> Req:
        return Req(json={"name": f"Team {_id()}"})

    async def team(self) -> Req:
        async with self.sessions() as s:
            admin = await s.get(Agent, self.ids[ADMIN])
            assert admin is not None
            made = await teams.create_team(session=s, name=f"Team {_id()}", actor=admin, ip=None)
        return Req({"team_id": made.team.id, "agent_id": self.ids[OTHER_AGENT]},
                   {"name": f"Team {_id()}"})

    async def kb_team(self) -> Req:
        req = await self.kb_entry()
        return Req(req.path, {"team": "Orders"})


W = World
CONV = "/api/agent/conversations/{conversation_id}"
KB_ENTRY = "/api/admin/kb/{entry_id}"
HOOKS = "/api/admin/webhooks"
HOOK = HOOKS + "/{endpoint_id}"
REST: dict[tuple[str, str], Rest] = {
    ("GET", "/openapi.json"): Rest(EVERYONE),
    ("GET", "/docs"): Rest(EVERYONE),
    ("GET", "/docs/oauth2-redirect"): Rest(EVERYONE),
    ("GET", "/redoc"): Rest(EVERYONE),
    ("GET", "/api/health"): Rest(EVERYONE),
    ("GET", "/healthz"): Rest(EVERYONE),
    ("GET", "/readyz"): Rest(EVERYONE),
    ("POST", "/api/agent/login"): Rest(EVERYONE, W.login),
    ("POST", "/api/agent/logout"): Rest(AGENTS, fresh_token=True),
    ("GET", "/api/agent/me"): Rest(AGENTS),
    ("POST", "/api/agent/page-login"): Rest(AGENTS),
    ("GET", "/api/agent/conversations"): Rest(READERS),
    ("GET", CONV): Rest(READERS, W.any_chat),
    ("GET", CONV + "/context"): Rest(READERS, W.any_chat),
    ("POST", CONV + "/take"): Rest(AGENTS, W.queued),
    ("POST", CONV + "/transfer"): Rest(HOLDER, W.transfer),
    ("POST", CONV + "/reopen"): Rest(AGENTS, W.closed),
    ("POST", CONV + "/close"): Rest(HOLDER, W.held),
    ("POST", CONV + "/ticket-reply"): Rest(AGENTS, W.ticket_reply),
    ("GET", "/api/agent/tickets"): Rest(READERS),
    ("GET", "/api/agent/tickets/list"): Rest(READERS),
    ("PATCH", "/api/agent/tickets/{ticket_id}"): Rest(AGENTS, W.ticket_status),
    ("GET", "/api/agent/canned"): Rest(AGENTS),
    ("POST", "/api/agent/canned"): Rest(ADMINS, W.canned_body),
    ("PUT", "/api/agent/canned/{reply_id}"): Rest(ADMINS, W.canned_reply),
    ("DELETE", "/api/agent/canned/{reply_id}"): Rest(ADMINS, W.canned_reply),
    ("GET", "/api/agent/agents"): Rest(AGENTS),
    ("GET", "/api/agent/hours"): Rest(AGENTS),
    ("GET", "/api/admin/kb"): Rest(KB_MANAGERS),
    ("GET", "/api/admin/kb/status"): Rest(KB_MANAGERS),
    ("POST", "/api/admin/kb"): Rest(KB_MANAGERS, W.kb_body),
    ("GET", KB_ENTRY): Rest(KB_MANAGERS, W.kb_entry),
    ("PUT", KB_ENTRY): Rest(KB_MANAGERS, W.kb_entry),
    ("DELETE", KB_ENTRY): Rest(KB_MANAGERS, W.kb_entry),
    ("POST", KB_ENTRY + "/variants"): Rest(KB_MANAGERS, W.kb_entry),
    ("DELETE", KB_ENTRY + "/variants/{variant_id}"): Rest(KB_MANAGERS, W.kb_variant),
    ("GET", "/api/admin/kb/export"): Rest(KB_MANAGERS),
    ("POST", "/api/admin/kb/import"): Rest(KB_MANAGERS, W.kb_import),
    ("POST", "/api/admin/kb/try"): Rest(KB_MANAGERS, W.kb_try),
    ("GET", "/api/admin/audit"): Rest(ADMINS),
    ("GET", "/api/admin/visitors"): Rest(ADMINS, W.email_query),
    ("GET", "/api/admin/visitors/{visitor_id}/export"): Rest(ADMINS, W.visitor),
    ("DELETE", "/api/admin/visitors/{visitor_id}"): Rest(ADMINS, W.visitor),
    ("GET", "/widget.js"): Rest(EVERYONE),
    ("GET", "/static/{name}"): Rest(EVERYONE, W.console_js),
    ("GET", "/"): Rest(EVERYONE),
    ("GET", "/demo"): Rest(EVERYONE),
    ("GET", "/agent"): Rest(EVERYONE),
    ("GET", "/console"): Rest(EVERYONE),
    ("GET", "/admin"): Rest(ADMINS, cookie=True),
    ("GET", "/metrics"): Rest(EVERYONE),  # this machine (the test's loopback), or a token
    ("GET", "/api/admin/settings/hours"): Rest(ADMINS),
    ("PUT", "/api/admin/settings/hours"): Rest(ADMINS, W.hours_body),
    ("DELETE", "/api/admin/settings/hours"): Rest(ADMINS),
    ("GET", "/api/admin/settings/timezones"): Rest(ADMINS),
    ("GET", "/api/admin/settings/widget"): Rest(ADMINS),
    ("PUT", "/api/admin/settings/widget"): Rest(ADMINS, W.widget_body),
    ("DELETE", "/api/admin/settings/widget"): Rest(ADMINS),
    ("GET", "/api/widget/config"): Rest(EVERYONE),
    ("GET", "/admin/widget-preview"): Rest(ADMINS, cookie=True),
    ("GET", "/admin/widget-preview.js"): Rest(EVERYONE),

    # issue 14, agents and roles
    ("GET", "/api/admin/agents"): Rest(ADMINS),
    ("POST", "/api/admin/agents"): Rest(ADMINS, W.member_body),
    ("PATCH", "/api/admin/agents/{agent_id}"): Rest(ADMINS, W.member),
    ("POST", "/api/admin/agents/{agent_id}/disable"): Rest(ADMINS, W.member),
    ("POST", "/api/admin/agents/{agent_id}/enable"): Rest(ADMINS, W.member),
    ("POST", "/api/admin/agents/{agent_id}/password"): Rest(ADMINS, W.member),
    ("PATCH", "/api/agent/me"): Rest(AGENTS, W.profile),
    ("POST", "/api/agent/me/password"): Rest(AGENTS, W.own_password),
    ("PUT", "/api/agent/me/avatar"): Rest(AGENTS, W.picture),
    ("DELETE", "/api/agent/me/avatar"): Rest(AGENTS),
    ("GET", "/api/agents/{agent_id}/avatar"): Rest(EVERYONE, W.avatar),

    # issue 18, API keys
    ("GET", "/api/admin/api-keys"): Rest(ADMINS),
    ("POST", "/api/admin/api-keys"): Rest(ADMINS, W.key_body),
    ("POST", "/api/admin/api-keys/{key_id}/revoke"): Rest(ADMINS, W.api_key),
    ("POST", "/api/conversations/{conversation_id}/messages"): Rest(
        HOLDER | {KEY_WRITE}, W.post_message
    ),
    ("GET", HOOKS): Rest(ADMINS),
    ("POST", HOOKS): Rest(ADMINS, W.webhook_body),
    ("PATCH", HOOK): Rest(ADMINS, W.webhook),
    ("DELETE", HOOK): Rest(ADMINS, W.webhook),
    ("POST", HOOK + "/secret"): Rest(ADMINS, W.webhook),
    ("POST", HOOK + "/test"): Rest(ADMINS, W.webhook),
    ("GET", HOOK + "/deliveries"): Rest(ADMINS, W.webhook),
    ("POST", HOOK + "/deliveries/{delivery_id}/retry"): Rest(ADMINS, W.webhook_delivery),
    # issue 17, multilingual knowledge base
    ("PUT", KB_ENTRY + "/translations/{lang}"): Rest(KB_MANAGERS, W.kb_translation),
    ("DELETE", KB_ENTRY + "/translations/{lang}"): Rest(KB_MANAGERS, W.kb_translation),
    # issue 15, canned replies that earn automation
    ("GET", "/api/admin/canned"): Rest(ADMINS),
    ("POST", "/api/admin/canned/{reply_id}/automate"): Rest(ADMINS, W.canned_earned),
    # issue 16, teams
    ("GET", "/api/admin/teams"): Rest(ADMINS),
    ("POST", "/api/admin/teams"): Rest(ADMINS, W.team_body),
    ("PATCH", "/api/admin/teams/{team_id}"): Rest(ADMINS, W.team),
    ("DELETE", "/api/admin/teams/{team_id}"): Rest(ADMINS, W.team),
    ("PUT", "/api/admin/teams/{team_id}/members/{agent_id}"): Rest(ADMINS, W.team),
    ("DELETE", "/api/admin/teams/{team_id}/members/{agent_id}"): Rest(ADMINS, W.team),
    ("GET", "/api/agent/teams"): Rest(AGENTS),
    ("GET", "/api/admin/kb-teams"): Rest(KB_MANAGERS),
    ("PUT", KB_ENTRY + "/team"): Rest(KB_MANAGERS, W.kb_team),
    # issue 15, reports
    ("GET", "/api/admin/reports"): Rest(ADMINS | {KEY_READ}),
    ("GET", "/api/admin/reports/{name}"): Rest(ADMINS | {KEY_READ}, W.report),
    # issue 15, the misses inbox
    ("GET", "/api/admin/misses"): Rest(KB_MANAGERS),
    ("POST", "/api/admin/misses/variants"): Rest(KB_MANAGERS, W.miss),
    ("POST", "/api/admin/misses/entries"): Rest(KB_MANAGERS, W.miss_new_entry),
    ("POST", "/api/admin/misses/out-of-scope"): Rest(KB_MANAGERS, W.miss),
    ("POST", "/api/admin/misses/dismiss"): Rest(KB_MANAGERS, W.miss),
    ("GET", "/api/admin/misses/actions"): Rest(KB_MANAGERS),
    ("POST", "/api/admin/misses/actions/{action_id}/undo"): Rest(KB_MANAGERS, W.miss_action),
}

# Websocket frames, by socket and frame type: who may make the frame act on its target
# (visitor A's conversation on /ws/visitor; a conversation "agent" holds on /ws/agent).
VISITOR_SOCKET: dict[str, frozenset[str]] = {
    "hello": OWNER,  # resuming A's conversation; anyone else gets `forbidden` and their own
    "ping": EVERYONE,
    "message": OWNER,
    "choice": OWNER,
    "handoff": OWNER,
    "email": OWNER,
    "typing": OWNER,
    "feedback": OWNER,
    "rating": OWNER,
    "nps": OWNER,  # issue 15: the second post-chat question (switched on for this test)
    "request_ticket": OWNER,
    "transcript": OWNER,
    # Agent frames on the visitor socket: `unknown_type` for everyone.
    "note": NOBODY,
    "watch": NOBODY,
    "unwatch": NOBODY,
    "status": NOBODY,
}
AGENT_SOCKET: dict[str, frozenset[str]] = {
    "hello": AGENTS,  # anyone else: `invalid_token` and the socket closed (1008)
    "ping": AGENTS,
    "watch": AGENTS,
    "unwatch": AGENTS,
    "message": HOLDER,  # a reply: only in a conversation you took (`forbidden` otherwise)
    "note": AGENTS,  # private notes in any conversation
    "typing": HOLDER,  # typing shows the visitor someone is coming: only where one may reply
    "status": AGENTS,  # one's own status
    # Visitor frames on the agent socket: `unknown_type` for everyone.
    "choice": NOBODY,
    "handoff": NOBODY,
    "email": NOBODY,
    "feedback": NOBODY,
    "rating": NOBODY,
    "nps": NOBODY,
    "request_ticket": NOBODY,
    "transcript": NOBODY,
}
SOCKETS = {"/ws/visitor": VISITOR_SOCKET, "/ws/agent": AGENT_SOCKET}


def app_routes(app: Any) -> set[tuple[str, str]]:
    """(method, path) of every route the app serves; websockets as ("WS", path)."""
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    routes = [c for c in contexts(app.routes)] if contexts else list(app.routes)
    out = set()
    for route in routes:
        methods = getattr(route, "methods", None)
        if methods:
            out |= {(m, route.path) for m in methods if m != "HEAD"}
        else:
            out.add(("WS", route.path))
    return out


def frame_types(frames: Any) -> set[str]:
    union = typing.get_args(frames)[0]  # Annotated[A | B | ..., Field(discriminator="type")]
    return {typing.get_args(m.model_fields["type"].annotation)[0] for m in typing.get_args(union)}


def matrix_markdown() -> str:
    """The tables as docs/security.md prints them."""

    def table(
        title: str, rows: list[tuple[str, frozenset[str]]], keys: tuple[str, ...] = ()
    ) -> list[str]:
        order = (ANON, VISITOR_A, VISITOR_B, AGENT, OTHER_AGENT, ADMIN, *keys)
        lines = [f"| {title} | " + " | ".join(order) + " |", "|---" * (len(order) + 1) + "|"]
        for name, allowed in rows:
            cells = ["allow" if p in allowed else "deny" for p in order]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        return lines

    rest = [(f"`{m} {p}`", r.allowed) for (m, p), r in REST.items()]
    out = table("REST route", rest, KEYS) + [""]
    for path, frames in SOCKETS.items():
        out += table(f"`{path}` frame", [(f"`{t}`", a) for t, a in frames.items()]) + [""]
    return "\n".join(out).rstrip() + "\n"


def test_every_route_and_frame_type_has_a_row() -> None:
    app = create_app(Settings(secret_key=TEST_SECRET))
    assert app_routes(app) == set(REST) | {("WS", p) for p in SOCKETS}
    visitor, agent = frame_types(VisitorFrame), frame_types(AgentFrame)
    assert set(VISITOR_SOCKET) == visitor | agent
    assert set(AGENT_SOCKET) == visitor | agent
    assert {t for t, a in VISITOR_SOCKET.items() if a} == visitor
    assert {t for t, a in AGENT_SOCKET.items() if a} == agent


def test_docs_print_this_matrix() -> None:
    doc = Path(__file__).resolve().parents[2] / "docs" / "security.md"
    if not doc.exists():
        pytest.skip("docs/security.md is not written yet")
    assert matrix_markdown() in doc.read_text()


@pytest.fixture
async def matrix_server(database_url: str, smtp: tuple[Inbox, int]) -> Any:
    """The test server, mailing through a local SMTP server (for `transcript`)."""
    await seed_kb(database_url)
    settings = make_settings(
        database_url, smtp_host="127.0.0.1", smtp_port=smtp[1], nps_question=True
    )
    async with run_server(settings) as srv:
        yield srv


@pytest.fixture
async def world(matrix_server: Server, smtp: tuple[Inbox, int]) -> Any:
    server = matrix_server
    engine = make_engine(server.settings.database_url)
    w = World(server, make_sessionmaker(engine))
    w.inbox = smtp[0]
    try:
        w.tokens[AGENT] = await server.create_agent("agent@example.com", "Agnes")
        w.tokens[OTHER_AGENT] = await server.create_agent("other@example.com", "Otto")
        w.tokens[ADMIN] = await admin_token(server)
        async with w.sessions() as s:
            for who, email in (
                (AGENT, "agent@example.com"),
                (OTHER_AGENT, "other@example.com"),
                (ADMIN, "admin@example.com"),
            ):
                w.ids[who] = int(await s.scalar(select(Agent.id).where(Agent.email == email)))
        w.tokens[ANON] = None
        async with w.sessions() as s:
            for who, scopes in (
                (KEY_READ, ["conversations:read"]),
                (KEY_WRITE, ["messages:write"]),
                (KEY_KB, ["kb:manage"]),
                (KEY_REVOKED, [str(scope) for scope in api_keys.Scope]),
            ):
                made = await api_keys.create_key(
                    session=s, name=who, scopes=scopes, expires_at=None, actor_id=None, ip=None
                )
                w.tokens[who] = made.secret
            await api_keys.revoke_key(session=s, key_id=made.key.id, actor_id=None, ip=None)
        for who in (VISITOR_A, VISITOR_B):
            client = await ChatClient.connect(server.ws_url + "/ws/visitor")
            await client.send({"type": "hello"})
            w.tokens[who] = (await client.expect_type("welcome"))["token"]
            await client.close()
        yield w
    finally:
        await engine.dispose()


async def test_rest_routes(world: World) -> None:
    wrong = []
    async with world.server.http() as http:
        for (method, path), rule in REST.items():
            for who in PRINCIPALS + KEYS:
                req = await rule.make(world) if rule.make else Req()
                token = world.tokens[who]
                if rule.fresh_token and who in AGENTS:
                    token = await fresh_login(world, who)
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                if rule.cookie:
                    headers = {"Cookie": f"{PAGE_COOKIE}={token}"} if token else {}
                http.cookies.clear()  # only what this principal sends (no cookie from a login)
                r = await http.request(
                    method,
                    path.format(**req.path),
                    json=req.json,
                    params=req.params,
                    content=req.content,
                    headers=headers,
                )
                assert r.status_code < 500, (method, path, who, r.text)
                allowed = who in rule.allowed
                denied = (303, 401, 403) if rule.cookie else (401, 403)
                if allowed != (r.status_code < 300 if rule.cookie else r.status_code < 400) or (
                    not allowed and r.status_code not in denied
                ):
                    wrong.append(f"{method} {path} as {who}: {r.status_code} {r.text[:80]}")
    assert wrong == []


async def fresh_login(world: World, who: str) -> str:
    email = {AGENT: "agent", OTHER_AGENT: "other", ADMIN: "admin"}[who] + "@example.com"
    async with world.server.http() as http:
        r = await http.post("/api/agent/login", json={"email": email, "password": AGENT_PASSWORD})
        return str(r.json()["token"])


# --- websocket frames ----------------------------------------------------------------------
QUESTION = "How much does shipping cost?"
A_EMAIL = "alice@example.com"


def frame(kind: str, cid: int, bot_seq: int = 1) -> dict[str, Any]:
    """A well-formed frame of `kind` about conversation `cid` (where a frame names one)."""
    cmid = {"client_msg_id": _id()}
    return {
        "ping": {},
        "message": {**cmid, "text": "Is it free?", "conversation_id": cid},
        "note": {**cmid, "text": "a note", "conversation_id": cid},
        "choice": {**cmid, "entry_id": "shipping-time"},
        "handoff": cmid,
        "request_ticket": cmid,
        "email": {"email": "mallory@example.com"},
        "typing": {"draft": "psst", "conversation_id": cid},
        "feedback": {"seq": bot_seq, "helpful": False},
        "rating": {"stars": 1, "comment": "bad"},
        "nps": {"score": 3},
        "transcript": {"email": A_EMAIL},
        "watch": {"conversation_id": cid, "last_seq": 0},
        "unwatch": {"conversation_id": cid},
        "status": {"status": "online"},
    }[kind] | {"type": kind}


async def settled(client: ChatClient) -> list[dict[str, Any]]:
    """Every frame up to the answer to a marker frame: the frame sent before it was handled.

    The marker is a blank message, refused with an error naming its client_msg_id, so it
    stores nothing and cannot be confused with the answer to any other frame.
    """
    start, marker = len(client.frames), f"marker-{_id()}"
    await client.send({"type": "message", "client_msg_id": marker, "text": " "})
    await client.expect(lambda f: f.get("type") == "error" and f.get("ref") == marker)
    seen = [f for f in client.frames[start:] if f.get("ref") != marker]
    assert not [f for f in seen if f.get("code") == "internal_error"], seen
    return seen


def refused(seen: list[dict[str, Any]]) -> bool:
    return any(f.get("type") == "error" for f in seen)


@dataclass
class VisitorA:
    token: str
    visitor_id: int
    conversation_id: int
    bot_seq: int


async def visitor_a(world: World, kind: str) -> VisitorA:
    """A fresh visitor A: asked the bot once, left an e-mail; closed or queued if `kind` needs."""
    client, welcome = await visitor(world.server)
    await client.say(QUESTION)
    bot = await client.expect(lambda f: f.get("type") == "message" and f["sender"] == "bot")
    await client.send({"type": "email", "email": A_EMAIL})
    await client.expect(lambda f: f.get("type") == "message" and f["meta"].get("kind") == "email")
    await client.close()
    cid = welcome["conversation_id"]
    changes = {"rating": {"state": S.CLOSED, "closed_at": utcnow()}}
    changes["nps"] = changes["rating"]
    changes["request_ticket"] = {"state": S.QUEUED, "queued_at": utcnow()}
    async with world.sessions() as s:
        if kind == "transcript":  # transcripts go only to a confirmed address: a ticket's
            s.add(Ticket(conversation_id=cid, email=A_EMAIL))
            await s.commit()
        if kind in changes:
            await s.execute(
                update(Conversation).where(Conversation.id == cid).values(changes[kind])
            )
            await s.commit()
    return VisitorA(welcome["token"], welcome["visitor_id"], cid, bot["seq"])


async def rows_of_a(world: World, a: VisitorA) -> tuple[Any, ...]:
    """Everything stored about visitor A that a frame could change."""
    async with world.sessions() as s:
        convs = select(Conversation.id).where(Conversation.visitor_id == a.visitor_id)
        return (
            await s.scalar(select(Visitor.email).where(Visitor.id == a.visitor_id)),
            (
                await s.execute(
                    select(Conversation.id, Conversation.state, Conversation.last_seq)
                    .where(Conversation.visitor_id == a.visitor_id)
                    .order_by(Conversation.id)
                )
            ).all(),
            await s.scalar(select(func.count()).where(MessageFeedback.conversation_id.in_(convs))),
            await s.scalar(select(func.count()).where(Rating.conversation_id.in_(convs))),
            await s.scalar(select(func.count()).where(NpsAnswer.conversation_id.in_(convs))),
            (await s.execute(select(Ticket.status).where(Ticket.conversation_id.in_(convs)))).all(),
        )


async def visitor_cell(world: World, kind: str, who: str, a: VisitorA) -> bool:
    """Did `who`'s frame of `kind` act on visitor A's conversation?"""
    token = a.token if who == VISITOR_A else world.tokens[who]
    hello = {"conversation_id": a.conversation_id} | ({"token": token} if token else {})
    client, welcome = await visitor(world.server, **hello)
    try:
        if kind == "hello":
            return bool(welcome["conversation_id"] == a.conversation_id)
        console = None
        if kind == "typing":  # A's agent watches A's chat: does the typing reach them?
            console = await agent(world.server, str(world.tokens[AGENT]))
            await console.send({"type": "watch", "conversation_id": a.conversation_id})
            await settled(console)
        before = await rows_of_a(world, a)
        await client.send(frame(kind, a.conversation_id, a.bot_seq))
        seen = await settled(client)
        if kind == "ping":
            return not refused(seen)
        if console is not None:
            marker = frame("note", a.conversation_id)
            await console.send(marker)
            await console.expect_type("message", client_msg_id=marker["client_msg_id"])
            await console.close()
            return any(
                f.get("type") == "typing" and f["conversation_id"] == a.conversation_id
                for f in console.frames
            )
        if kind == "transcript":
            if refused(seen):
                return False
            assert world.inbox is not None
            return QUESTION in str((await world.inbox.next()).get_body(("plain",)))
        if kind not in VISITOR_TYPES:  # an agent's frame: refused, or it would have acted
            return not refused(seen)
        return before != await rows_of_a(world, a)
    finally:
        await client.close()


VISITOR_TYPES = frame_types(VisitorFrame)


async def test_visitor_socket_frames(world: World) -> None:
    wrong = []
    for kind, allowed in VISITOR_SOCKET.items():
        a = await visitor_a(world, kind)
        for who in PRINCIPALS:
            if await visitor_cell(world, kind, who, a) != (who in allowed):
                wrong.append(f"/ws/visitor {kind} as {who}: expected {who in allowed}")
    assert wrong == []


async def agent_cell(world: World, kind: str, who: str, cid: int) -> bool:
    """Did `who`'s frame of `kind` act on the conversation `agent` holds?"""
    client = await ChatClient.connect(world.server.ws_url + "/ws/agent")
    try:
        token = world.tokens[who]
        await client.send({"type": "hello"} | ({"token": token} if token else {}))
        first = await client.expect(lambda f: f.get("type") in ("welcome", "error"))
        if first["type"] == "error":
            assert first["code"] == "invalid_token"
            return False
        if kind == "hello":
            return True
        sent = frame(kind, cid)
        await client.send(sent)
        if kind in ("message", "note"):  # acknowledged after the commit, maybe after a pong
            ref = sent["client_msg_id"]
            answer = await client.expect(
                lambda f: client.is_ack(f, ref)
                or (f.get("type") == "error" and f.get("ref") == ref)
            )
            assert answer.get("code") != "internal_error", answer
            return client.is_ack(answer)
        seen = await settled(client)
        if kind == "status":
            return any(f.get("type") == "status" for f in seen)
        return not refused(seen)
    finally:
        await client.close()


async def test_agent_socket_frames(world: World) -> None:
    wrong = []
    for kind, allowed in AGENT_SOCKET.items():
        cid = (await world.held()).path["conversation_id"]
        for who in PRINCIPALS:
            if await agent_cell(world, kind, who, cid) != (who in allowed):
                wrong.append(f"/ws/agent {kind} as {who}: expected {who in allowed}")
    assert wrong == []
