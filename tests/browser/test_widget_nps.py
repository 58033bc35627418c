"""The NPS question in the chat bubble (issue 15): after the stars, 0-10, stored once answered."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.browser.widget_page import (
    db_rows,
    eventually,
    online_agent,
    open_panel,
    open_shop,
    take_queued,
)
from tests.conftest import Server, make_settings, run_server, seed_kb


@pytest.fixture
async def nps_server(database_url: str) -> AsyncIterator[Server]:
    await seed_kb(database_url)
    async with run_server(make_settings(database_url, nps_question=True)) as srv:
        yield srv


async def test_stars_then_the_recommendation_question(
    nps_server: Server, browser: Browser, artifacts: Path
) -> None:
    server = nps_server
    alice, token = await online_agent(server, "Alice")
    context, page = await open_shop(browser, server)
    await open_panel(page)
    await page.get_by_role("button", name="Talk to a person").click()
    conversation_id = await take_queued(server, token)
    async with server.http(token) as http:
        (await http.post(f"/api/agent/conversations/{conversation_id}/close")).raise_for_status()
    rating = page.locator("chatdesk-widget form.rate")
    await rating.get_by_role("radio", name="5 of 5 stars").check()
    await rating.get_by_role("button", name="Send rating").click()
    nps = page.locator("chatdesk-widget form.nps")
    await expect(nps).to_contain_text("How likely are you to recommend us?")
    await nps.get_by_role("radio", name="9", exact=True).check()
    await page.screenshot(path=str(artifacts / "widget-nps.png"))
    await nps.get_by_role("button", name="Send").click()
    await expect(page.locator("chatdesk-widget .extra")).to_contain_text("Thank you!")
    stored = "SELECT conversation_id, score FROM nps_answers"
    rows = await eventually(lambda: db_rows(server, stored))
    assert [(r.conversation_id, r.score) for r in rows] == [(conversation_id, 9)]
    await alice.close()
    await context.close()
