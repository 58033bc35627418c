"""The admin console's "Missed questions" in Chromium (issue 15): the bot misses, the admin
makes a new entry from the group (untick a stray question), the next visitor gets the answer,
and, after a reload, Undo in the recent actions takes it back."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, expect

from tests.browser.admin_page import ADMIN_EMAIL, open_admin, seed_team
from tests.browser.widget_page import UI_TIMEOUT_MS
from tests.conftest import AGENT_PASSWORD, Server
from tests.e2e.test_misses import FRIEND, VOUCHER, WEATHER, ask, built_at, rebuilt_after


async def test_missed_questions_become_an_entry_and_undo(
    server: Server, browser: Browser, artifacts: Path
) -> None:
    await seed_team(server)
    for text in (VOUCHER, FRIEND, WEATHER):
        await ask(server, text)
    page = await open_admin(browser, server)
    page.set_default_timeout(UI_TIMEOUT_MS)
    await page.click("a[data-tab=misses]")
    await expect(page.locator("#misses-count")).to_contain_text("3 open")
    gifts = page.locator(".miss-group", has=page.locator(".miss-text", has_text=VOUCHER))
    await expect(gifts.locator(".miss-target")).to_have_value("payment-methods")  # nearest
    await page.screenshot(path=str(artifacts / "admin-misses.png"), full_page=True)

    async with server.http() as http:
        login = await http.post(
            "/api/agent/login", json={"email": ADMIN_EMAIL, "password": AGENT_PASSWORD}
        )
    async with server.http(login.json()["token"]) as http:
        since = await built_at(http)
        stray = gifts.locator("li", has_text=FRIEND).locator("input[type=checkbox]")
        await stray.uncheck()  # only the voucher question goes into the new entry
        await gifts.locator(".miss-new-open").click()
        await expect(gifts.locator("input[name=question]")).to_have_value(VOUCHER)
        await gifts.locator("input[name=id]").fill("gift-cards")
        await gifts.locator("textarea[name=answer]").fill("Gift cards from €10 in our shop.")
        await page.screenshot(path=str(artifacts / "admin-misses-new-entry.png"), full_page=True)
        await gifts.locator(".miss-create").click()
        await expect(page.locator("#misses-toast")).to_contain_text("gift-cards created")
        await expect(page.locator("#misses-count")).to_contain_text("2 open")  # the stray stays
        since = (await rebuilt_after(http, since))["built_at"]
        answered = await ask(server, VOUCHER)
        assert answered["meta"]["entry_id"] == "gift-cards"  # type: ignore[index]

        await page.reload()  # the toast is gone; the recent actions keep the Undo
        await page.click("#misses-recent summary")
        await expect(page.locator("#misses-recent li")).to_have_text(
            ["1 question made into entry gift-cards Undo"]
        )
        await page.screenshot(path=str(artifacts / "admin-misses-recent.png"), full_page=True)
        await page.locator("#misses-recent .miss-undo").click()
        await expect(page.locator("#misses-toast")).to_contain_text("Undone")
        await expect(page.locator("#misses-recent")).to_be_hidden()
        await expect(page.locator("#misses-count")).to_contain_text("3 open")
        await rebuilt_after(http, since)
        assert (await http.get("/api/admin/kb/gift-cards")).status_code == 404
