"""The admin console's knowledge base in Chromium: edit an entry and a visitor gets the new
answer (formatted in the widget), import a broken file and see every line's problem, import a
good one, and "try a question"."""

from __future__ import annotations

import asyncio
from pathlib import Path

from playwright.async_api import Browser, Page, expect

from tests.browser.admin_page import open_admin, seed_team
from tests.browser.widget_page import UI_TIMEOUT_MS, bubbles, open_panel, open_shop, say
from tests.client import visitor
from tests.conftest import Server

NEW_ANSWER = (
    "Shipping is now free on every order!\n"
    "Details:\n"
    "- see [our shipping page](https://shop.example.com/shipping)\n"
    "- or write to [us](mailto:help@shop.example.com)\n"
    "Not a link: [x](javascript:alert(1))"
)
LINK_REL = "noopener noreferrer nofollow"


async def kb_ready(page: Page) -> None:
    await expect(page.locator("#kb-status")).to_have_attribute(
        "data-state", "ready", timeout=60_000
    )


async def ask(server: Server, text: str) -> dict[str, object]:
    client, _ = await visitor(server)
    await client.say(text)
    reply = await client.expect(
        lambda f: f.get("type") == "message" and f["sender"] in ("bot", "system")
    )
    await client.close()
    return reply


async def test_an_edit_is_what_the_next_visitor_is_answered(
    server: Server, browser: Browser, artifacts: Path
) -> None:
    await seed_team(server)
    page = await open_admin(browser, server)
    page.set_default_timeout(UI_TIMEOUT_MS)
    await expect(page.locator("#kb-rows tr")).to_have_count(8)
    await kb_ready(page)
    await expect(page.locator("#kb-status")).to_contain_text("8 entries")
    await expect(page.locator("#kb-status")).to_contain_text("calibrated")
    await page.screenshot(path=str(artifacts / "admin-kb.png"), full_page=True)

    await page.fill("#kb-search", "postage")  # a variant of shipping-cost
    await expect(page.locator("#kb-rows tr")).to_have_count(1)
    row = page.locator("#kb-rows tr[data-id='shipping-cost']")
    await row.locator("text=Edit").click()
    await expect(page.locator("#kb-f-id")).to_be_disabled()
    await page.fill("#kb-f-answer", NEW_ANSWER)
    await page.fill("#kb-f-variants", "How much is postage?\nWhat does delivery cost me?")
    await page.screenshot(path=str(artifacts / "admin-kb-edit.png"), full_page=True)
    await page.click("#kb-save")
    await expect(page.locator("#kb-editor")).to_be_hidden()
    await expect(row.locator(".kb-answer")).to_contain_text("Shipping is now free")
    await expect(row.locator(".kb-variants")).to_contain_text("What does delivery cost me?")
    await kb_ready(page)

    reply = await ask(server, "what does delivery cost me?")
    assert reply["meta"]["entry_id"] == "shipping-cost"  # type: ignore[index]
    assert str(reply["text"]).startswith("Shipping is now free")

    # The visitor sees the answer formatted: a list, two links (new tab, no referrer), and a
    # javascript: "link" left as the text it is.
    context, shop = await open_shop(browser, server)
    await open_panel(shop)
    await say(shop, "what does delivery cost me?")
    answer = bubbles(shop, "bot").last
    await expect(answer.locator("li")).to_have_count(2)
    links = answer.locator("a")
    await expect(links).to_have_count(2)
    await expect(links.first).to_have_attribute("href", "https://shop.example.com/shipping")
    await expect(links.first).to_have_attribute("rel", LINK_REL)
    await expect(links.first).to_have_attribute("target", "_blank")
    await expect(links.last).to_have_attribute("href", "mailto:help@shop.example.com")
    await expect(answer).to_contain_text("Not a link: [x](javascript:alert(1))")
    await shop.screenshot(path=str(artifacts / "admin-kb-widget-formatted.png"))
    await context.close()

    # A new entry, then deleted again.
    await page.fill("#kb-search", "")
    await page.click("#kb-new")
    await page.fill("#kb-f-id", "gift-cards")
    await page.fill("#kb-f-question", "Do you sell gift cards?")
    await page.fill("#kb-f-answer", "Yes, from 10 to 200 EUR.")
    await page.fill("#kb-f-variants", "gift voucher\npresent card")
    await page.click("#kb-save")
    await expect(page.locator("#kb-rows tr")).to_have_count(9)
    await kb_ready(page)
    await expect(page.locator("#kb-status")).to_contain_text("9 entries")
    page.once("dialog", lambda dialog: dialog.accept())
    await page.locator("#kb-rows tr[data-id='gift-cards'] button.danger").click()
    await expect(page.locator("#kb-rows tr")).to_have_count(8)
    await kb_ready(page)
    await expect(page.locator("#kb-status")).to_contain_text("8 entries")
    await page.context.close()


