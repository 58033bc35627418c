"""Origins and headers as a browser (or an attacker's page) meets them: the agent socket takes
chatdesk's own pages only, production insists on the bubble's sites, every page says what may
run and who may frame it, and the API map is not public in production."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
import websockets
from pydantic import ValidationError

from app.headers import CONTENT_SECURITY_POLICY
from app.settings import Environment, Settings
from tests.conftest import TEST_SECRET, Server, make_settings, run_server, seed_kb

PAGES = ["/", "/demo", "/agent"]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


async def agent_hello(url: str, **connect: object) -> str:
    async with websockets.connect(url, **connect) as ws:  # type: ignore[arg-type]
        await ws.send('{"type": "hello", "token": "nonsense"}')
        return str(await ws.recv())


async def test_the_agent_socket_refuses_pages_of_other_sites(server: Server) -> None:
    url = server.ws_url + "/ws/agent"
    for evil in ["https://evil.example", "http://127.0.0.1.evil.example", "null"]:
        with pytest.raises(websockets.InvalidStatus) as refused:
            await agent_hello(url, origin=evil)
        assert refused.value.response.status_code == 403, evil
    # The console's own page (same host), and clients that are not browsers (no Origin), are
    # let in to say hello; their token is what decides then.
    own = server.base_url  # http://127.0.0.1:PORT
    assert '"invalid_token"' in await agent_hello(url, origin=own)
    assert '"invalid_token"' in await agent_hello(url)


async def test_a_console_behind_a_host_rewriting_proxy_is_configured(database_url: str) -> None:
    settings = make_settings(database_url, console_origins=["https://help.example.com"])
    async with run_server(settings) as server:
        url = server.ws_url + "/ws/agent"
        assert '"invalid_token"' in await agent_hello(url, origin="https://help.example.com")
        with pytest.raises(websockets.InvalidStatus):
            await agent_hello(url, origin="https://help.example.com.evil.example")


def test_production_requires_the_sites_the_bubble_may_be_on() -> None:
    with pytest.raises(ValidationError, match="CHATDESK_ALLOWED_ORIGINS"):
        Settings(env=Environment.PRODUCTION, secret_key=TEST_SECRET, allowed_origins=[])


def test_the_api_docs_are_off_in_production_unless_asked_for() -> None:
    assert Settings(env=Environment.DEV).serve_docs()
    prod = Settings.model_construct(env=Environment.PRODUCTION, docs_enabled=None)
    assert not prod.serve_docs()
    assert Settings.model_construct(env=Environment.PRODUCTION, docs_enabled=True).serve_docs()


@pytest.fixture
async def no_docs(database_url: str) -> AsyncIterator[Server]:
    await seed_kb(database_url)
    async with run_server(make_settings(database_url, docs_enabled=False)) as srv:
        yield srv


async def test_no_docs_no_openapi_when_turned_off(no_docs: Server, server: Server) -> None:
    async with no_docs.http() as http:
        for path in ["/docs", "/redoc", "/openapi.json"]:
            assert (await http.get(path)).status_code == 404, path
    async with server.http() as http:  # the default outside production: served
        assert (await http.get("/openapi.json")).status_code == 200
        assert (await http.get("/docs")).status_code == 200


async def test_pages_have_a_strict_policy_and_no_inline_script(server: Server) -> None:
    async with server.http() as http:
        for path in PAGES:
            r = await http.get(path)
            assert r.status_code == 200, path
            h = r.headers
            assert h["content-security-policy"] == CONTENT_SECURITY_POLICY, path
            assert h["x-frame-options"] == "DENY"
            assert h["x-content-type-options"] == "nosniff"
            assert h["referrer-policy"] == "no-referrer"
            # What the policy forbids is not in the page either (it would simply not run).
            assert not INLINE_SCRIPT.search(r.text), path
            assert not INLINE_HANDLER.search(r.text), path
            for src in re.findall(r'<script[^>]*\bsrc="([^"]+)"', r.text):
                script = await http.get(src)
                assert script.status_code == 200, src
                assert script.headers["content-type"].startswith("text/javascript"), src
        policy = dict(part.strip().split(" ", 1) for part in CONTENT_SECURITY_POLICY.split(";"))
        assert policy["script-src"] == "'self'"
        assert policy["frame-ancestors"] == "'none'"
        assert policy["object-src"] == "'none'"
        # The bubble's script still loads anywhere, from any site, cached.
        widget = await http.get("/widget.js")
        assert widget.headers["access-control-allow-origin"] == "*"
        assert widget.headers["cross-origin-resource-policy"] == "cross-origin"
        assert widget.headers["x-content-type-options"] == "nosniff"
        api = await http.get("/api/agent/me")
        assert api.status_code == 401 and api.headers["x-content-type-options"] == "nosniff"
