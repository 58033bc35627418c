"""The agents section of /admin and the console's profile dialog in Chromium (issue 14): an
admin creates an agent who logs in (another browser) and takes a chat; the admin disables them
and their open console is logged out at once; an agent sets their name, picture and password."""

from __future__ import annotations

import io
import re
from pathlib import Path

from PIL import Image
from playwright.async_api import Browser, Page, expect

from tests.browser.admin_page import AGENT_EMAIL, open_admin, seed_team
from tests.browser.test_console import log_in
from tests.browser.xss_corpus import (
    AGENT_NAMES,
    prove_trap_is_armed,
    seed_agents_and_canned,
    stray_markup_js,
    trapped_context,
    xss_calls,
)
from tests.client import visitor
from tests.conftest import AGENT_PASSWORD, Server

NEW_EMAIL, NEW_PASSWORD = "cleo@x.io", "cleo's first password"


def row(page: Page, email: str):  # noqa: ANN201 - a Locator
    return page.locator(f"#agents tr[data-email='{email}']")


async def test_an_admin_creates_an_agent_who_takes_a_chat_then_is_disabled_and_logged_out(
    server: Server, browser: Browser, artifacts: Path
) -> None:
    await seed_team(server)
    admin = await open_admin(browser, server)
    await admin.click("a[data-tab=agents]")
    await expect(row(admin, AGENT_EMAIL)).to_contain_text("Bob")

    form = admin.locator("form.create-agent")
    await form.locator("input[name=email]").fill(NEW_EMAIL)
    await form.locator("input[name=name]").fill("Cleo")
    await form.locator("input[name=password]").fill(NEW_PASSWORD)
    await form.locator("input[name=capacity]").fill("2")
    await form.locator("button[type=submit]").click()
    await expect(admin.locator("#agents [role=status]")).to_have_text("Cleo can log in now.")
    await expect(row(admin, NEW_EMAIL)).to_contain_text("Offline")
    await expect(row(admin, NEW_EMAIL).locator(".load")).to_have_text("0 / 2")

    # Cleo logs in in her own browser and takes a visitor's chat.
    cleo = await (await browser.new_context(viewport={"width": 1400, "height": 860})).new_page()
    await cleo.goto(server.base_url + "/agent")
    await cleo.fill("#email", NEW_EMAIL)
    await cleo.fill("#password", NEW_PASSWORD)
    await cleo.click("#login button[type=submit]")
    await expect(cleo.locator("#conn")).to_have_text("Connected")
    client, welcome = await visitor(server, name="Dana")
    cid = welcome["conversation_id"]
    await client.send({"type": "handoff", "client_msg_id": "h1"})
    await client.expect_type("state", state="queued")
    await cleo.click(f"#list-queued button[data-id='{cid}']")
    await cleo.click("#take")
    state = await client.expect_type("state", state="assigned")
    assert state["agent"]["name"] == "Cleo"

    await admin.reload()  # the list as it is now: Cleo online with one chat
    await expect(row(admin, NEW_EMAIL)).to_contain_text("Online")
    await expect(row(admin, NEW_EMAIL).locator(".load")).to_have_text("1 / 2")
    await admin.screenshot(path=str(artifacts / "admin-agents.png"), full_page=True)

    await row(admin, NEW_EMAIL).locator("button.disable").click()
    await expect(admin.locator("#agents [role=status]")).to_contain_text("Cleo is disabled")
    await expect(row(admin, NEW_EMAIL)).to_contain_text("Disabled")
    # Her open console is logged out at once: the log in form is back.
    await expect(cleo.locator("#login")).to_be_visible()
    await expect(cleo.locator("#app")).to_be_hidden()
    await client.expect_type("state", state="queued")  # her chat went back to the queue
    await cleo.fill("#email", NEW_EMAIL)
    await cleo.fill("#password", NEW_PASSWORD)
    await cleo.click("#login button[type=submit]")
    await expect(cleo.locator("#login-error")).to_have_text("Wrong e-mail or password.")
    await admin.screenshot(path=str(artifacts / "admin-agents-disabled.png"), full_page=True)

    # Re-enabled, she logs in again; the last admin cannot give up the role.
    await row(admin, NEW_EMAIL).locator("button.enable").click()
    await expect(row(admin, NEW_EMAIL)).not_to_contain_text("Disabled")
    await row(admin, "ada@x.io").locator("button.role").click()
    await expect(admin.locator("#agents [role=alert]")).to_contain_text("last admin")
    await cleo.click("#login button[type=submit]")
    await expect(cleo.locator("#conn")).to_have_text("Connected")
    await client.close()
    await cleo.context.close()
    await admin.context.close()


