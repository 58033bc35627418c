"""The chat bubble on the demo shop: answers, feedback, clarification, handover, ticket, rating."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from app.identity import sign_identity
from tests.browser.widget_page import (
    UI_TIMEOUT_MS,
    bubbles,
    db_rows,
    db_scalar,
    eventually,
    launcher,
    online_agent,
    open_panel,
    open_shop,
    panel,
    say,
    take_queued,
)
from tests.conftest import Inbox, Server, make_settings, run_server, seed_kb

IDENTITY_SECRET = "site-secret-" + "d" * 32

NEVER_SURE = 1.01  # an answer threshold above any score: the bot clarifies whatever it is asked


@pytest.fixture
async def unsure_server(database_url: str) -> AsyncIterator[Server]:
    """chatdesk whose bot never answers outright, so every question gets "Did you mean"."""
    await seed_kb(database_url)
    async with run_server(make_settings(database_url, answer_threshold=NEVER_SURE)) as srv:
        yield srv


async def test_bot_answers_with_links_feedback_and_clarification(
    server: Server, browser: Browser, artifacts: Path
) -> None:
    context, page = await open_shop(browser, server)
    await expect(panel(page)).to_be_hidden()
    await open_panel(page)
    # The demo page sets its title only: the greeting is the saved one (/admin), else ours.
    await expect(page.locator("chatdesk-widget .greet")).to_contain_text("Ask us anything")

    await say(page, "how much is postage?")
    mine = bubbles(page, "visitor").last
    await expect(mine).to_contain_text("how much is postage?")
    await expect(mine.locator(".ft")).to_contain_text("Sent")
    answer = bubbles(page, "bot").last
    await expect(answer).to_contain_text("€4.95")
    await expect(answer.locator(".who")).to_have_text("Assistant")
    await expect(answer.locator("time")).to_have_count(1)

    # "Was this helpful?" -> stored against that bot message.
    await answer.get_by_role("button", name="Yes").click()
    await expect(answer.locator(".fb")).to_have_text("Thanks for your feedback!")
    stored = await eventually(
        lambda: db_rows(server, "SELECT seq, helpful FROM message_feedback")
    )
    bot_seq = await db_scalar(server, "SELECT max(seq) FROM messages WHERE sender = 'bot'")
    assert [(r.seq, bool(r.helpful)) for r in stored] == [(bot_seq, True)]

    # A link in a bot answer is a real link; the rest stays text.
    await say(page, "Can I return an item?")
    link = bubbles(page, "bot").last.locator("a")
    await expect(link).to_have_attribute("href", "https://shop.example.com/returns")
    await expect(link).to_have_attribute("rel", "noopener noreferrer nofollow")
    await bubbles(page, "bot").last.get_by_role("button", name="No").click()
    await eventually(lambda: db_scalar(
        server, "SELECT count(*) FROM message_feedback WHERE helpful = :f", f=False
    ))

    # Nobody online: "Talk to a person" becomes a ticket with a promise and an e-mail field.
    await page.get_by_role("button", name="Talk to a person").click()
    status = page.locator("chatdesk-widget .stat")
    await expect(status).to_contain_text("A person will reply")
    email = page.locator("chatdesk-widget .extra input[type=email]")
    await email.fill("visitor@example.com")
    await email.press("Enter")
    await expect(bubbles(page, "system").last).to_contain_text("visitor@example.com")
    assert await db_scalar(server, "SELECT email FROM visitors") == "visitor@example.com"
    await page.screenshot(path=str(artifacts / "widget-ticket.png"))
    await expect(page.get_by_role("button", name="Talk to a person")).to_be_hidden()
    await context.close()


async def test_did_you_mean_buttons_and_none_of_these(
    unsure_server: Server, browser: Browser, artifacts: Path
) -> None:
    server = unsure_server
    context, page = await open_shop(browser, server)
    await open_panel(page)
    await say(page, "How long do refunds take?")
    options = page.locator("chatdesk-widget .opts").first
    await expect(options.get_by_role("button", name="None of these")).to_be_visible()
    await page.screenshot(path=str(artifacts / "widget-clarify.png"))
    await options.get_by_role("button", name="When will I get my refund?").click()
    await expect(bubbles(page, "visitor").last).to_contain_text("When will I get my refund?")
    await expect(bubbles(page, "bot").last).to_contain_text("5 working days")
    await expect(options.get_by_role("button", name="None of these")).to_be_disabled()
    assert await db_scalar(
        server, "SELECT count(*) FROM messages WHERE sender = 'visitor'"
    ) == 2

    await say(page, "Can I return an item?")
    options = page.locator("chatdesk-widget .opts").nth(1)
    await options.get_by_role("button", name="None of these").click()
    await expect(bubbles(page, "system").last).to_contain_text("ticket")
    await expect(page.locator("chatdesk-widget .stat")).to_contain_text("A person will reply")
    await context.close()


async def test_handover_queue_agent_reply_typing_close_and_rating(
    server: Server, browser: Browser, artifacts: Path
) -> None:
    alice, token = await online_agent(server, "Alice")
    context, page = await open_shop(browser, server)
    await open_panel(page)
    await page.get_by_role("button", name="Talk to a person").click()
    status = page.locator("chatdesk-widget .stat")
    await expect(status).to_contain_text(r"number 1 in the queue")
    await page.screenshot(path=str(artifacts / "widget-queued.png"))

    conversation_id = await take_queued(server, token)
    await expect(status).to_contain_text("You are chatting with Alice")
    await alice.send({"type": "watch", "conversation_id": conversation_id, "last_seq": 0})
    await alice.send({"type": "typing", "conversation_id": conversation_id})
    await expect(page.locator("chatdesk-widget .typing")).to_have_text("Alice is typing…")
    await alice.send({
        "type": "message", "conversation_id": conversation_id,
        "client_msg_id": "alice-1", "text": "Hi, I'm Alice. How can I help?",
    })
    reply = bubbles(page, "agent").last
    await expect(reply).to_contain_text("How can I help?")
    await expect(reply.locator(".who")).to_contain_text("Alice")
    await expect(page.locator("chatdesk-widget .typing")).to_have_text("")

    # While a person holds the chat, the visitor's draft reaches the agent as a preview.
    await page.locator("chatdesk-widget #cd-text").press_sequentially("my parcel is")
    await alice.expect(
        lambda f: f.get("type") == "typing" and f.get("draft") == "my parcel is"
    )
    await say(page, "my parcel is late")
    await alice.expect(
        lambda f: f.get("type") == "message" and f.get("text") == "my parcel is late"
    )
    await page.screenshot(path=str(artifacts / "widget-agent.png"))

    # The agent closes: the visitor rates 1-5 stars with an optional comment.
    async with server.http(token) as http:
        (await http.post(f"/api/agent/conversations/{conversation_id}/close")).raise_for_status()
    rating = page.locator("chatdesk-widget .rate")
    await expect(rating).to_be_visible()
    await rating.get_by_role("radio", name="4 of 5 stars").check()
    await rating.locator("textarea").fill("Quick and friendly")
    await page.screenshot(path=str(artifacts / "widget-rating.png"))
    await rating.get_by_role("button", name="Send rating").click()
    await expect(page.locator("chatdesk-widget .extra")).to_contain_text("Thank you")
    rows = await eventually(lambda: db_rows(server, "SELECT stars, comment FROM ratings"))
    assert [(r.stars, r.comment) for r in rows] == [(4, "Quick and friendly")]
    await alice.close()
    await context.close()


async def test_unread_badge_and_panel_state_across_pages(server: Server, browser: Browser) -> None:
    alice, token = await online_agent(server, "Alice")
    context, page = await open_shop(browser, server)
    await open_panel(page)
    await page.get_by_role("button", name="Talk to a person").click()
    conversation_id = await take_queued(server, token)
    await expect(page.locator("chatdesk-widget .stat")).to_contain_text("Alice")

    # Open stays open on the next page of the shop, and the conversation continues there.
    await page.goto(server.base_url + "/?page=boots")
    await expect(panel(page)).to_be_visible()
    await page.get_by_role("button", name="Close chat").click()
    await expect(panel(page)).to_be_hidden()
    await expect(launcher(page)).to_be_focused()
    await page.goto(server.base_url + "/?page=jackets")
    await expect(panel(page)).to_be_hidden()

    for n in (1, 2):
        await alice.send({
            "type": "message", "conversation_id": conversation_id,
            "client_msg_id": f"alice-{n}", "text": f"Update {n}",
        })
    badge = page.locator("chatdesk-widget .badge")
    await expect(badge).to_have_text("2")
    await expect(launcher(page)).to_have_attribute("aria-label", "Open chat, 2 unread")
    await launcher(page).click()
    await expect(badge).to_be_hidden()
    await expect(bubbles(page, "agent")).to_have_count(2)
    await alice.close()
    await context.close()


async def test_transcript_by_email_after_close(
    database_url: str, browser: Browser, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    await seed_kb(database_url)
    settings = make_settings(
        database_url, smtp_host="127.0.0.1", smtp_port=port, identity_secret=IDENTITY_SECRET
    )
    async with run_server(settings) as server:
        alice, token = await online_agent(server, "Alice")
        # Dana is signed in to the shop, which vouches for her address: a transcript may go there.
        context = await browser.new_context()
        context.set_default_timeout(UI_TIMEOUT_MS)
        expires = int(time.time()) + 600
        identity = {
            "user_id": "dana", "email": "dana@example.com", "expires": expires,
            "signature": sign_identity(
                secret=IDENTITY_SECRET, user_id="dana", email="dana@example.com", expires=expires
            ),
        }
        config = json.dumps({"identity": identity})
        await context.add_init_script(f"window.chatdeskConfig = {config};")
        page = await context.new_page()
        await page.goto(server.base_url + "/")
        await open_panel(page)
        await say(page, "how much is postage?")
        await expect(bubbles(page, "bot").last).to_contain_text("€4.95")
        await page.get_by_role("button", name="Talk to a person").click()
        conversation_id = await take_queued(server, token)
        async with server.http(token) as http:
            r = await http.post(f"/api/agent/conversations/{conversation_id}/close")
            assert r.status_code == 200

        # Rating first: the transcript form stays until it is used.
        rating = page.locator("chatdesk-widget .rate")
        await rating.get_by_role("radio", name="5 of 5 stars").check()
        await rating.get_by_role("button", name="Send rating").click()
        form = page.locator("chatdesk-widget .tr")
        address = form.get_by_label("E-mail me this conversation")
        await expect(address).to_have_value("dana@example.com")  # her signed address, offered
        # Anyone else's address is refused, with a reason the visitor can read.
        await address.fill("someone@else.example")
        await form.get_by_role("button", name="Save").click()
        await expect(page.locator("chatdesk-widget p.err[role=alert]")).to_contain_text(
            "your own address"
        )
        await address.fill("dana@example.com")
        await form.get_by_role("button", name="Save").click()
        await expect(form).to_contain_text("We sent the conversation to dana@example.com")

        mail = await inbox.next()
        assert mail["To"] == "dana@example.com"
        assert "€4.95" in mail.get_content()
        await alice.close()
        await context.close()
