"""The agent console in Chromium while a customer answers their ticket by e-mail: the answer
appears live, marked with the mailbox it came from (flagged when not the ticket's own)."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, expect

from tests.browser.test_console import log_in, seed
from tests.e2e.test_mail_in import CUSTOMER, Desk, answered_ticket, desk, mail, send

__all__ = ["desk"]  # the fixture, used below


async def test_an_emailed_answer_shows_in_the_console(
    desk: Desk, browser: Browser, artifacts: Path
) -> None:
    await seed(desk.server)
    t = await answered_ticket(desk)
    page = await log_in(browser, desk.server, "bob@x.io")
    await page.click(f"#list-tickets button[data-id='{t.conversation_id}']")
    await expect(page.locator("#transcript .msg.agent")).to_contain_text("Which colour")

    await send(desk.mail_in_port, mail(t.reply_to, "Blue, please.\n\nThanks,\nDana"))
    mine = page.locator("#transcript .msg.visitor", has_text="Blue, please.")
    await expect(mine).to_contain_text(f"by e-mail from {CUSTOMER}")
    await expect(mine).not_to_contain_text("Thanks,")
    other = mail(t.reply_to, "Size M for her.", From="x@corp.example")
    await send(desk.mail_in_port, other, mail_from="x@corp.example")
    theirs = page.locator("#transcript .msg.visitor", has_text="Size M for her.")
    await expect(theirs).to_contain_text("by e-mail from x@corp.example (not the ticket's address)")
    await page.screenshot(path=str(artifacts / "console-mail-reply.png"))
    await t.client.close()
    await t.console.close()
