"""Issue 16 in Chromium: a long wait in the queue offers a ticket by e-mail or to keep waiting,
and the ticket's promised time reads the same in the promise and on the widget's ticket line."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, expect

from tests.browser.widget_page import bubbles, online_agent, open_panel, open_shop
from tests.conftest import Server, make_settings, run_server, seed_kb


@pytest.fixture
async def offering_server(database_url: str) -> AsyncIterator[Server]:
    await seed_kb(database_url)
    settings = make_settings(
        database_url,
        queue_offer_ticket_after_s=0.3,
        queue_ticket_after_s=3600,
        queue_timeout_sweep_s=0.05,
        business_timezone="Europe/Vienna",
    )
    async with run_server(settings) as srv:
        yield srv


async def test_the_offer_keep_waiting_or_a_ticket_that_promises_one_time(
    offering_server: Server, browser: Browser
) -> None:
    alice, _ = await online_agent(offering_server, "Alice")  # online: escalations queue

    # One visitor keeps waiting: the offer goes, their place in the queue stays.
    patient, page = await open_shop(browser, offering_server)
    await open_panel(page)
    await page.get_by_role("button", name="Talk to a person").click()
    offer = page.locator("chatdesk-widget .offer")
    await expect(offer).to_contain_text("everyone is still busy")
    await offer.get_by_role("button", name="Keep waiting").click()
    await expect(offer).to_have_count(0)
    await expect(page.locator("chatdesk-widget .stat")).to_contain_text("number 1 in the queue")

    # Another, in a browser on New York time, takes the ticket.
    eager, page = await open_shop(browser, offering_server, timezone_id="America/New_York")
    await open_panel(page)
    await page.get_by_role("button", name="Talk to a person").click()
    offer = page.locator("chatdesk-widget .offer")
    await offer.get_by_role("textbox").fill("eve@example.com")
    await offer.get_by_role("button", name="Get a ticket").click()
    status = page.locator("chatdesk-widget .stat")
    await expect(status).to_contain_text("A person will reply by")
    await expect(status).to_contain_text("Central European")  # the business's clock, named
    line = await status.inner_text()
    when = line.split("A person will reply by ", 1)[1].split(". You will see", 1)[0]
    promise = bubbles(page, "system").filter(has_text="opened ticket")
    await expect(promise).to_contain_text(when)  # the very same words for the same time
    await expect(page.locator("chatdesk-widget .extra input")).to_have_value("eve@example.com")
    for context in (patient, eager):
        await context.close()
    await alice.close()
