"""Who a visitor is: what the site signed is kept apart from what the visitor typed, and a
visitor token is bound to the signed-in user. Real websockets, a real database, the REST API
agents read."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.identity import sign_identity
from tests.browser.widget_page import db_rows
from tests.client import ChatClient, visitor
from tests.conftest import Server, make_settings, run_server, seed_kb

SECRET = "site-secret-" + "b" * 32


def signed(user_id: str, name: str | None = None, email: str | None = None) -> dict[str, Any]:
    expires = int(time.time()) + 600
    sig = sign_identity(secret=SECRET, user_id=user_id, name=name, email=email, expires=expires)
    return {"user_id": user_id, "name": name, "email": email, "expires": expires, "signature": sig}


@pytest.fixture
async def site(database_url: str) -> AsyncIterator[Server]:
    await seed_kb(database_url)
    async with run_server(make_settings(database_url, identity_secret=SECRET)) as srv:
        yield srv


def errors(client: ChatClient) -> list[str]:
    return [f["code"] for f in client.frames if f.get("type") == "error"]


async def ask(client: ChatClient, text: str) -> None:
    cmid = await client.say(text)
    await client.expect_ack(cmid)
    await client.expect(lambda f: f.get("type") == "message" and f["sender"] == "bot")


async def profile_as_agents_see_it(server: Server, conversation_id: int) -> dict[str, Any]:
    token = await server.create_agent()
    async with server.http(token) as http:
        r = await http.get(f"/api/agent/conversations/{conversation_id}")
        r.raise_for_status()
        return dict(r.json()["visitor"])


async def test_typed_name_and_email_never_overwrite_what_the_site_signed(site: Server) -> None:
    client, welcome = await visitor(
        site, name="Mallory (admin)", identity=signed("u-7", "Grace Hopper", "grace@example.com")
    )
    await client.send({"type": "email", "email": "mallory@example.net"})
    await client.expect(lambda f: f.get("type") == "message" and f["sender"] == "system")
    await client.close()
    # Coming back signed in again: still Grace as the site says, Mallory only as typed.
    again, _ = await visitor(
        site,
        token=welcome["token"],
        name="Someone else",
        identity=signed("u-7", "Grace Hopper", "grace@example.com"),
    )
    await again.close()
    shown = await profile_as_agents_see_it(site, welcome["conversation_id"])
    assert shown["user_id"] == "u-7"
    assert (shown["verified_name"], shown["verified_email"]) == (
        "Grace Hopper",
        "grace@example.com",
    )
    assert (shown["name"], shown["email"]) == ("Mallory (admin)", "mallory@example.net")


async def test_another_user_on_the_same_browser_gets_none_of_the_first_users_chat(
    site: Server,
) -> None:
    ann, ann_welcome = await visitor(site, identity=signed("ann", "Ann"))
    await ask(ann, "how much is postage?")
    await ann.close()
    # Bob signs in on the same browser: the widget still holds Ann's token and conversation.
    bob, bob_welcome = await visitor(
        site,
        token=ann_welcome["token"],
        conversation_id=ann_welcome["conversation_id"],
        last_seq=0,
        identity=signed("bob", "Bob"),
    )
    await bob.drain()
    assert bob_welcome["visitor_id"] != ann_welcome["visitor_id"]
    assert bob_welcome["conversation_id"] != ann_welcome["conversation_id"]
    assert bob.messages() == []  # not one of Ann's messages
    assert errors(bob) == []  # a switch of user, not an attack: no error to show
    # Signed out on the same browser: nobody's chat (Bob's token is bound to Bob now).
    anon, anon_welcome = await visitor(
        site, token=bob_welcome["token"], conversation_id=bob_welcome["conversation_id"]
    )
    assert anon_welcome["visitor_id"] not in (ann_welcome["visitor_id"], bob_welcome["visitor_id"])
    await anon.drain()
    assert anon.messages() == []
    await bob.close()
    await anon.close()


async def test_a_signed_users_conversation_follows_them_to_another_device(site: Server) -> None:
    laptop, first = await visitor(site, identity=signed("ann", "Ann"))
    await ask(laptop, "how much is postage?")
    await laptop.close()
    phone, second = await visitor(site, identity=signed("ann", "Ann"))  # no token: a new device
    assert (second["visitor_id"], second["conversation_id"]) == (
        first["visitor_id"],
        first["conversation_id"],
    )
    history = await phone.expect(lambda f: f.get("type") == "message" and f["sender"] == "bot")
    assert "€4.95" in history["text"]
    # Another device's anonymous token does not hide the user's chat either.
    stranger, anon = await visitor(site)
    await stranger.close()
    tablet, third = await visitor(site, token=anon["token"], identity=signed("ann", "Ann"))
    assert third["conversation_id"] == first["conversation_id"]
    await phone.close()
    await tablet.close()


async def test_a_chat_begun_before_signing_in_continues_as_the_users(site: Server) -> None:
    client, before = await visitor(site, name="guest")
    await ask(client, "how much is postage?")
    await client.close()
    after_login, after = await visitor(
        site,
        token=before["token"],
        conversation_id=before["conversation_id"],
        identity=signed("cy", "Cy", "cy@example.com"),
    )
    assert (after["visitor_id"], after["conversation_id"]) == (
        before["visitor_id"],
        before["conversation_id"],
    )
    rows = await db_rows(site, "SELECT user_id, verified_name FROM visitors")
    assert [(r.user_id, r.verified_name) for r in rows] == [("cy", "Cy")]
    await after_login.close()


async def test_the_page_url_is_stored_without_query_or_fragment(site: Server) -> None:
    client, welcome = await visitor(
        site, page_url="https://shop.example/reset?token=s3cr3t&code=abc#access_token=xyz"
    )
    await client.close()
    shown = await profile_as_agents_see_it(site, welcome["conversation_id"])
    assert shown["page_url"] == "https://shop.example/reset"


async def test_the_page_url_keeps_its_query_when_the_operator_says_so(
    database_url: str,
) -> None:
    async with run_server(make_settings(database_url, keep_page_query=True)) as server:
        client, _ = await visitor(server, page_url="https://u:p@shop.example/search?q=boots#top")
        await client.close()
        rows = await db_rows(server, "SELECT page_url FROM visitors")
    assert [r.page_url for r in rows] == ["https://shop.example/search?q=boots#top"]
