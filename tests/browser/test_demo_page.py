"""The demo page's chat box works for a person in a real browser."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, expect

from tests.conftest import Server


async def test_visitor_gets_an_answer_and_reaches_a_person(
    server: Server, browser: Browser, artifacts: Path
) -> None:
    page = await browser.new_page()
    await page.goto(server.base_url + "/demo")
    await expect(page.locator("#status")).to_have_text("Connected.")
    await page.fill("#text", "how much is postage?")
    await page.press("#text", "Enter")
    await expect(page.locator(".msg.bot")).to_contain_text("€4.95")

    await page.click("#human")
    await expect(page.locator("#status")).to_contain_text("Ticket #")
    await page.screenshot(path=str(artifacts / "demo-page.png"))

    await page.reload()
    await expect(page.locator(".msg.bot")).to_contain_text("€4.95")  # history survives reload
    await page.close()
