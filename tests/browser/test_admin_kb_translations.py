"""An entry's translation in the admin console (issue 17): pick a language, write the question,
variants and answer in it, save; the list shows the language, the editor shows it again, and a
visitor writing in that language gets it."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, expect

from tests.browser.admin_page import open_admin, seed_team
from tests.browser.test_admin_kb import ask, kb_ready
from tests.browser.widget_page import UI_TIMEOUT_MS
from tests.conftest import Server

CZECH_Q = "Kolik stojí doprava?"
CZECH_A = "Standardní doprava stojí 4,95 €, nad 60 € je zdarma."
PERSIAN_A = "ارسال عادی ۴٫۹۵ یورو است و برای سفارش‌های بالای ۶۰ یورو رایگان است."


async def test_an_admin_adds_a_translation_and_a_visitor_gets_it(
    server: Server, browser: Browser, artifacts: Path
) -> None:
    await seed_team(server)
    page = await open_admin(browser, server)
    page.set_default_timeout(UI_TIMEOUT_MS)
    await kb_ready(page)
    row = page.locator("#kb-rows tr[data-id='shipping-cost']")
    await row.locator("text=Edit").click()
    await expect(page.locator("#kb-f-lang")).to_have_value("")  # the KB's own language first
    await expect(page.locator("#kb-f-question")).to_have_value("How much does shipping cost?")

    await page.select_option("#kb-f-lang", "cs")
    await expect(page.locator("#kb-f-question")).to_have_value("")
    await expect(page.locator("#kb-f-lang-hint")).to_contain_text("Not translated yet")
    await page.fill("#kb-f-question", CZECH_Q)
    await page.fill("#kb-f-answer", CZECH_A)
    await page.fill("#kb-f-variants", "Jaké je poštovné?\nJe doprava zdarma?")
    await page.click("#kb-save")
    await expect(page.locator("#kb-editor")).to_be_hidden()
    await expect(row.locator(".kb-lang")).to_have_text(["cs"])

    # A second one, right to left, through "Another language…".
    await row.locator("text=Edit").click()
    await page.select_option("#kb-f-lang", "*")
    await page.fill("#kb-f-lang-other", "fa")
    await page.locator("#kb-f-lang-other").dispatch_event("change")
    await page.fill("#kb-f-question", "هزینه ارسال چقدر است؟")
    await page.fill("#kb-f-answer", PERSIAN_A)
    await page.click("#kb-save")
    await expect(row.locator(".kb-lang")).to_have_text(["cs", "fa"])
    await kb_ready(page)

    # The editor shows the saved translation again.
    await row.locator("text=Edit").click()
    await page.select_option("#kb-f-lang", "cs")
    await expect(page.locator("#kb-f-question")).to_have_value(CZECH_Q)
    await expect(page.locator("#kb-f-answer")).to_have_value(CZECH_A)
    variants = "Jaké je poštovné?\nJe doprava zdarma?"
    await expect(page.locator("#kb-f-variants")).to_have_value(variants)
    await expect(page.locator("#kb-f-lang-delete")).to_be_visible()
    await expect(page.locator("#kb-f-lang-hint")).to_contain_text("get this translation")
    await page.locator("#kb-editor").scroll_into_view_if_needed()
    await page.screenshot(path=str(artifacts / "admin-kb-translations.png"), full_page=True)

    token = await page.evaluate("sessionStorage.getItem('chatdesk.agentToken')")
    async with server.http(token) as http:  # stored as saved
        r = await http.get("/api/admin/kb/shipping-cost")
        assert [t["lang"] for t in r.json()["translations"]] == ["cs", "fa"]

    reply = await ask(server, CZECH_Q)
    assert reply["sender"] == "bot" and reply["text"] == CZECH_A, reply
    assert reply["meta"]["answer_language"] == "cs"  # type: ignore[index]
