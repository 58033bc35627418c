"""The hours and widget section of /admin in Chromium: an admin closes today so a visitor's
escalation becomes a ticket; an admin changes the greeting and colour, sees them in the live
preview (the real widget, no visitor created), saves, and a visitor on the demo shop gets them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.async_api import Browser, Page, expect

from tests.browser.admin_page import open_admin, seed_team
from tests.browser.widget_page import (
    bubbles,
    db_scalar,
    online_agent,
    open_panel,
    open_shop,
    run_axe,
)
from tests.client import visitor
from tests.conftest import Server

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
GREETING = "Welcome to Northwind! Ask about boots, sizes or your order."
ORANGE, ORANGE_RGB = "#aa3300", "rgb(170, 51, 0)"


async def open_settings(page: Page) -> None:
    await page.click(".tabs a[data-tab=settings]")
    await expect(page.locator("#hours-source")).not_to_be_empty()
    await expect(page.locator("#look-source")).not_to_be_empty()


async def test_admin_closes_today_and_the_next_escalation_is_a_ticket(
    server: Server, browser: Browser, artifacts: Path
) -> None:
    await seed_team(server)
    console, _ = await online_agent(server, "Cleo")  # someone online: open means queue
    first, _ = await visitor(server)
    await first.send({"type": "handoff", "client_msg_id": "h1"})
    await first.expect_type("state", state="queued")
    await first.close()

    page = await open_admin(browser, server)
    await open_settings(page)
    await expect(page.locator("#hours-source")).to_contain_text("environment")
    await expect(page.locator("#hours-source")).to_contain_text("Open around the clock")
    # Open only the day after tomorrow, 09:00-17:00 UTC: closed today.
    await page.uncheck("#hours-always")
    later = DAY_NAMES[(datetime.now(UTC).date() + timedelta(days=2)).weekday()]
    await page.get_by_role("button", name=f"Add {later} hours").click()
    await expect(page.get_by_label(f"{later} opens")).to_have_value("09:00")
    await page.fill("#hours-zone", "UTC")
    await page.fill("#hours-holiday-new", "2030-12-25")
    await page.get_by_role("button", name="Add holiday").click()
    await page.click("#hours-save")
    await expect(page.locator("#hours-status")).to_contain_text("Saved")
    await expect(page.locator("#hours-source")).to_contain_text("Closed now")
    await expect(page.locator("#hours-holidays")).to_contain_text("2030-12-25")
    await page.screenshot(path=str(artifacts / "admin-settings-hours.png"), full_page=True)

    # A bad change is refused with the reason, and changes nothing.
    await page.get_by_label(f"{later} closes").fill("08:00")
    await page.click("#hours-save")
    await expect(page.locator("#hours-error")).to_contain_text("not after it opens at 09:00")
    await page.get_by_label(f"{later} closes").fill("17:00")

    context, shop = await open_shop(browser, server)
    await open_panel(shop)
    await shop.locator("chatdesk-widget .hum").click()
    promise = bubbles(shop, "system").last
    await expect(promise).to_contain_text("We're closed at the moment")
    await expect(promise).to_contain_text("9:00\u202fAM (Coordinated Universal Time)")
    await shop.screenshot(path=str(artifacts / "admin-settings-ticket.png"))
    await context.close()
    await console.close()
    await page.context.close()


async def test_admin_previews_and_saves_the_look_that_visitors_then_see(
    server: Server, browser: Browser, artifacts: Path
) -> None:
    await seed_team(server)
    page = await open_admin(browser, server)
    await open_settings(page)
    preview = page.frame_locator("#look-preview")
    await expect(preview.locator("chatdesk-widget .panel")).to_be_visible()  # open, in preview

    await page.fill("#look-greeting", GREETING)
    await page.fill("#look-color", ORANGE)
    await page.fill("#look-title", "Northwind support")
    await expect(preview.locator("chatdesk-widget .greet")).to_have_text(GREETING)
    await expect(preview.locator("chatdesk-widget #cd-title")).to_have_text("Northwind support")
    header = preview.locator("chatdesk-widget header")
    await expect(header).to_have_css("background-color", ORANGE_RGB)
    await page.fill("#look-promise", "Ticket #{ticket_id} is open; a person replies by {when}.")
    await expect(page.locator("#look-promise-preview")).to_contain_text("Ticket #123 is open")
    # Nothing saved yet, and the preview made no visitor (nobody typed in it).
    async with server.http() as http:
        assert (await http.get("/api/widget/config")).json()["greeting"] is None
    assert await db_scalar(server, "SELECT count(*) FROM visitors") == 0

    await page.fill("#look-color", "orange")
    await page.click("#look-save")
    await expect(page.locator("#look-error")).to_contain_text("use #rrggbb")
    await page.fill("#look-color", ORANGE)
    await page.click("#look-save")
    await expect(page.locator("#look-status")).to_contain_text("Saved")
    await expect(page.locator("#look-source")).to_contain_text("Saved in the console")
    assert await run_axe(page) == []  # the section's form, labels and contrast
    await page.screenshot(
        path=str(artifacts / "admin-settings-widget.png"), full_page=True, animations="disabled"
    )

    context, shop = await open_shop(browser, server)
    await open_panel(shop)
    await expect(shop.locator("chatdesk-widget .greet")).to_have_text(GREETING)
    await expect(shop.locator("chatdesk-widget header")).to_have_css("background-color", ORANGE_RGB)
    # The demo page sets data-title itself: the page's own value wins over the saved one.
    await expect(shop.locator("chatdesk-widget #cd-title")).to_have_text("Northwind help")
    await shop.screenshot(path=str(artifacts / "admin-settings-visitor.png"), animations="disabled")
    await context.close()
    await page.context.close()
