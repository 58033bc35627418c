"""Tokens and logins as an attacker meets them, over the real server (issue 13, findings 1, 2, 12).

- No secret configured: the server signs with a random key it keeps in the database, so a
  token forged with the once-published dev secret is refused, and a second replica (or a
  restart) accepts the first one's tokens.
- Tokens expire (agent: a shift; visitor: 90 days, renewed by every visit); logging out ends
  an agent token on REST and on /ws/agent.
- Failed logins are throttled per account and per IP (429 + Retry-After), bounded before any
  hashing, audited; a flood of bad logins does not stop a visitor's bot answers.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from app.db import make_engine, make_sessionmaker
from app.security import AGENT_SALT, VISITOR_SALT
from handoff import agents, audit
from tests.client import ChatClient, visitor
from tests.conftest import AGENT_PASSWORD, TEST_SECRET, Server, make_settings, run_server, seed_kb

OLD_DEV_SECRET = "dev-insecure-secret-change-me"  # what every install used to sign with


async def make_agent(server: Server, email: str, *, admin: bool = False) -> int:
    engine = make_engine(server.settings.database_url)
    try:
        async with make_sessionmaker(engine)() as s:
            agent = await agents.create_agent(
                session=s,
                email=email,
                name=email.split("@")[0],
                password=AGENT_PASSWORD,
                is_admin=admin,
            )
            return agent.id
    finally:
        await engine.dispose()


async def login(
    http: httpx.AsyncClient, email: str, password: str = AGENT_PASSWORD, ip: str | None = None
) -> httpx.Response:
    # The test server is uvicorn on loopback, which trusts X-Forwarded-For from 127.0.0.1 (as
    # it would from a reverse proxy listed in FORWARDED_ALLOW_IPS): each test picks its IPs.
    headers = {"X-Forwarded-For": ip} if ip else {}
    return await http.post(
        "/api/agent/login", json={"email": email, "password": password}, headers=headers
    )


async def token_for(server: Server, email: str) -> str:
    async with server.http() as http:
        r = await login(http, email)
        assert r.status_code == 200, r.text
        return str(r.json()["token"])


async def events(server: Server, action: str = "") -> list[dict[str, Any]]:
    engine = make_engine(server.settings.database_url)
    try:
        async with make_sessionmaker(engine)() as s:
            rows = await audit.recent(session=s, limit=500, action=action)
            return [
                {"action": e.action, "agent_id": e.agent_id, "ip": e.ip, **(e.detail or {})}
                for e in rows
            ]
    finally:
        await engine.dispose()


def signed_long_ago(secret: str, salt: str, value: Any, age_s: int) -> str:
    """A correctly signed token whose signature is `age_s` seconds old."""

    class Past(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - age_s

    return str(URLSafeTimedSerializer(secret, salt=salt, signer=Past).dumps(value))


async def agent_socket_refused(server: Server, token: str) -> bool:
    client = await ChatClient.connect(server.ws_url + "/ws/agent")
    await client.send({"type": "hello", "token": token})
    frame = await client.expect(lambda f: f.get("type") in ("welcome", "error"))
    await client.close()
    return frame["type"] == "error" and frame["code"] == "invalid_token"


@pytest.fixture
async def keyless(database_url: str) -> AsyncIterator[Server]:
    """A server started with no CHATDESK_SECRET_KEY, as `make run` starts one."""
    await seed_kb(database_url)
    async with run_server(make_settings(database_url, secret_key=None)) as srv:
        yield srv


async def test_without_a_secret_nothing_signed_with_the_old_dev_default_is_accepted(
    keyless: Server,
) -> None:
    admin_id = await make_agent(keyless, "root@example.com", admin=True)
    for forged in (
        URLSafeTimedSerializer(OLD_DEV_SECRET, salt=AGENT_SALT).dumps(admin_id),
        URLSafeTimedSerializer(OLD_DEV_SECRET, salt=AGENT_SALT).dumps({"a": admin_id, "j": "x"}),
    ):
        async with keyless.http(str(forged)) as http:
            assert (await http.get("/api/admin/audit")).status_code == 401
        assert await agent_socket_refused(keyless, str(forged))

    client, first = await visitor(keyless)
    await client.close()
    other = URLSafeTimedSerializer(OLD_DEV_SECRET, salt=VISITOR_SALT).dumps(first["visitor_id"])
    client, welcome = await visitor(keyless, token=other)
    assert welcome["visitor_id"] != first["visitor_id"], "a forged visitor token resumed a chat"
    await client.close()


async def test_the_generated_key_is_shared_by_every_replica_and_kept_across_restarts(
    database_url: str,
) -> None:
    await seed_kb(database_url)
    settings = make_settings(database_url, secret_key=None)
    async with run_server(settings) as one:
        await make_agent(one, "bo@example.com")
        agent_token = await token_for(one, "bo@example.com")
        client, welcome = await visitor(one)
        await client.close()
        async with run_server(settings) as two:  # a second replica on the same database
            async with two.http(agent_token) as http:
                assert (await http.get("/api/agent/me")).status_code == 200
            client, again = await visitor(two, token=welcome["token"])
            assert again["visitor_id"] == welcome["visitor_id"]
            await client.close()
    async with run_server(settings) as restarted:
        async with restarted.http(agent_token) as http:
            assert (await http.get("/api/agent/me")).status_code == 200


async def test_logging_out_ends_that_token_on_rest_and_on_the_agent_socket(
    server: Server,
) -> None:
    await make_agent(server, "cy@example.com")
    token = await token_for(server, "cy@example.com")
    other_login = await token_for(server, "cy@example.com")
    async with server.http(token) as http:
        assert (await http.get("/api/agent/me")).status_code == 200
        assert (await http.post("/api/agent/logout")).status_code == 204
        assert (await http.get("/api/agent/me")).status_code == 401
        assert (await http.get("/api/agent/canned")).status_code == 401
        assert (await http.post("/api/agent/logout")).status_code == 401
    assert await agent_socket_refused(server, token)
    # Only that login ended: the agent's other browser stays logged in.
    async with server.http(other_login) as http:
        assert (await http.get("/api/agent/me")).status_code == 200
    assert not await agent_socket_refused(server, other_login)
    assert [e["action"] for e in await events(server, "logout")] == ["logout"]


async def test_logging_out_closes_a_console_still_open_with_that_token(server: Server) -> None:
    """A copied token's socket (another machine) is logged out with the token, at once."""
    await make_agent(server, "di@example.com")
    token = await token_for(server, "di@example.com")
    console = await ChatClient.connect(server.ws_url + "/ws/agent")
    await console.send({"type": "hello", "token": token})
    await console.expect_type("welcome")
    async with server.http(token) as http:
        assert (await http.post("/api/agent/logout")).status_code == 204
    await asyncio.wait_for(console.ws.wait_closed(), 10)
    assert console.ws.close_code == 1008


