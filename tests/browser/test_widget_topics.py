"""The bubble's topic choice in Chromium (issue 16, CHATDESK_TOPIC_CHOICE): after "Talk to a
person" the visitor picks a team's topic (here in German) and that team's agent gets the chat."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect
from sqlalchemy import select

from app.db import make_engine, make_sessionmaker
from handoff import teams
from handoff.models import Agent
from tests.browser.widget_page import online_agent, open_panel, open_shop
from tests.conftest import Server, make_settings, run_server, seed_kb


@pytest.fixture
async def topic_server(database_url: str) -> AsyncIterator[Server]:
    await seed_kb(database_url)
    settings = make_settings(database_url, routing_mode="auto", topic_choice=True)
    async with run_server(settings) as srv:
        yield srv


async def make_teams(server: Server) -> None:
    """Orders: Ann; Returns: Bob."""
    engine = make_engine(server.settings.database_url)
    try:
        async with make_sessionmaker(engine)() as s:
            people = {a.name: a for a in (await s.scalars(select(Agent))).all()}
            for team, who in (("Orders", "Ann"), ("Returns", "Bob")):
                made = await teams.create_team(session=s, name=team, actor=people[who], ip=None)
                await teams.set_membership(session=s, team_id=made.team.id,
                                           agent_id=people[who].id, member=True,
                                           actor=people[who], ip=None)
    finally:
        await engine.dispose()


async def test_the_visitor_picks_a_topic_and_its_team_answers(
    topic_server: Server, browser: Browser, artifacts: Path
) -> None:
    ann, _ = await online_agent(topic_server, "Ann")
    bob, _ = await online_agent(topic_server, "Bob")
    await make_teams(topic_server)
    context, page = await open_shop(browser, topic_server, locale="de-DE")
    await open_panel(page)
    await page.get_by_role("button", name="Mit einem Menschen sprechen").click()
    topics = page.get_by_role("group", name="Worum geht es?")
    await expect(topics.get_by_role("button")).to_have_text(["Orders", "Returns", "Etwas anderes"])
    await page.screenshot(path=str(artifacts / "widget-topics.png"))
    await topics.get_by_role("button", name="Returns").click()
    await expect(page.locator("chatdesk-widget .stat")).to_contain_text("Sie chatten mit Bob")
    await expect(topics).to_have_count(0)
    for c in (ann, bob):
        await c.close()
    await context.close()