async def test_an_admin_resets_a_password_and_sets_capacity(
    server: Server, browser: Browser, artifacts: Path
) -> None:
    await seed_team(server)
    bob = await log_in(browser, server, AGENT_EMAIL)
    admin = await open_admin(browser, server)
    await admin.click("a[data-tab=agents]")
    await row(admin, AGENT_EMAIL).locator("input.capacity").fill("5")
    await row(admin, AGENT_EMAIL).locator("button.set-capacity").click()
    await expect(row(admin, AGENT_EMAIL).locator(".load")).to_have_text("0 / 5")
    await row(admin, AGENT_EMAIL).locator("button.reset").click()
    dialog = admin.locator("dialog.reset-dialog")
    await dialog.locator("input").fill("bob's new password")
    await admin.screenshot(path=str(artifacts / "admin-agents-reset.png"))
    await dialog.locator("button[type=submit]").click()
    await expect(admin.locator("#agents [role=status]")).to_contain_text("new password")
    await expect(bob.locator("#login")).to_be_visible()  # his console was logged out
    await bob.context.close()
    await admin.context.close()


def picture() -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", (200, 200), (47, 111, 237))
    image.paste((255, 200, 0), (60, 60, 140, 140))
    image.save(out, "JPEG")
    return out.getvalue()


async def test_an_agent_sets_their_name_picture_and_password(
    server: Server, browser: Browser, artifacts: Path, tmp_path: Path
) -> None:
    await seed_team(server)
    bob = await log_in(browser, server, AGENT_EMAIL)
    await bob.click("#profile-open")
    dialog = bob.locator("#my-profile")
    await expect(dialog).to_be_visible()
    await bob.fill("#my-name", "Bobby Tables")
    await bob.click("#my-name-form button[type=submit]")
    await expect(bob.locator("#my-profile-status")).to_have_text("Name saved.")
    await expect(bob.locator("#me-name")).to_have_text("Bobby Tables")

    photo = tmp_path / "me.jpg"
    photo.write_bytes(picture())
    await bob.set_input_files("#my-avatar-file", str(photo))
    await expect(bob.locator("#my-profile-status")).to_have_text("Picture saved.")
    img = dialog.locator(".my-avatar img")
    await expect(img).to_have_attribute("src", re.compile(r"^/api/agents/\d+/avatar\?v=\w+$"))
    assert await img.evaluate("i => i.complete && i.naturalWidth") == 128  # loaded under CSP
    big = tmp_path / "big.png"
    big.write_bytes(b"\x89PNG" + b"\0" * (1024 * 1024 + 10))
    await bob.set_input_files("#my-avatar-file", str(big))
    await expect(bob.locator("#my-profile-error")).to_have_text("That picture is over 1 MB.")

    await bob.fill("#my-current-password", "not my password")
    await bob.fill("#my-new-password", "bobby's new password")
    await bob.fill("#my-new-password-again", "bobby's new password")
    await bob.click("#my-password-form button[type=submit]")
    await expect(bob.locator("#my-profile-error")).to_have_text("the current password is wrong")
    await bob.fill("#my-current-password", AGENT_PASSWORD)
    await bob.fill("#my-new-password", "bobby's new password")
    await bob.fill("#my-new-password-again", "bobby's new password")
    await bob.click("#my-password-form button[type=submit]")
    await expect(bob.locator("#my-profile-status")).to_have_text("Password changed.")
    await bob.screenshot(path=str(artifacts / "admin-agents-profile.png"))
    await bob.click("#my-profile-close")
    await expect(dialog).to_be_hidden()

    # Visitors see the new name and the picture (served by us) when Bobby joins their chat.
    client, welcome = await visitor(server, name="Dana")
    await client.send({"type": "handoff", "client_msg_id": "h1"})
    await client.expect_type("state", state="queued")
    await bob.click(f"#list-queued button[data-id='{welcome['conversation_id']}']")
    await bob.click("#take")
    state = await client.expect_type("state", state="assigned")
    assert state["agent"]["name"] == "Bobby Tables"
    assert state["agent"]["avatar_url"].startswith("/api/agents/")
    await client.close()
    await bob.context.close()


async def test_the_team_table_shows_hostile_names_as_text(server: Server, browser: Browser) -> None:
    team = await seed_agents_and_canned(server)  # named with payloads; the first is an admin
    context = await browser.new_context(bypass_csp=True, viewport={"width": 1400, "height": 900})
    await trapped_context(context)
    page = await context.new_page()
    await page.goto(server.base_url + "/agent?next=/admin")
    await prove_trap_is_armed(page)
    await page.fill("#email", team[0].email)
    await page.fill("#password", AGENT_PASSWORD)
    await page.click("#login button[type=submit]")
    await expect(page).to_have_url(server.base_url + "/admin")
    await page.click("a[data-tab=agents]")
    for member in team:
        await expect(row(page, member.email).locator("td.who")).to_contain_text(member.name)
    assert AGENT_NAMES[0] == team[0].name
    tags = ["tr", "td", "span", "div", "button", "input"]
    assert await page.locator("#agents tbody").evaluate(stray_markup_js(tags)) == []
    assert await xss_calls(page) == []
    await context.close()