async def test_expired_tokens_are_refused_and_a_returning_visitor_gets_a_fresh_one(
    server: Server,
) -> None:
    agent_id = await make_agent(server, "di@example.com")
    shift = server.settings.agent_token_ttl_s
    stale = signed_long_ago(TEST_SECRET, AGENT_SALT, {"a": agent_id, "j": "j1"}, shift + 60)
    async with server.http(stale) as http:
        assert (await http.get("/api/agent/me")).status_code == 401
    assert await agent_socket_refused(server, stale)
    fresh = signed_long_ago(TEST_SECRET, AGENT_SALT, {"a": agent_id, "j": "j2"}, shift - 60)
    async with server.http(fresh) as http:
        assert (await http.get("/api/agent/me")).status_code == 200

    client, first = await visitor(server)
    await client.close()
    ttl = server.settings.visitor_token_ttl_s
    lapsed = signed_long_ago(TEST_SECRET, VISITOR_SALT, first["visitor_id"], ttl + 60)
    client, welcome = await visitor(server, token=lapsed)
    assert welcome["visitor_id"] != first["visitor_id"], "a lapsed visitor token resumed"
    await client.close()

    # Back on the last day: the same visitor, and the welcome carries a renewed token.
    nearly = signed_long_ago(TEST_SECRET, VISITOR_SALT, first["visitor_id"], ttl - 60)
    client, welcome = await visitor(server, token=nearly)
    assert welcome["visitor_id"] == first["visitor_id"]
    await client.close()
    serializer = URLSafeTimedSerializer(TEST_SECRET, salt=VISITOR_SALT)
    _, signed_at = serializer.loads(welcome["token"], return_timestamp=True)
    assert time.time() - signed_at.timestamp() < 3600, "the renewed token is a fresh one"


async def test_oversized_login_fields_are_refused_before_any_hashing(server: Server) -> None:
    await make_agent(server, "ed@example.com")
    async with server.http() as http:
        huge = await login(http, "ed@example.com", "x" * 4_000_000)
        assert huge.status_code == 422
        long_email = await login(http, "e" * 310 + "@example.com")
        assert long_email.status_code == 422
        assert (await login(http, "ed@example.com", "p" * 1024)).status_code == 401
    failed = await events(server, "login_failed")
    assert len(failed) == 1, "only the bounded attempt was checked"


