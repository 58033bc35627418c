"""The console warns its agent about a visitor left waiting (issue 16), in a real Chromium,
and the warning goes once the agent answers."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.browser.test_console import log_in, seed
from tests.client import visitor
from tests.conftest import make_settings, run_server, seed_kb


async def test_the_console_warns_about_a_waiting_visitor_until_the_agent_answers(
    database_url: str, browser: Browser
) -> None:
    await seed_kb(database_url)
    settings = make_settings(
        database_url, routing_mode="auto", agent_silent_warn_s=0.5, agent_silent_reroute_s=0,
        reroute_sweep_s=0.2,
    )
    async with run_server(settings) as server:
        await seed(server)
        alice = await log_in(browser, server, "alice@x.io")
        client, welcome = await visitor(server)
        cid = welcome["conversation_id"]
        await client.send({"type": "handoff", "client_msg_id": "h1"})
        await client.expect_type("state", state="assigned")
        warning = alice.locator("#silent-warnings")
        await expect(warning).to_contain_text(f"Conversation #{cid}: the visitor has waited")
        await warning.get_by_role("button", name="Answer").click()
        await alice.fill("#text", "Hello, I'm here!")
        await alice.click("#send")
        await expect(warning).to_be_hidden()
        await client.close()
        await alice.context.close()
