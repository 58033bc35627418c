"""The webhooks part of /admin → Integrations in Chromium (issue 18): an admin adds an endpoint
(its secret shown once), sends a test event that a real receiver gets, signed, and sees the
delivery in the log: the receiver's first answer a 500, the retry's a 204."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.browser.admin_page import open_admin, seed_team
from tests.conftest import Server, make_settings, run_server, seed_kb
from tests.webhook_receiver import Receiver, documented_verify


@pytest.fixture
async def quick_retry_server(database_url: str) -> AsyncIterator[Server]:
    await seed_kb(database_url)
    settings = make_settings(database_url, webhook_retry_base_s=0.5, webhook_retry_max_s=1)
    async with run_server(settings) as srv:
        yield srv


async def test_add_an_endpoint_send_a_test_event_and_see_it_in_the_log(
    quick_retry_server: Server, browser: Browser, artifacts: Path
) -> None:
    server = quick_retry_server
    await seed_team(server)
    page = await open_admin(browser, server)
    await page.goto(server.base_url + "/admin#integrations")
    part = page.locator("#webhooks")
    await expect(part.locator("table.webhooks")).to_contain_text("No webhooks yet")
    with Receiver(status_for=lambda n: 500 if n == 0 else 204) as receiver:
        form = part.locator("form.create-webhook")
        await form.locator("input[name=url]").fill(receiver.url)
        await form.locator("input[name=description]").fill("our CRM")
        await form.locator("input[value='ticket.created']").check()
        await form.locator("input[value='conversation.closed']").check()
        await form.locator("button[type=submit]").click()
        await expect(part.locator("[role=status]")).to_have_text(f"Added {receiver.url}.")
        secret = await part.locator(".webhook-secret code.secret").text_content()
        assert secret and secret.startswith("whsec_")
        row = part.locator(f"tr[data-url='{receiver.url}']")
        await expect(row).to_contain_text("conversation.closed, ticket.created")  # the docs order
        await expect(row).to_contain_text("our CRM")

        await row.locator("button.test").click()
        delivery = part.locator(".webhook-log tr.delivery")
        await expect(delivery).to_contain_text("webhook.test")
        await expect(delivery.locator("ol.attempts li").first).to_contain_text("HTTP 500")
        for _ in range(50):  # the retry comes within a second or so: look again as an admin would
            if await delivery.locator(".delivery-status").text_content() == "delivered":
                break
            await part.locator("button.refresh-log").click()
            await asyncio.sleep(0.2)
        await expect(delivery.locator(".delivery-status")).to_have_text("delivered")
        await expect(delivery.locator("ol.attempts li").nth(1)).to_contain_text("HTTP 204")
        got = await receiver.until(lambda rs: len(rs) >= 2)
        event = documented_verify()(secret, got[-1].headers, got[-1].body)
        assert event["type"] == "webhook.test"
        await expect(delivery).to_contain_text(event["id"])
        await expect(row).to_contain_text("1 delivered · 0 pending · 0 failed")
        await page.screenshot(path=str(artifacts / "admin-webhooks.png"), full_page=True)
