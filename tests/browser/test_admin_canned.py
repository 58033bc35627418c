"""Canned replies that earn automation in Chromium (issue 15): an agent answers with a canned
reply from the console's /shortcut menu, the chat closes rated 5, and in /admin → Canned
replies the reply now meets the threshold; one click makes it the bot's FAQ entry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from app.db import make_engine, make_sessionmaker
from handoff import canned, canned_stats, visitors
from handoff.messages import append_message
from handoff.models import Conversation, MessageRow, Sender, utcnow
from handoff.states import ConversationState
from tests.browser.admin_page import open_admin, seed_team
from tests.client import visitor
from tests.conftest import Server, make_settings, run_server, seed_kb

GIFT = "We gift-wrap any order for free: tick \"gift wrap\" at checkout."


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[Server]:
    await seed_kb(database_url)
    settings = make_settings(
        database_url, canned_automation_min_uses=3, canned_automation_success_percent=100
    )
    async with run_server(settings) as srv:
        yield srv


async def seed_uses(server: Server, questions: list[str]) -> None:
    """The gift-wrap reply, already used (and ended well) once per question."""
    engine = make_engine(server.settings.database_url)
    try:
        async with make_sessionmaker(engine)() as s:
            reply = await canned.create(
                session=s, shortcut="giftwrap", title="Gift wrap", text=GIFT
            )
            await canned.create(session=s, shortcut="hours", title="Hours", text="9 to 5.")
            for question in questions:
                v = await visitors.create_visitor(session=s)
                conv = Conversation(
                    visitor_id=v.id, state=ConversationState.CLOSED, closed_at=utcnow()
                )
                s.add(conv)
                await s.flush()
                await append_message(
                    session=s, conversation_id=conv.id, sender=Sender.VISITOR, text=question
                )
                msg = await append_message(
                    session=s, conversation_id=conv.id, sender=Sender.AGENT, text=GIFT
                )
                await s.commit()
                await canned_stats.record_use(
                    session=s, canned_reply_id=reply.id, message=MessageRow.of(msg)
                )
    finally:
        await engine.dispose()


async def test_a_canned_reply_used_in_the_console_is_automated_in_admin(
    server: Server, browser: Browser, artifacts: Path
) -> None:
    await seed_team(server)
    await seed_uses(server, ["Do you offer gift wrapping?", "can you gift wrap my order"])
    page = await open_admin(browser, server)

    # In the console: the visitor asks, wants a person; Ada answers with /giftwrap and closes.
    await page.goto(server.base_url + "/agent")
    await expect(page.locator("#conn")).to_have_text("Connected")
    client, welcome = await visitor(server)
    cid = welcome["conversation_id"]
    await client.say("Is gift wrapping available?")
    await client.expect(lambda f: f.get("type") == "message" and f["sender"] != "visitor")
    await client.send({"type": "handoff", "client_msg_id": "h1"})
    await client.expect_type("state", state="queued")
    await page.click(f"#list-queued button[data-id='{cid}']")
    await page.click("#take")
    await client.expect_type("state", state="assigned")
    await page.click("#text")
    await page.keyboard.type("/gift")
    # Wait for the menu to filter down to the one match (it lists every reply after "/").
    await expect(page.locator("#canned-menu .canned-item")).to_have_count(1)
    await expect(page.locator("#canned-menu .canned-item")).to_contain_text("/giftwrap")
    await page.keyboard.press("Enter")
    await expect(page.locator("#text")).to_have_value(GIFT)
    await page.keyboard.press("Enter")
    reply = await client.expect(lambda f: f.get("type") == "message" and f["sender"] == "agent")
    assert reply["text"] == GIFT
    await page.click("#close")
    await client.expect_type("state", state="closed")
    await client.send({"type": "rating", "stars": 5})
    await client.expect_type("rating_saved")
    await client.close()

    # In /admin: three uses, all ended well: offered; one click makes the FAQ entry.
    await page.goto(server.base_url + "/admin#canned")
    section = page.locator("#canned")
    rule = section.locator("#canned-rule")
    await expect(rule).to_contain_text("100 % of the time over at least 3")
    gift = section.locator("tr", has=page.locator("code", has_text="/giftwrap"))
    await expect(gift.locator("td.num")).to_have_text(["3", "3", "100 %"])
    hours = section.locator("tr", has=page.locator("code", has_text="/hours"))
    await expect(hours).to_contain_text("3 more uses needed")
    await page.screenshot(path=str(artifacts / "admin-canned.png"), full_page=True)
    await gift.locator("button.canned-automate").click()
    await expect(section.locator("#canned-status")).to_contain_text(
        "/giftwrap is now the FAQ entry canned-giftwrap with 3 visitor questions"
    )
    await expect(gift.locator(".canned-automated")).to_have_text("FAQ entry canned-giftwrap")
    await page.screenshot(path=str(artifacts / "admin-canned-automated.png"), full_page=True)
    await page.goto(server.base_url + "/admin#kb")
    await expect(page.locator("#kb-rows")).to_contain_text("canned-giftwrap")
    await page.context.close()
