"""The agent console in a real Chromium: two agents, a live queue, take, canned reply, note,
transfer, close. A visitor on a real websocket is on the other end."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, Page, expect

from app.db import make_engine, make_sessionmaker
from handoff import agents, canned
from tests.client import visitor
from tests.conftest import AGENT_PASSWORD, Server

CANNED_TEXT = "Standard shipping takes 2-4 working days; you'll get a tracking link by e-mail."


async def seed(server: Server) -> None:
    engine = make_engine(server.settings.database_url)
    try:
        async with make_sessionmaker(engine)() as s:
            await agents.create_agent(
                session=s, email="alice@x.io", name="Alice", password=AGENT_PASSWORD, is_admin=True
            )
            await agents.create_agent(
                session=s, email="bob@x.io", name="Bob", password=AGENT_PASSWORD
            )
            await canned.create(
                session=s, shortcut="shipping", title="Shipping times", text=CANNED_TEXT
            )
    finally:
        await engine.dispose()


async def log_in(browser: Browser, server: Server, email: str) -> Page:
    page = await (await browser.new_context(viewport={"width": 1400, "height": 860})).new_page()
    await page.goto(server.base_url + "/agent")
    await page.fill("#email", email)
    await page.fill("#password", AGENT_PASSWORD)
    await page.click("#login button[type=submit]")
    await expect(page.locator("#conn")).to_have_text("Connected")
    return page


async def test_two_agents_take_reply_note_transfer_close(
    server: Server, browser: Browser, artifacts: Path
) -> None:
    await seed(server)
    alice = await log_in(browser, server, "alice@x.io")
    bob = await log_in(browser, server, "bob@x.io")
    await expect(alice.locator("#count-queued")).to_have_text("0")

    client, welcome = await visitor(server, name="Dana", page_url="https://shop.example/cart")
    cid = welcome["conversation_id"]
    await client.say("how much is postage?")
    await client.expect(lambda f: f.get("type") == "message" and f["sender"] == "bot")
    await client.send({"type": "handoff", "client_msg_id": "h1"})
    await client.expect_type("state", state="queued")

    # Both consoles see the new chat at once, with the tab title telling.
    for page in (alice, bob):
        await expect(page.locator(f"#list-queued button[data-id='{cid}']")).to_be_visible()
        await expect(page).to_have_title("(1 waiting) chatdesk console")

    await alice.click(f"#list-queued button[data-id='{cid}']")
    await expect(alice.locator("#transcript .msg.bot")).to_contain_text("€4.95")
    await expect(alice.locator("#transcript .msg.bot .meta")).to_contain_text("shipping-cost")
    await expect(alice.locator("#profile")).to_contain_text("Dana")
    await expect(alice.locator("#profile")).to_contain_text("asked for human")
    await alice.click("#take")
    # Taken by Alice: gone from Bob's queue, in Alice's own list.
    await expect(bob.locator(f"#list-queued button[data-id='{cid}']")).to_have_count(0)
    await expect(bob).to_have_title("chatdesk console")
    await expect(alice.locator(f"#list-mine button[data-id='{cid}']")).to_be_visible()
    state = await client.expect_type("state", state="assigned")
    assert state["agent"]["name"] == "Alice"

    # The visitor's draft shows live before they send it.
    await client.send({"type": "typing", "draft": "where is my parc"})
    await expect(alice.locator("#visitor-typing")).to_contain_text("where is my parc")

    # Canned reply by /shortcut.
    await alice.click("#text")
    await alice.keyboard.type("/ship")
    # The visitor sees that Alice is typing.
    typing = await client.expect(lambda f: f.get("type") == "typing" and f["sender"] == "agent")
    assert typing["name"] == "Alice"
    await expect(alice.locator("#canned-menu .canned-item")).to_contain_text("/shipping")
    await alice.keyboard.press("Enter")
    await expect(alice.locator("#text")).to_have_value(CANNED_TEXT)
    await alice.keyboard.press("Enter")
    reply = await client.expect(lambda f: f.get("type") == "message" and f["sender"] == "agent")
    assert reply["text"] == CANNED_TEXT and reply["author"]["name"] == "Alice"
    await expect(alice.locator("#transcript .msg.agent")).to_contain_text("tracking link")

    # A private note: in the console, never at the visitor.
    await alice.check("#note-mode")
    await alice.fill("#text", "Customer sounds in a hurry; VIP.")
    await alice.keyboard.press("Enter")
    await expect(alice.locator("#transcript .msg.note")).to_contain_text("VIP")
    await alice.uncheck("#note-mode")

    # Transfer to Bob with a note.
    await alice.click("#transfer")
    await alice.select_option("#transfer-to", label="Bob (online, 0/3)")
    await alice.fill("#transfer-note", "Over to you: parcel question.")
    await alice.click("#transfer-ok")
    state = await client.expect_type("state", state="assigned")
    assert state["agent"]["name"] == "Bob"
    await expect(bob.locator(f"#list-mine button[data-id='{cid}']")).to_be_visible()
    await bob.click(f"#list-mine button[data-id='{cid}']")
    await expect(bob.locator("#transcript .msg.note").last).to_contain_text("Over to you")
    await expect(bob.locator("#transfer")).to_be_visible()
    await bob.fill("#text", "Hi, Bob here. Let me check your parcel.")
    await bob.keyboard.press("Enter")
    await expect(bob.locator("#transcript .msg.agent").last).to_contain_text("Bob here")
    await bob.screenshot(path=str(artifacts / "console.png"), full_page=True)

    await bob.click("#close")
    rating = await client.expect(
        lambda f: f.get("type") == "message" and f["meta"].get("kind") == "rating_request"
    )
    assert rating["sender"] == "system"
    await client.expect_type("state", state="closed")
    await expect(bob.locator("#reopen")).to_be_visible()
    await expect(bob.locator(f"#list-mine button[data-id='{cid}']")).to_have_count(0)
    # The visitor never saw either private note.
    assert not any(m["sender"] == "note" for m in client.messages())
    assert not any("VIP" in m["text"] or "Over to you" in m["text"] for m in client.messages())
    await client.close()
    for page in (alice, bob):
        await page.context.close()


async def test_wrong_password_is_refused_and_logout_returns_to_login(
    server: Server, browser: Browser
) -> None:
    await seed(server)
    page = await (await browser.new_context()).new_page()
    await page.goto(server.base_url + "/agent")
    await page.fill("#email", "alice@x.io")
    await page.fill("#password", "not the password")
    await page.click("#login button[type=submit]")
    await expect(page.locator("#login-error")).to_have_text("Wrong e-mail or password.")
    await page.fill("#password", AGENT_PASSWORD)
    await page.click("#login button[type=submit]")
    await expect(page.locator("#me-name")).to_have_text("Alice (admin)")
    await page.click("#logout")
    await expect(page.locator("#login")).to_be_visible()
    await page.context.close()
