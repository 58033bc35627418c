"""/admin is for admins: the console links to it for them only, and an agent gets a 403 page."""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.async_api import Browser, expect

from tests.browser.admin_page import AGENT_EMAIL, open_admin, seed_team
from tests.browser.test_console import log_in
from tests.conftest import Server


async def test_an_admin_reaches_the_admin_page_from_the_console_and_an_agent_does_not(
    server: Server, browser: Browser, artifacts: Path
) -> None:
    await seed_team(server)
    admin = await open_admin(browser, server)
    await expect(admin.locator("#kb")).to_be_visible()
    await admin.click("text=Agent console")
    await expect(admin.locator("#conn")).to_have_text("Connected")
    await admin.click("#admin-link")  # and back, with the same tab's login
    await expect(admin).to_have_url(server.base_url + "/admin")
    await admin.context.close()

    agent = await log_in(browser, server, AGENT_EMAIL)
    await expect(agent.locator("#admin-link")).to_be_hidden()
    response = await agent.goto(server.base_url + "/admin")  # typed in: the login cookie is sent
    assert response is not None and response.status == 403
    await expect(agent.locator("h1")).to_have_text("403: admins only")
    await agent.screenshot(path=str(artifacts / "admin-403-for-agents.png"))
    await agent.context.close()


async def test_the_admin_page_without_a_login_goes_to_the_log_in(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        r = await http.get("/admin")
        assert r.status_code == 303 and r.headers["location"] == "/agent?next=/admin"
        http.cookies.set("chatdesk_login", "forged")
        assert (await http.get("/admin")).status_code == 303
