"""The demo accounts and the audit trail, as an operator and an admin see them (issue 13)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest
from pydantic import ValidationError

from app.db import make_engine, make_sessionmaker
from app.demo import DEMO_ACCOUNTS, demo_banner, seed_demo
from app.settings import Environment, Settings
from handoff import agents, audit
from tests.conftest import AGENT_PASSWORD, TEST_SECRET, Server, make_settings, run_server
from tests.e2e.test_auth_security import events, login, make_agent
from tests.e2e.test_cli import chatdesk

OLD_DEMO_PASSWORD = "chatdesk-demo"  # printed in the README of every earlier release


async def test_demo_has_an_ordinary_agent_and_a_separate_admin(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as s:  # an earlier release's demo agent: admin
            await agents.create_agent(
                session=s,
                email=agents.DEMO_AGENT_EMAIL,
                name="Alex",
                password=OLD_DEMO_PASSWORD,
                is_admin=True,
            )
    finally:
        await engine.dispose()
    settings = make_settings(database_url)
    accounts = await seed_demo(settings)
    assert {(a.email, a.is_admin) for a in accounts} == {
        (agents.DEMO_AGENT_EMAIL, False),
        (agents.DEMO_ADMIN_EMAIL, True),
    }
    banner = demo_banner("http://127.0.0.1:8000", accounts)
    for a in accounts:
        assert f"{a.email} / {a.password}" in banner

    async with run_server(settings) as srv, srv.http() as http:
        assert (await login(http, agents.DEMO_AGENT_EMAIL, OLD_DEMO_PASSWORD)).status_code == 401
        roles = {}
        for a in accounts:
            r = await login(http, a.email, a.password)
            assert r.status_code == 200, r.text
            headers = {"Authorization": f"Bearer {r.json()['token']}"}
            roles[a.email] = (await http.get("/api/admin/audit", headers=headers)).status_code
        assert roles == {agents.DEMO_AGENT_EMAIL: 403, agents.DEMO_ADMIN_EMAIL: 200}

    again = await seed_demo(settings)  # the next `make run`: new passwords, the old ones fail
    assert [a.password for a in again] != [a.password for a in accounts]
    async with run_server(settings) as srv, srv.http() as http:
        assert (await login(http, accounts[0].email, accounts[0].password)).status_code == 401
        assert (await login(http, again[0].email, again[0].password)).status_code == 200


async def test_production_refuses_demo_mode_and_a_missing_secret(database_url: str) -> None:
    env = dict(
        os.environ,
        CHATDESK_DATABASE_URL=database_url,
        CHATDESK_ENV="production",
        CHATDESK_SECRET_KEY=TEST_SECRET,
        CHATDESK_ALLOWED_ORIGINS='["https://shop.example.com"]',
    )
    refused = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "app.cli", "serve", "--demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 2 and "refusing --demo" in refused.stderr
    with pytest.raises(ValidationError, match="CHATDESK_SECRET_KEY"):
        Settings(env=Environment.PRODUCTION, allowed_origins=["https://shop.example.com"])
    with pytest.raises(ValidationError, match="CHATDESK_SECRET_KEY"):
        Settings(secret_key="short")  # never a guessable key, in any mode
    assert DEMO_ACCOUNTS[0].password == "", "no demo password is kept in the code"


async def test_admin_changes_and_logins_are_in_the_audit_log(server: Server) -> None:
    admin_id = await make_agent(server, "ada@example.com", admin=True)
    async with server.http() as http:
        assert (await login(http, "ada@example.com", "not it")).status_code == 401
        token = (await login(http, "ada@example.com")).json()["token"]
    entry = {"id": "bikes", "question": "Do you sell bikes?", "answer": "Yes.", "variants": []}
    canned = {"shortcut": "hi", "title": "Greeting", "text": "Hello!"}
    async with server.http(token) as http:
        assert (await http.post("/api/admin/kb", json=entry)).status_code == 201
        edit = {"question": "Do you sell bicycles?", "answer": "Yes, e-bikes."}
        assert (await http.put("/api/admin/kb/bikes", json=edit)).status_code == 200
        variant = (await http.post("/api/admin/kb/bikes/variants", json={"text": "Bikes?"})).json()
        assert (
            await http.delete(f"/api/admin/kb/bikes/variants/{variant['id']}")
        ).status_code == 204
        assert (await http.delete("/api/admin/kb/bikes")).status_code == 204
        reply = (await http.post("/api/agent/canned", json=canned)).json()
        assert (await http.post("/api/agent/canned", json=canned)).status_code == 409
        changed = {**canned, "text": "Hello there!"}
        assert (await http.put(f"/api/agent/canned/{reply['id']}", json=changed)).status_code == 200
        assert (await http.delete(f"/api/agent/canned/{reply['id']}")).status_code == 204
        assert (await http.post("/api/agent/logout")).status_code == 204

    log = list(reversed(await events(server)))
    assert [e["action"] for e in log] == [
        "kb_replaced",  # the fixture's import of the test knowledge base
        "agent_created",
        "login_failed",
        "login",
        "kb_entry_created",
        "kb_entry_updated",
        "kb_variant_added",
        "kb_variant_deleted",
        "kb_entry_deleted",
        "canned_created",
        "canned_updated",
        "canned_deleted",  # the 409 left no event
        "logout",
    ]
    first = {e["action"]: e for e in reversed(log)}
    by_admin = [
        e for e in log if e["action"] not in ("kb_replaced", "agent_created", "login_failed")
    ]
    assert all(e["agent_id"] == admin_id and e["ip"] == "127.0.0.1" for e in by_admin)
    assert first["login_failed"]["email"] == "ada@example.com"
    assert first["login_failed"]["ip"] == "127.0.0.1"
    assert first["kb_entry_deleted"]["entry_id"] == "bikes"
    assert first["canned_created"]["shortcut"] == "hi"


async def test_agent_create_on_the_command_line_is_audited(database_url: str) -> None:
    done = await chatdesk(
        database_url,
        "agent",
        "create",
        "--email",
        "Kim@Example.com",
        "--name",
        "Kim",
        "--password",
        AGENT_PASSWORD,
        "--admin",
    )
    assert done.returncode == 0, done.stderr
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as s:
            (event,) = await audit.recent(session=s, action="agent_created")
    finally:
        await engine.dispose()
    assert event.detail is not None
    assert event.detail["email"] == "kim@example.com" and event.detail["is_admin"] is True
    assert event.detail["via"] == "cli"
