"""The chat bubble never loses or doubles a message: reloads, tabs, offline, dropped sockets."""

from __future__ import annotations

import asyncio

from playwright.async_api import Browser, Page, expect

from tests.browser.widget_page import (
    bubbles,
    db_scalar,
    launcher,
    open_panel,
    open_shop,
    panel,
    say,
)
from tests.conftest import Server

VISIBLE = "sender <> 'note'"


async def visible_count(server: Server) -> int:
    return int(await db_scalar(server, f"SELECT count(*) FROM messages WHERE {VISIBLE}"))


async def stored(server: Server, text: str) -> int:
    return int(await db_scalar(
        server, "SELECT count(*) FROM messages WHERE sender = 'visitor' AND text = :t", t=text
    ))


async def expect_in_sync(page: Page, server: Server) -> None:
    """Every stored message is on screen exactly once, and nothing else is."""
    await expect(page.locator("chatdesk-widget .ft", has_text="Sending")).to_have_count(0)
    await expect(bubbles(page)).to_have_count(await visible_count(server))
    seqs = await page.evaluate(
        """() => [...document.querySelector('chatdesk-widget').shadowRoot
                   .querySelectorAll('.log .m')].map(el => el._r.seq)"""
    )
    assert seqs == sorted(set(seqs)), seqs  # in order, no duplicate


async def test_reload_and_other_pages_keep_the_conversation(
    server: Server, browser: Browser
) -> None:
    context, page = await open_shop(browser, server)
    await open_panel(page)
    await say(page, "how much is postage?")
    await expect(bubbles(page, "bot").last).to_contain_text("€4.95")
    token = await page.evaluate(
        "Object.keys(localStorage).filter(k => k.endsWith(':token')).length"
    )
    assert token == 1, "the visitor token lives in localStorage"

    await page.reload()
    await expect(panel(page)).to_be_visible()  # the panel stays open across page loads
    await expect(bubbles(page, "bot").last).to_contain_text("€4.95")
    await open_panel(page)
    await expect_in_sync(page, server)

    # Even with the cached copy gone, the server replays the history from seq 0.
    await page.evaluate(
        "Object.keys(localStorage).filter(k => k.endsWith(':msgs'))"
        ".forEach(k => localStorage.removeItem(k))"
    )
    await page.reload()
    await expect(bubbles(page, "bot").last).to_contain_text("€4.95")
    await expect_in_sync(page, server)

    # Another tab of the same site continues the same conversation.
    other = await context.new_page()
    await other.goto(server.base_url + "/?page=help")
    await launcher(other).click()
    await expect(bubbles(other, "bot").last).to_contain_text("€4.95")
    await say(other, "and how long does delivery take?")
    await expect(bubbles(other, "bot").last).to_contain_text("2-4 working days")
    await expect(bubbles(page, "bot").last).to_contain_text("2-4 working days")  # live in both
    assert await db_scalar(server, "SELECT count(*) FROM conversations") == 1
    await context.close()


async def test_offline_messages_are_sent_once_when_back(server: Server, browser: Browser) -> None:
    context, page = await open_shop(browser, server)
    await open_panel(page)
    await context.set_offline(True)
    await expect(page.locator("chatdesk-widget .conn")).to_contain_text("Offline")
    queued = ["first while offline", "second while offline", "third while offline"]
    for text in queued:
        await say(page, text)
    await expect(page.locator("chatdesk-widget .ft", has_text="Sending")).to_have_count(3)
    await asyncio.sleep(1)
    assert [await stored(server, t) for t in queued] == [0, 0, 0]

    # Back online and on a fresh page load at once: whichever page sends the queued frames
    # (they are kept in localStorage until acked), each message is stored exactly once.
    await context.set_offline(False)
    await page.reload()
    await open_panel(page)
    await expect(page.locator("chatdesk-widget .ft", has_text="Sending")).to_have_count(0)
    assert [await stored(server, t) for t in queued] == [1, 1, 1]
    visitor_texts = await bubbles(page, "visitor").locator(".b").all_inner_texts()
    assert visitor_texts == queued
    await expect_in_sync(page, server)
    await context.close()


async def test_no_duplicate_or_missing_bubble_after_many_drops(
    server: Server, browser: Browser
) -> None:
    context, page = await open_shop(browser, server)
    await open_panel(page)
    hub = server.app.state.hub  # type: ignore[attr-defined]

    async def drop_visitor_sockets() -> None:
        for conn in list(hub.connections):
            if not conn.for_agent:
                await conn.close(1012, "test: server restarting")

    questions = [
        "how much is postage?", "Can I return an item?", "Which payment methods do you accept?",
        "How do I reset my password?", "Can I cancel my order?", "Where can I find the size guide?",
    ]
    for question in questions:
        await say(page, question)
        await drop_visitor_sockets()  # mid-flight: the ack, the answer or both are lost
        await asyncio.sleep(0.2)
        await drop_visitor_sockets()  # and again while it reconnects
    await expect(page.locator("chatdesk-widget .conn")).to_have_text("Online")
    await expect(bubbles(page, "bot")).to_have_count(len(questions), timeout=30_000)
    assert [await stored(server, q) for q in questions] == [1] * len(questions)
    await expect_in_sync(page, server)
    visitor_texts = await bubbles(page, "visitor").locator(".b").all_inner_texts()
    assert visitor_texts == questions
    await context.close()
