"""Opening /admin as a person does: the console's log in, then the page."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect

from app.db import make_engine, make_sessionmaker
from handoff import agents
from tests.conftest import AGENT_PASSWORD, Server

ADMIN_EMAIL, AGENT_EMAIL = "ada@x.io", "bob@x.io"


async def seed_team(server: Server) -> None:
    """Ada the admin and Bob the agent, both with AGENT_PASSWORD."""
    engine = make_engine(server.settings.database_url)
    try:
        async with make_sessionmaker(engine)() as s:
            await agents.create_agent(
                session=s, email=ADMIN_EMAIL, name="Ada", password=AGENT_PASSWORD, is_admin=True
            )
            await agents.create_agent(
                session=s, email=AGENT_EMAIL, name="Bob", password=AGENT_PASSWORD
            )
    finally:
        await engine.dispose()


async def open_admin(browser: Browser, server: Server, email: str = ADMIN_EMAIL) -> Page:
    """A new browser goes to /admin, is sent to the console's log in, logs in, comes back."""
    page = await (await browser.new_context(viewport={"width": 1400, "height": 900})).new_page()
    await page.goto(server.base_url + "/admin")
    await page.fill("#email", email)
    await page.fill("#password", AGENT_PASSWORD)
    await page.click("#login button[type=submit]")
    await expect(page).to_have_url(server.base_url + "/admin")
    await expect(page.locator("#me-name")).not_to_be_empty()
    return page
