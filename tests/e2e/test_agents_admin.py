"""Agents and roles over real HTTP and websockets (issue 14): an admin creates an agent who logs
in; disabling them closes their open console (1008) and refuses their token at once; a reset
does the same; the last admin keeps the role; avatars are uploaded, checked and served."""

from __future__ import annotations

import asyncio
import io

import pytest
import websockets
from PIL import Image
from sqlalchemy import update

from app.db import make_engine, make_sessionmaker
from handoff.models import Agent, utcnow
from tests.client import ChatClient, agent, visitor
from tests.conftest import AGENT_PASSWORD, Server
from tests.e2e.test_privacy import admin_token

CLOSE_POLICY = 1008  # the console's "refused": it shows the log in form (agent_socket.js)


async def closed_with(console: ChatClient) -> int | None:
    with pytest.raises(websockets.ConnectionClosed) as closed:
        async with asyncio.timeout(10):
            while True:
                await console.ws.recv()
    return closed.value.rcvd.code if closed.value.rcvd else None


async def log_in(server: Server, email: str, password: str = AGENT_PASSWORD) -> int | str:
    async with server.http() as http:
        r = await http.post("/api/agent/login", json={"email": email, "password": password})
        return str(r.json()["token"]) if r.status_code == 200 else r.status_code


async def new_member(server: Server, admin: str, **fields: object) -> dict[str, object]:
    body = {"email": "bo@example.com", "name": "Bo", "password": AGENT_PASSWORD} | fields
    async with server.http(admin) as http:
        r = await http.post("/api/admin/agents", json=body)
        assert r.status_code == 201, r.text
        return dict(r.json())


async def test_a_disabled_agent_is_logged_out_everywhere_at_once(server: Server) -> None:
    admin = await admin_token(server)
    bo = await new_member(server, admin, capacity=2)
    assert (bo["is_admin"], bo["capacity"], bo["status"], bo["disabled_at"]) == (
        False, 2, "offline", None,
    )
    token = await log_in(server, "bo@example.com")
    assert isinstance(token, str)
    console = await agent(server, token)
    # A chat Bo holds goes back to the queue when Bo is disabled.
    client, welcome = await visitor(server)
    cid = welcome["conversation_id"]
    await client.send({"type": "handoff", "client_msg_id": "h1"})
    await client.expect_type("state", state="queued")
    async with server.http(token) as http:
        assert (await http.post(f"/api/agent/conversations/{cid}/take")).status_code == 200
    await client.expect_type("state", state="assigned")

    async with server.http(admin) as http:
        team = (await http.get("/api/admin/agents")).json()
        assert {m["email"]: (m["status"], m["active"]) for m in team}["bo@example.com"] == (
            "online", 1,
        )
        r = await http.post(f"/api/admin/agents/{bo['id']}/disable")
        assert r.status_code == 200 and r.json()["disabled_at"] is not None
        assert r.json()["status"] == "offline"
    assert await closed_with(console) == CLOSE_POLICY
    await client.expect_type("state", state="queued")
    async with server.http(token) as http:
        assert (await http.get("/api/agent/me")).status_code == 401
    assert await log_in(server, "bo@example.com") == 401
    refused = await ChatClient.connect(server.ws_url + "/ws/agent")
    await refused.send({"type": "hello", "token": token})
    assert (await refused.expect_type("error"))["code"] == "invalid_token"

    async with server.http(admin) as http:
        assert (await http.post(f"/api/admin/agents/{bo['id']}/enable")).status_code == 200
        audit = (await http.get("/api/admin/audit")).json()
    assert isinstance(await log_in(server, "bo@example.com"), str)
    async with server.http(token) as http:
        assert (await http.get("/api/agent/me")).status_code == 401, "old logins stay ended"
    actions = [e["action"] for e in audit]
    assert {"agent_created", "agent_disabled", "agent_enabled"} <= set(actions)
    await client.close()


async def test_a_password_reset_ends_the_agents_logins(server: Server) -> None:
    admin = await admin_token(server)
    bo = await new_member(server, admin)
    token = await log_in(server, "bo@example.com")
    assert isinstance(token, str)
    console = await agent(server, token)
    async with server.http(admin) as http:
        short = await http.post(f"/api/admin/agents/{bo['id']}/password", json={"password": "x"})
        assert short.status_code == 422 and "8 to 1024" in short.json()["detail"]
        r = await http.post(
            f"/api/admin/agents/{bo['id']}/password", json={"password": "brand new secret"}
        )
        assert r.status_code == 200
    assert await closed_with(console) == CLOSE_POLICY
    assert await log_in(server, "bo@example.com") == 401
    fresh = await log_in(server, "bo@example.com", "brand new secret")
    assert isinstance(fresh, str)
    await (await agent(server, fresh)).close()