BROKEN = (
    b'{"id": "ok", "question": "Fine?", "answer": "Yes."}\n'
    b"{not json\n"
    b'{"id": "ok", "question": "Twice?", "answer": "No."}\n'
    b'{"id": "has space", "question": "Q?", "answer": "A."}\n'
    b'{"id": "q-less", "answer": "A."}\n'
)
GOOD_CSV = (
    b"id,question,variants,answer\n"
    b'hats,Do you sell hats?,any caps?|do you have beanies,"Yes: https://shop.example.com/hats"\n'
    b"opening,When is the shop open?,opening hours|are you open on sunday,9 to 5 on weekdays.\n"
)


async def test_import_shows_every_problem_then_replaces_after_confirming(
    server: Server, browser: Browser, artifacts: Path
) -> None:
    await seed_team(server)
    page = await open_admin(browser, server)
    page.set_default_timeout(UI_TIMEOUT_MS)
    await expect(page.locator("#kb-rows tr")).to_have_count(8)
    await page.set_input_files(
        "#kb-file", files=[{"name": "broken.jsonl", "mimeType": "application/x-ndjson",
                            "buffer": BROKEN}]
    )
    problems = page.locator("#kb-problems li")
    await expect(problems).to_have_count(4)
    await expect(problems.nth(0)).to_have_text("Line 2: invalid JSON (Expecting property name"
                                               " enclosed in double quotes)")
    await expect(problems.nth(1)).to_contain_text("Line 3: duplicate id 'ok'")
    await expect(problems.nth(2)).to_contain_text("Line 4: id 'has space'")
    await expect(problems.nth(3)).to_contain_text("Line 5: missing or non-text field 'question'")
    await expect(page.locator("#kb-import-result")).to_contain_text("nothing was changed")
    await expect(page.locator("#kb-import-progress")).to_have_js_property("value", 1)
    await page.screenshot(path=str(artifacts / "admin-kb-import-errors.png"), full_page=True)
    await expect(page.locator("#kb-rows tr")).to_have_count(8)

    await page.set_input_files(
        "#kb-file", files=[{"name": "faq.csv", "mimeType": "text/csv", "buffer": GOOD_CSV}]
    )
    await expect(page.locator("#kb-import-summary")).to_contain_text("2 entries, 4 variants")
    await expect(page.locator("#kb-import-summary")).to_contain_text("replaces the 8 entries")
    await expect(page.locator("#kb-rows tr")).to_have_count(8)  # checked, not yet imported
    await page.screenshot(path=str(artifacts / "admin-kb-import-confirm.png"), full_page=True)
    await page.click("#kb-import-confirm")
    await expect(page.locator("#kb-import-done")).to_contain_text("Imported 2 entries")
    await expect(page.locator("#kb-rows tr")).to_have_count(2)
    await kb_ready(page)
    await expect(page.locator("#kb-status")).to_contain_text("2 entries")
    reply = await ask(server, "do you have beanies?")
    assert reply["meta"]["entry_id"] == "hats"  # type: ignore[index]

    async with page.expect_download() as caught:
        await page.click("#kb-export-csv")
    download = await caught.value
    assert download.suggested_filename.startswith("chatdesk-kb-")
    saved = await asyncio.to_thread(Path(await download.path()).read_text)
    assert saved.startswith("id,question,variants,answer\n") and "hats" in saved
    await page.context.close()


async def test_try_a_question_shows_the_decision_and_why(
    server: Server, browser: Browser, artifacts: Path
) -> None:
    await seed_team(server)
    page = await open_admin(browser, server)
    page.set_default_timeout(UI_TIMEOUT_MS)
    await page.fill("#kb-try-q", "how much is postage?")
    await page.click("#kb-try button[type=submit]")
    await expect(page.locator("#kb-try-action")).to_have_text("Answers")
    await expect(page.locator("#kb-try-why")).to_contain_text("answer threshold")
    await expect(page.locator("#kb-try-candidates tbody tr").first).to_contain_text(
        "shipping-cost"
    )
    await expect(page.locator("#kb-try-result")).to_contain_text("Standard shipping is €4.95")
    await page.screenshot(path=str(artifacts / "admin-kb-try.png"), full_page=True)

    await page.fill("#kb-try-q", "can I speak to a human please")
    await page.click("#kb-try button[type=submit]")
    await expect(page.locator("#kb-try-action")).to_have_text("Hands over to a person")
    await expect(page.locator("#kb-try-why")).to_contain_text("asks for a person")
    await page.fill("#kb-try-q", "what is the boiling point of tungsten")
    await page.click("#kb-try button[type=submit]")
    await expect(page.locator("#kb-try-action")).to_have_text("Hands over to a person")
    await expect(page.locator("#kb-try-why")).to_contain_text("below the clarify threshold")
    await page.context.close()
