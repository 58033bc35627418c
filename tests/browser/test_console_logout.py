"""The console's Log out ends the login on the server: a copied token is worthless after it."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.browser.test_console import log_in, seed
from tests.conftest import Server


async def test_log_out_in_the_console_ends_the_token_on_the_server(
    server: Server, browser: Browser
) -> None:
    await seed(server)
    page = await log_in(browser, server, "bob@x.io")
    token = await page.evaluate("sessionStorage.getItem('chatdesk.agentToken')")
    async with server.http(token) as http:
        assert (await http.get("/api/agent/me")).status_code == 200

    await page.click("#logout")
    await expect(page.locator("#login")).to_be_visible()
    async with server.http(token) as http:
        for _ in range(100):  # the console sends the logout without waiting for its answer
            if (await http.get("/api/agent/me")).status_code == 401:
                break
            await page.wait_for_timeout(50)
        assert (await http.get("/api/agent/me")).status_code == 401
    await page.context.close()