async def test_the_last_admin_keeps_the_role_and_roles_and_capacity_change(
    server: Server,
) -> None:
    admin = await admin_token(server)
    async with server.http(admin) as http:
        me = (await http.get("/api/agent/me")).json()
        r = await http.patch(f"/api/admin/agents/{me['id']}", json={"is_admin": False})
        assert r.status_code == 409 and "last admin" in r.json()["detail"]
        r = await http.post(f"/api/admin/agents/{me['id']}/disable")
        assert r.status_code == 409
        bo = await new_member(server, admin)
        r = await http.patch(f"/api/admin/agents/{bo['id']}", json={"capacity": 21})
        assert r.status_code == 422 and "capacity must be 0 to 20" in r.json()["detail"]
        promote = {"is_admin": True, "capacity": 5}
        r = await http.patch(f"/api/admin/agents/{bo['id']}", json=promote)
        assert (r.json()["is_admin"], r.json()["capacity"]) == (True, 5)
        r = await http.patch(f"/api/admin/agents/{me['id']}", json={"is_admin": False})
        assert r.status_code == 200 and r.json()["is_admin"] is False
        assert (await http.get("/api/admin/agents")).status_code == 403, "no longer an admin"
        body = {"email": "x@y.z", "name": "X", "password": "12345678"}
        assert (await http.post("/api/admin/agents", json=body)).status_code == 403


def picture(fmt: str = "PNG", size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, fmt)
    return out.getvalue()


async def test_own_profile_name_password_and_an_avatar_served_by_us(server: Server) -> None:
    token = await server.create_agent("al@example.com", "Al")
    async with server.http(token) as http:
        r = await http.patch("/api/agent/me", json={"name": "  Alice  "})
        assert r.json()["name"] == "Alice"
        assert (await http.patch("/api/agent/me", json={"name": " "})).status_code == 422
        wrong = {"current_password": "not my password", "new_password": "another secret"}
        assert (await http.post("/api/agent/me/password", json=wrong)).status_code == 403
        right = {"current_password": AGENT_PASSWORD, "new_password": "another secret"}
        assert (await http.post("/api/agent/me/password", json=right)).status_code == 204
        assert (await http.get("/api/agent/me")).status_code == 200, "this login goes on"

        r = await http.put("/api/agent/me/avatar", content=picture("JPEG"))
        assert r.status_code == 200, r.text
        url = r.json()["avatar_url"]
        too_big = await http.put("/api/agent/me/avatar", content=b"\0" * (1024 * 1024 + 1))
        assert too_big.status_code == 413 and "over 1024 KB" in too_big.json()["detail"]
        svg = b'<svg xmlns="http://www.w3.org/2000/svg"/>'
        not_png = await http.put("/api/agent/me/avatar", content=svg)
        assert not_png.status_code == 422
    assert await log_in(server, "al@example.com", "another secret") != 401

    async with server.http() as anyone:  # visitors load it: no login
        got = await anyone.get(url)
        assert got.status_code == 200 and got.headers["content-type"] == "image/png"
        assert Image.open(io.BytesIO(got.content)).size == (48, 48)
        etag = got.headers["etag"]
        assert "max-age" in got.headers["cache-control"]
        again = await anyone.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert "img-src 'self' data:;" in got.headers["content-security-policy"]
    async with server.http(token) as http:
        r = await http.delete("/api/agent/me/avatar")
        assert r.json()["avatar_url"] is None
    async with server.http() as anyone:
        assert (await anyone.get(url)).status_code == 404


async def test_the_admin_routes_are_documented(server: Server) -> None:
    async with server.http() as http:
        paths = (await http.get("/openapi.json")).json()["paths"]
    for path, method in [
        ("/api/admin/agents", "get"),
        ("/api/admin/agents", "post"),
        ("/api/admin/agents/{agent_id}", "patch"),
        ("/api/admin/agents/{agent_id}/disable", "post"),
        ("/api/admin/agents/{agent_id}/enable", "post"),
        ("/api/admin/agents/{agent_id}/password", "post"),
        ("/api/agent/me/avatar", "put"),
    ]:
        op = paths[path][method]
        assert op.get("description") or op.get("summary"), path
        ok = next(v for k, v in op["responses"].items() if k.startswith("2"))
        assert "content" in ok or method == "put", path
    assert "image/png" in paths["/api/agent/me/avatar"]["put"]["requestBody"]["content"]


async def test_after_a_bus_outage_consoles_of_ended_logins_are_closed_too(server: Server) -> None:
    """The disable's event was lost (say Redis was down): the resync checks the database."""
    token = await server.create_agent("cy@example.com", "Cy")
    console = await agent(server, token)
    engine = make_engine(server.settings.database_url)
    try:
        async with make_sessionmaker(engine)() as s:
            await s.execute(
                update(Agent).where(Agent.email == "cy@example.com").values(disabled_at=utcnow())
            )
            await s.commit()
    finally:
        await engine.dispose()
    await console.send({"type": "ping"})
    await console.expect_type("pong")  # no event: still open
    server.app.state.bus.fanout.deliver_resync()  # type: ignore[attr-defined]
    assert await closed_with(console) == CLOSE_POLICY
