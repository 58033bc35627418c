"""API keys over real HTTP and websockets (issue 18): an admin makes a key; with
`messages:write` it posts a message a visitor on a real socket receives; without the scope it
gets 403; revoked, it gets 401 at once (on another replica too); `kb:manage` edits the KB; every
call is in the audit log."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from app.db import make_engine, make_sessionmaker
from handoff.api_key_models import ApiKey
from handoff.models import Conversation, Ticket, utcnow
from handoff.states import ConversationState as S
from tests.client import agent, visitor
from tests.conftest import Server, run_server
from tests.e2e.test_privacy import admin_token


async def make_key(server: Server, admin: str, *scopes: str, name: str = "Shop") -> dict[str, Any]:
    async with server.http(admin) as http:
        r = await http.post("/api/admin/api-keys", json={"name": name, "scopes": list(scopes)})
        assert r.status_code == 201, r.text
        return dict(r.json())


async def used(server: Server, admin: str, key_id: int, count: int) -> list[dict[str, Any]]:
    """The key's `api_key_used` events, oldest first, once there are `count` (recorded just
    after each answer is sent)."""
    async with server.http(admin) as http:
        for _ in range(100):
            r = await http.get("/api/admin/audit", params={"action": "api_key_used", "limit": 500})
            mine = [e["detail"] for e in r.json() if e["detail"]["key_id"] == key_id][::-1]
            if len(mine) >= count:
                return mine
            await asyncio.sleep(0.05)
    raise AssertionError(f"only {mine}")


async def db_update(server: Server, stmt: Any) -> None:
    engine = make_engine(server.settings.database_url)
    try:
        async with make_sessionmaker(engine)() as s:
            await s.execute(stmt)
            await s.commit()
    finally:
        await engine.dispose()


async def test_a_key_posts_what_the_visitor_sees_live_and_every_call_is_audited(
    server: Server,
) -> None:
    admin = await admin_token(server)
    made = await make_key(server, admin, "messages:write", "conversations:read")
    key = made["key"]
    assert key.startswith("ck_") and made["prefix"] == key[:11]
    assert made["scopes"] == ["conversations:read", "messages:write"]
    async with server.http(admin) as http:
        listed = (await http.get("/api/admin/api-keys")).json()
    assert [k["id"] for k in listed] == [made["id"]] and "key" not in listed[0]  # shown once
    async with server.http(admin) as http:
        for bad in (
            {"scopes": ["admin:all"]},
            {"scopes": []},
            {"expires_at": "2020-01-01T00:00:00Z"},  # past
            {"expires_at": "2099-01-01T00:00:00"},  # no time zone
        ):
            r = await http.post("/api/admin/api-keys", json={"name": "x", "scopes": [
                "kb:manage"]} | bad)
            assert r.status_code == 422, (bad, r.text)

    client, welcome = await visitor(server)
    cid = welcome["conversation_id"]
    path = f"/api/conversations/{cid}/messages"
    async with server.http(key) as http:
        r = await http.post(path, json={"client_msg_id": "order-1", "text": "Your parcel left."})
        assert r.status_code == 201, r.text
        assert r.json() | {"seq": 0} == {
            "conversation_id": cid, "seq": 0, "sender": "bot", "duplicate": False
        }
        seen = await client.expect_type("message", sender="bot")
        assert seen["text"] == "Your parcel left." and seen["seq"] == r.json()["seq"]
        assert seen["meta"]["integration"] == "Shop"
        again = await http.post(path, json={"client_msg_id": "order-1", "text": "Again?"})
        assert again.json()["duplicate"] and again.json()["seq"] == r.json()["seq"]
        # An agent reply is for tickets only; this chat is with the bot.
        r = await http.post(path, json={"client_msg_id": "x", "text": "Hi", "sender": "agent"})
        assert r.status_code == 403, r.text
        # conversations:read: the transcript, with the message in it.
        r = await http.get(f"/api/agent/conversations/{cid}")
        assert r.status_code == 200 and "Your parcel left." in [m["text"] for m in r.json()[
            "messages"]]
        assert (await http.get("/api/agent/conversations", params={"filter": "mine"})).status_code \
            == 400  # a key holds no chats
        # A route that takes no keys: refused, and recorded all the same.
        assert (await http.get("/api/admin/api-keys")).status_code == 401
    await client.close()

    events = await used(server, admin, made["id"], 6)
    # Each is written just after its answer: under load the next call's may come first.
    assert sorted((e["method"], e["route"], e["status"]) for e in events) == sorted([
        ("POST", "/api/conversations/{conversation_id}/messages", 201),
        ("POST", "/api/conversations/{conversation_id}/messages", 201),
        ("POST", "/api/conversations/{conversation_id}/messages", 403),
        ("GET", "/api/agent/conversations/{conversation_id}", 200),
        ("GET", "/api/agent/conversations", 400),
        ("GET", "/api/admin/api-keys", 401),
    ])
    async with server.http(admin) as http:
        (listed,) = (await http.get("/api/admin/api-keys")).json()
    assert listed["last_used_at"] is not None


async def test_scopes_revocation_and_expiry_are_enforced_at_once_on_every_replica(
    server: Server,
) -> None:
    admin = await admin_token(server)
    reader = (await make_key(server, admin, "conversations:read", name="CRM"))["key"]
    writer = await make_key(server, admin, "messages:write")
    client, welcome = await visitor(server)
    cid = welcome["conversation_id"]
    body = {"client_msg_id": "m1", "text": "Hello from the shop"}
    async with run_server(server.settings) as replica:  # a second replica, the same database
        async with replica.http(reader) as http:
            r = await http.post(f"/api/conversations/{cid}/messages", json=body)
            assert r.status_code == 403 and "messages:write" in r.text
            assert (await http.get("/api/agent/tickets/list")).status_code == 200
            assert (await http.get("/api/admin/kb")).status_code == 403
        async with replica.http(writer["key"]) as http:
            r = await http.post(f"/api/conversations/{cid}/messages", json=body)
            assert r.status_code == 201
            assert (await http.get(f"/api/agent/conversations/{cid}")).status_code == 403
            async with server.http(admin) as admin_http:  # revoked on the first replica ...
                r = await admin_http.post(f"/api/admin/api-keys/{writer['id']}/revoke")
                assert r.status_code == 200 and r.json()["revoked_at"] is not None
            # ... refused on the second at its very next request
            r = await http.post(f"/api/conversations/{cid}/messages", json=body | {
                "client_msg_id": "m2"})
            assert r.status_code == 401 and "revoked" in r.text
        async with replica.http("ck_" + "A" * 43) as http:  # made up: 401, and not recorded
            assert (await http.get("/api/agent/tickets/list")).status_code == 401
    events = await used(server, admin, writer["id"], 3)
    assert sorted(e["status"] for e in events) == [201, 401, 403]
    await client.close()

    # An expired key is refused like a revoked one.
    await db_update(server, update(ApiKey).values(expires_at=utcnow() - timedelta(seconds=1)))
    async with server.http(reader) as http:
        r = await http.get("/api/agent/tickets/list")
        assert r.status_code == 401 and "expired" in r.text


async def test_a_kb_key_edits_the_knowledge_base_and_replies_on_a_ticket(server: Server) -> None:
    admin = await admin_token(server)
    kb = (await make_key(server, admin, "kb:manage"))["key"]
    entry = {"id": "hats", "question": "Do you sell hats?", "answer": "Yes, in three sizes."}
    async with server.http(kb) as http:
        r = await http.post("/api/admin/kb", json=entry)
        assert r.status_code == 201, r.text
        r = await http.put("/api/admin/kb/hats", json=entry | {"answer": "Yes, in four sizes."})
        assert r.status_code == 200 and r.json()["answer"] == "Yes, in four sizes."
        assert "hats" in [e["id"] for e in (await http.get("/api/admin/kb")).json()]
        assert (await http.get("/api/agent/tickets")).status_code == 403
    async with server.http(admin) as http:
        events = (await http.get("/api/admin/audit", params={"action": "kb_entry_created"})).json()
    assert events[0]["detail"]["entry_id"] == "hats" and events[0]["agent_id"] is None

    # messages:write as an agent: on an open ticket, signed with the key's name.
    helpdesk = (await make_key(server, admin, "messages:write", name="Helpdesk"))["key"]
    client, welcome = await visitor(server)
    cid = welcome["conversation_id"]
    await db_update(server, update(Conversation).where(Conversation.id == cid).values(
        state=S.TICKET))
    engine = make_engine(server.settings.database_url)
    try:
        async with make_sessionmaker(engine)() as s:
            s.add(Ticket(conversation_id=cid))
            await s.commit()
    finally:
        await engine.dispose()
    bob = await server.create_agent("bob@example.com", "Bob")
    console = await agent(server, bob)
    await console.send({"type": "watch", "conversation_id": cid, "last_seq": 0})
    async with server.http(helpdesk) as http:
        r = await http.post(f"/api/conversations/{cid}/messages",
                            json={"client_msg_id": "t1", "text": "Refund sent.", "sender": "agent"})
        assert r.status_code == 201 and r.json()["sender"] == "agent", r.text
    seen = await client.expect_type("message", sender="agent")
    assert seen["text"] == "Refund sent." and seen["author"]["name"] == "Helpdesk"
    watched = await console.expect_type("message", sender="agent")  # agents see it live too
    assert watched["seq"] == seen["seq"]
    await client.close()
    await console.close()


async def test_agents_post_over_rest_by_todays_rules(server: Server) -> None:
    bob = await server.create_agent("bob@example.com", "Bob")
    console = await agent(server, bob)  # online: a handoff queues rather than makes a ticket
    client, welcome = await visitor(server)
    cid = welcome["conversation_id"]
    path = f"/api/conversations/{cid}/messages"
    async with server.http(bob) as http:
        r = await http.post(path, json={"client_msg_id": "b1", "text": "Hi"})
        assert r.status_code == 403  # not his chat (yet)
        assert (await http.post(path, json={"client_msg_id": "b1", "text": "Hi",
                                            "sender": "bot"})).status_code == 403
        await client.send({"type": "handoff", "client_msg_id": "h1"})
        await client.expect_type("state", state="queued")
        assert (await http.post(f"/api/agent/conversations/{cid}/take")).status_code == 200
        r = await http.post(path, json={"client_msg_id": "b1", "text": "Bob here."})
        assert r.status_code == 201 and r.json()["sender"] == "agent", r.text
    seen = await client.expect_type("message", sender="agent")
    assert seen["text"] == "Bob here." and seen["author"]["name"] == "Bob"
    await client.close()
    await console.close()
