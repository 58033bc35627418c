"""The teams section of /admin in Chromium (issue 16): an admin adds a team, ticks a member,
renames it and deletes it; the server's list agrees at each step."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, expect

from tests.browser.admin_page import ADMIN_EMAIL, open_admin, seed_team
from tests.conftest import AGENT_PASSWORD, Server


async def server_teams(server: Server) -> list[dict[str, object]]:
    async with server.http() as http:
        login = {"email": ADMIN_EMAIL, "password": AGENT_PASSWORD}
        r = await http.post("/api/agent/login", json=login)
        token = r.json()["token"]
    async with server.http(token) as http:
        return list((await http.get("/api/admin/teams")).json())


async def test_an_admin_adds_a_team_ticks_a_member_renames_and_deletes_it(
    server: Server, browser: Browser, artifacts: Path
) -> None:
    await seed_team(server)
    admin = await open_admin(browser, server)
    await admin.click("a[data-tab=teams]")
    section = admin.locator("#teams")
    await expect(section).to_contain_text("No teams yet")

    await section.locator("form.create-team input[name=name]").fill("Orders")
    await section.locator("form.create-team button[type=submit]").click()
    status = section.locator("[role=status]")
    await expect(status).to_have_text("Orders is added: tick its members.")
    card = section.locator("fieldset[data-team='Orders']")
    await card.get_by_label("Bob").check()
    await expect(status).to_have_text("Bob is in Orders.")
    teams = await server_teams(server)
    assert [(t["name"], t["member_ids"]) for t in teams] == [("Orders", [2])], "Bob is agent 2"

    await card.locator("input.team-name").fill("Orders & shipping")
    await card.locator("button.rename").click()
    renamed = section.locator("fieldset[data-team='Orders & shipping']")
    await expect(renamed).to_be_visible()
    await expect(renamed.get_by_label("Bob")).to_be_checked()
    await admin.screenshot(path=str(artifacts / "admin-teams.png"), full_page=True)

    await section.locator("form.create-team input[name=name]").fill("orders & SHIPPING")
    await section.locator("form.create-team button[type=submit]").click()
    await expect(section.locator("[role=alert]")).to_contain_text("exists")

    admin.once("dialog", lambda d: d.accept())
    await renamed.locator("button.delete").click()
    await expect(section).to_contain_text("No teams yet")
    assert await server_teams(server) == []
