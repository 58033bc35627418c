"""Privacy requests as an admin makes them (REST and CLI), and the retention job of a server."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from sqlalchemy import func, select

from app.db import make_engine, make_sessionmaker
from handoff import agents, audit
from handoff.models import Conversation, Message, Visitor, utcnow
from tests.client import agent, visitor
from tests.conftest import AGENT_PASSWORD, Server, make_settings, run_server, seed_kb
from tests.e2e.test_cli import chatdesk


async def admin_token(server: Server, email: str = "admin@example.com") -> str:
    engine = make_engine(server.settings.database_url)
    try:
        async with make_sessionmaker(engine)() as s:
            await agents.create_agent(
                session=s, email=email, name="Ada", password=AGENT_PASSWORD, is_admin=True
            )
    finally:
        await engine.dispose()
    async with server.http() as http:
        r = await http.post("/api/agent/login", json={"email": email, "password": AGENT_PASSWORD})
        r.raise_for_status()
        return str(r.json()["token"])


async def rows_of(database_url: str, visitor_id: int) -> tuple[int, int, int]:
    """(visitor rows, conversations, messages) stored for this visitor."""
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as s:
            convs = select(Conversation.id).where(Conversation.visitor_id == visitor_id)
            return (
                int(await s.scalar(select(func.count()).where(Visitor.id == visitor_id)) or 0),
                int(await s.scalar(select(func.count()).select_from(convs.subquery())) or 0),
                int(
                    await s.scalar(select(func.count()).where(Message.conversation_id.in_(convs)))
                    or 0
                ),
            )
    finally:
        await engine.dispose()


async def test_admin_finds_exports_and_deletes_a_visitor_whose_chat_is_open(
    server: Server,
) -> None:
    admin = await admin_token(server)
    plain = await server.create_agent()
    console = await agent(server, plain)
    eve, welcome = await visitor(server, name="Eve")
    await eve.say("How long does shipping take?")
    await eve.expect(lambda f: f.get("type") == "message" and f["sender"] == "bot")
    await eve.send({"type": "email", "email": "Eve@Example.com"})
    await eve.expect(lambda f: f.get("type") == "message" and f["meta"].get("kind") == "email")
    bob, _ = await visitor(server, name="Bob")
    await bob.say("Do you ship abroad?")
    await bob.expect(lambda f: f.get("type") == "message" and f["sender"] == "bot")
    vid, cid = welcome["visitor_id"], welcome["conversation_id"]

    async with server.http(plain) as http:
        assert (await http.get(f"/api/admin/visitors/{vid}/export")).status_code == 403
        assert (await http.delete(f"/api/admin/visitors/{vid}")).status_code == 403
    async with server.http(admin) as http:
        found = (await http.get("/api/admin/visitors", params={"email": "eve@example.com"})).json()
        assert [v["id"] for v in found] == [vid]
        export = (await http.get(f"/api/admin/visitors/{vid}/export")).json()
        texts = [m["text"] for m in export["visitor"]["conversations"][0]["messages"]]
        assert "How long does shipping take?" in texts
        assert "Do you ship abroad?" not in json.dumps(export)

        deleted = await http.delete(f"/api/admin/visitors/{vid}")
        assert deleted.status_code == 200, deleted.text
        assert deleted.json()["visitors"] == 1 and deleted.json()["messages"] >= 3
        assert (await http.delete(f"/api/admin/visitors/{vid}")).status_code == 404
        assert (await http.get(f"/api/admin/visitors/{vid}/export")).status_code == 404
        log = (await http.get("/api/admin/audit")).json()
        assert [e["action"] for e in log[:2]] == ["visitor_deleted", "visitor_exported"]
        assert "eve@example.com" not in json.dumps(log).lower()

    assert await rows_of(server.settings.database_url, vid) == (0, 0, 0)
    # Her open widget is told; the consoles drop the chat; Bob goes on as before.
    told = await eve.expect_type("state", conversation_id=cid, deleted=True)
    assert told["state"] == "closed"
    await console.expect_type("conversation", conversation_id=cid, state="deleted")
    await bob.say("And to Norway?")
    await bob.expect_ack()
    # Whatever the old widget sends is refused, not stored; its token starts someone new.
    await eve.say("hello again?")
    refused = await eve.expect_type("error")
    assert refused["code"] == "not_found"
    await eve.close()
    again, fresh = await visitor(server, token=welcome["token"], conversation_id=cid, last_seq=0)
    assert fresh["visitor_id"] != vid and fresh["conversation_id"] != cid
    await again.drain()
    assert again.messages() == []
    assert await rows_of(server.settings.database_url, vid) == (0, 0, 0)
    for client in (again, bob, console):
        await client.close()


async def test_the_cli_finds_exports_and_deletes(server: Server) -> None:
    eve, welcome = await visitor(server)
    await eve.say("Where is my parcel?")
    await eve.send({"type": "email", "email": "eve@example.com"})
    await eve.expect(lambda f: f.get("type") == "message" and f["meta"].get("kind") == "email")
    await eve.close()
    url, vid = server.settings.database_url, welcome["visitor_id"]

    found = await chatdesk(url, "visitor", "find", "eve@example.com")
    assert found.returncode == 0, found.stderr
    assert found.stdout.split("\t")[0] == str(vid)
    exported = await chatdesk(url, "visitor", "export", str(vid))
    assert exported.returncode == 0, exported.stderr
    data = json.loads(exported.stdout)
    assert data["visitor"]["email"] == "eve@example.com"
    assert "Where is my parcel?" in exported.stdout

    deleted = await chatdesk(url, "visitor", "delete", str(vid))
    assert deleted.returncode == 0, deleted.stderr
    assert f"deleted visitor {vid}" in deleted.stdout
    assert await rows_of(url, vid) == (0, 0, 0)
    missing = await chatdesk(url, "visitor", "export", str(vid))
    assert missing.returncode == 2 and "not found" in missing.stderr
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:
            actions = [e.action for e in await audit.recent(session=s)]
    finally:
        await engine.dispose()
    assert actions[:2] == ["visitor_deleted", "visitor_exported"]


async def test_a_server_with_retention_purges_old_closed_chats(database_url: str) -> None:
    assert make_settings(database_url).retention_days is None, "off unless asked for"
    await seed_kb(database_url)
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as s:
            old, kept = Visitor(name="Old"), Visitor(name="Recent")
            s.add_all([old, kept])
            await s.flush()
            for who, days in ((old, 40), (kept, 5)):
                closed = utcnow() - timedelta(days=days)
                s.add(
                    Conversation(
                        visitor_id=who.id, state="closed", created_at=closed, closed_at=closed
                    )
                )
            await s.commit()
            old_id, kept_id = old.id, kept.id
        async with run_server(make_settings(database_url, retention_days=30)):
            for _ in range(200):  # the job runs at start-up; bounded wait for it
                async with sessions() as s:
                    if await s.get(Visitor, old_id) is None:
                        break
                await asyncio.sleep(0.05)
        async with sessions() as s:
            assert await s.get(Visitor, old_id) is None
            assert await s.get(Visitor, kept_id) is not None
            (event,) = await audit.recent(session=s, action="retention_purged")
            assert event.detail is not None
            assert event.detail["rows"]["conversations"] == 1
            assert event.detail["rows"]["visitors"] == 1
            # Nothing else was touched: the recent chat is still there.
            left = (await s.scalars(select(Conversation.visitor_id))).all()
            assert list(left) == [kept_id]
    finally:
        await engine.dispose()