@pytest.fixture
async def strict(database_url: str) -> AsyncIterator[Server]:
    """Three free failures per account and per IP, then a long wait (so none expires here)."""
    await seed_kb(database_url)
    settings = make_settings(
        database_url,
        login_free_failures_per_account=3,
        login_free_failures_per_ip=3,
        login_first_delay_s=300,
    )
    async with run_server(settings) as srv:
        yield srv


async def test_guessing_one_accounts_password_is_throttled(strict: Server) -> None:
    await make_agent(strict, "fay@example.com")
    await make_agent(strict, "gus@example.com")
    async with strict.http() as http:
        for n, ip in enumerate(("203.0.113.1", "203.0.113.2", "203.0.113.3")):
            r = await login(http, "fay@example.com", f"guess {n}", ip=ip)
            assert r.status_code == 401
        # The fourth try waits, even with the right password, from anywhere.
        refused = await login(http, "fay@example.com", ip="198.51.100.7")
        assert refused.status_code == 429
        assert 0 < int(refused.headers["Retry-After"]) <= 300
        assert "try again" in refused.json()["detail"]
        # Other accounts are not affected.
        assert (await login(http, "gus@example.com", ip="198.51.100.7")).status_code == 200

    throttled = await events(strict, "login_throttled")
    assert throttled[0]["email"] == "fay@example.com"
    assert throttled[0]["ip"] == "198.51.100.7"
    failed = await events(strict, "login_failed")
    assert {(e["email"], e["ip"]) for e in failed} == {
        ("fay@example.com", "203.0.113.1"),
        ("fay@example.com", "203.0.113.2"),
        ("fay@example.com", "203.0.113.3"),
    }
    (logged_in,) = await events(strict, "login")
    assert logged_in["email"] == "gus@example.com" and logged_in["agent_id"] is not None


async def test_one_ip_trying_many_accounts_is_throttled(strict: Server) -> None:
    await make_agent(strict, "hal@example.com")
    async with strict.http() as http:
        for n in range(3):
            r = await login(http, f"nobody{n}@example.com", "guess", ip="203.0.113.66")
            assert r.status_code == 401, "unknown e-mails fail like wrong passwords"
        refused = await login(http, "hal@example.com", ip="203.0.113.66")
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        # The agent, from their own address, logs in.
        assert (await login(http, "hal@example.com", ip="198.51.100.8")).status_code == 200


async def test_a_successful_login_forgives_its_accounts_typos(strict: Server) -> None:
    await make_agent(strict, "ivy@example.com")
    async with strict.http() as http:
        for day in range(3):
            ip = f"198.51.100.{day + 10}"
            for _ in range(2):
                assert (await login(http, "ivy@example.com", "typo", ip=ip)).status_code == 401
            assert (await login(http, "ivy@example.com", ip=ip)).status_code == 200


async def test_a_flood_of_bad_logins_does_not_stop_a_visitors_bot_answers(
    database_url: str,
) -> None:
    """50 bad logins at once (real argon2, throttle out of the way) while a visitor chats."""
    await seed_kb(database_url)
    settings = make_settings(
        database_url, login_free_failures_per_account=1000, login_free_failures_per_ip=1000
    )
    async with run_server(settings) as srv:
        await make_agent(srv, "jo@example.com")
        client, _ = await visitor(srv)
        questions = ["how much is postage?", "can I return an item?", "when will my parcel arrive?"]

        async def ask(text: str) -> float:
            started = time.perf_counter()
            await client.say(text)
            answer = await client.expect(
                lambda f: f.get("type") == "message" and f["sender"] == "bot"
            )
            assert answer["text"]
            return time.perf_counter() - started

        quiet = [await ask(q) for q in questions]

        # One client with 50 connections: the attacker's side shares this process's event loop,
        # and 50 clients would each build a TLS context on it first.
        attacker = httpx.AsyncClient(
            base_url=srv.base_url, timeout=120, limits=httpx.Limits(max_connections=50)
        )

        async def bad_login(n: int) -> int:
            email = "jo@example.com" if n % 2 else f"{uuid.uuid4().hex}@example.com"
            return (await login(attacker, email, f"wrong {n}")).status_code

        flood = asyncio.gather(*(bad_login(n) for n in range(50)))
        during: list[float] = []
        while not flood.done() or len(during) < len(questions):
            during.append(await ask(questions[len(during) % len(questions)]))
        codes = await flood
        await attacker.aclose()
        await client.close()

    assert codes == [401] * 50
    assert len(during) >= len(questions), "every question asked during the flood was answered"
    ms = sorted(round(d * 1000) for d in during)
    print(
        f"\nvisitor answer latency: quiet max {max(quiet) * 1000:.0f} ms; during 50 bad logins "
        f"median {ms[len(ms) // 2]} ms, max {ms[-1]} ms over {len(ms)} answers"
    )
