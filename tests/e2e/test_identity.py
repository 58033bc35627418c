"""Signed visitor identity and the origin allow-list, over a real websocket; /widget.js serving."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
import websockets

from app.identity import sign_identity
from tests.browser.widget_page import db_rows
from tests.client import ChatClient, visitor
from tests.conftest import Server, make_settings, run_server, seed_kb

SECRET = "site-secret-" + "k" * 32


def signed(**overrides: object) -> dict[str, object]:
    claim: dict[str, object] = {
        "user_id": "u-7", "name": "Grace Hopper", "email": "Grace@Example.com",
        "expires": int(time.time()) + 300,
    }
    claim.update(overrides)
    claim["signature"] = sign_identity(
        secret=SECRET, user_id=str(claim["user_id"]), name=claim.get("name"),  # type: ignore[arg-type]
        email=claim.get("email"), expires=int(claim["expires"]),  # type: ignore[arg-type]
    )
    return claim


@pytest.fixture
async def site(database_url: str) -> AsyncIterator[Server]:
    await seed_kb(database_url)
    async with run_server(make_settings(database_url, identity_secret=SECRET)) as srv:
        yield srv


def errors(client: ChatClient) -> list[str]:
    return [f["code"] for f in client.frames if f.get("type") == "error"]


async def profiles(server: Server) -> list[tuple[str | None, str | None]]:
    """What the site vouched for on each visitor (verified name and e-mail)."""
    rows = await db_rows(
        server, "SELECT verified_name, verified_email FROM visitors ORDER BY id"
    )
    return [(r.verified_name, r.verified_email) for r in rows]


async def test_a_signed_identity_names_the_visitor(site: Server) -> None:
    client, _ = await visitor(site, token=None, identity=signed())
    assert errors(client) == []
    assert await profiles(site) == [("Grace Hopper", "Grace@example.com")]
    await client.close()


@pytest.mark.parametrize(
    "tamper",
    [
        {"name": "Someone Else"},  # changed after signing
        {"email": "attacker@example.com"},
        {"user_id": "u-8"},
        {"expires": int(time.time()) - 1, "resign": True},  # expired, even if signed
        {"signature": "0" * 64},
        {"signature": "é" * 64},  # not even hex: still just "does not verify"
        {"name": "Line\nbreak", "resign": True},  # fields cannot smuggle a separator
    ],
)
async def test_unsigned_or_tampered_identity_is_ignored(
    site: Server, tamper: dict[str, object]
) -> None:
    tamper = dict(tamper)
    if tamper.pop("resign", False):
        claim = signed(**tamper)  # properly signed, but not acceptable
    else:
        claim = signed()
        claim.update(tamper)  # changed after signing
    client, _ = await visitor(site, token=None, identity=claim)
    assert errors(client) == ["invalid_identity"]  # said before the welcome
    assert await profiles(site) == [(None, None)]  # the claim never reached the profile
    await client.say("how much is postage?")  # and the connection carries on normally
    await client.expect(lambda f: f.get("type") == "message" and f.get("sender") == "bot")
    await client.close()


async def test_identity_is_ignored_without_a_configured_secret(server: Server) -> None:
    client, _ = await visitor(server, token=None, identity=signed())
    assert errors(client) == ["invalid_identity"]
    assert await profiles(server) == [(None, None)]
    await client.close()


async def test_only_allowed_origins_may_open_the_visitor_socket(site: Server) -> None:
    site.settings.allowed_origins = ["https://shop.example.com", "https://*.example.org"]
    url = site.ws_url + "/ws/visitor"
    async with websockets.connect(url, origin="https://shop.example.com") as ws:  # type: ignore[arg-type]
        await ws.send('{"type": "hello"}')
        assert '"welcome"' in await ws.recv()
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(url, origin="https://evil.example.net"):  # type: ignore[arg-type]
            pass
    assert refused.value.response.status_code == 403
    async with websockets.connect(url, origin="https://eu.shop.example.org") as ws:  # type: ignore[arg-type]
        await ws.send('{"type": "hello"}')
        assert '"welcome"' in await ws.recv()


async def test_widget_js_is_cached_compressed_and_cross_origin(server: Server) -> None:
    async with server.http() as http:
        r = await http.get("/widget.js", headers={"Accept-Encoding": "gzip"})
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/javascript")
        assert r.headers["content-encoding"] == "gzip"
        assert r.headers["access-control-allow-origin"] == "*"
        assert r.headers["cross-origin-resource-policy"] == "cross-origin"
        assert "max-age=" in r.headers["cache-control"]
        assert "Accept-Encoding" in r.headers["vary"]
        assert "chatdesk" in r.text  # httpx decoded the gzip body
        etag = r.headers["etag"]
        again = await http.get("/widget.js", headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        plain = await http.get("/widget.js", headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers and plain.headers["etag"] != etag
        shop = await http.get("/")
        assert shop.status_code == 200 and 'src="/widget.js"' in shop.text
        assert (await http.get("/demo")).status_code == 200
        console = await http.get("/static/console.js")
        assert console.status_code == 200
        assert console.headers["content-type"].startswith("text/javascript")
        # Only the console's own assets: not the test tooling that lives beside them.
        for path in ["/static/package.json", "/static/node_modules/axe-core/axe.min.js",
                     "/static/../app/settings.py", "/static/widget.js.map"]:
            assert (await http.get(path)).status_code == 404, path
