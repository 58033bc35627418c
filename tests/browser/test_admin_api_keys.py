"""The API keys part of /admin → Integrations in Chromium (issue 18): an admin creates a key,
sees it once, an integration posts with it into a visitor's chat, the admin revokes it and the
very next call is refused."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, Dialog, expect

from tests.browser.admin_page import open_admin, seed_team
from tests.client import visitor
from tests.conftest import Server


async def test_an_admin_creates_a_key_shown_once_and_revokes_it(
    server: Server, browser: Browser, artifacts: Path
) -> None:
    await seed_team(server)
    admin = await open_admin(browser, server)
    await admin.click("a[data-tab=integrations]")
    part = admin.locator("#api-keys")
    await expect(part.locator("tbody")).to_contain_text("No API keys yet.")

    form = part.locator("form.create-key")
    await form.locator("input[name=name]").fill("Shop backend")
    await form.locator("input[value='messages:write']").check()
    await form.locator("input[value='conversations:read']").check()
    await form.locator("button[type=submit]").click()
    await expect(part.locator("[role=status]")).to_have_text('The key "Shop backend" was created.')
    secret = (await part.locator(".new-key code.secret").text_content()) or ""
    assert secret.startswith("ck_") and len(secret) > 40
    row = part.locator("tbody tr.active")
    await expect(row).to_contain_text("Shop backend")
    await expect(row).to_contain_text("conversations:read, messages:write")
    await expect(row.locator("code")).to_have_text(secret[:11] + "…")
    await admin.screenshot(path=str(artifacts / "admin-api-keys.png"), full_page=True)

    # The integration posts into a visitor's chat with it.
    client, welcome = await visitor(server)
    async with server.http(secret) as http:
        path = f"/api/conversations/{welcome['conversation_id']}/messages"
        r = await http.post(path, json={"client_msg_id": "1", "text": "Your order shipped."})
        assert r.status_code == 201, r.text
        await client.expect_type("message", sender="bot", text="Your order shipped.")

        # Shown once: gone from the page once stored, and never in the list again.
        await part.locator(".new-key button", has_text="I have stored it").click()
        await expect(part.locator(".new-key")).to_be_hidden()
        await admin.reload()
        await expect(part.locator("tbody tr.active")).to_contain_text("Shop backend")
        assert secret not in (await admin.content())

        async def accept(dialog: Dialog) -> None:
            await dialog.accept()

        admin.once("dialog", accept)
        await part.locator("tbody tr.active button.revoke").click()
        await expect(part.locator("[role=status]")).to_have_text(
            'The key "Shop backend" is revoked.'
        )
        await expect(part.locator("tbody tr.revoked")).to_contain_text("Revoked")
        await expect(part.locator("tbody tr.revoked button.revoke")).to_be_hidden()
        r = await http.post(path, json={"client_msg_id": "2", "text": "Still there?"})
        assert r.status_code == 401
    await client.close()
