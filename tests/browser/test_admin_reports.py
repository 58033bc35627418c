"""The reports part of /admin in Chromium (issue 15): a chart per report, drawn by the Chart.js
the app serves from widget/node_modules, and a CSV download."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, expect

from app.db import make_engine, make_sessionmaker
from tests.browser.admin_page import open_admin, seed_team
from tests.browser.widget_page import run_axe
from tests.conftest import Server
from tests.handoff.test_reports_service import seed

# Whether every report's canvas has painted pixels (a chart drawn, not just an empty box).
ALL_PAINTED = """n => { const cs = [...document.querySelectorAll('#reports section.report canvas')];
  const painted = (c) => { if (!c.width || !c.height) return false;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < d.length; i += 4) if (d[i]) return true; return false; };
  return cs.length === n && cs.every(painted); }"""


async def test_reports_page_draws_every_chart_and_downloads_csv(
    server: Server, browser: Browser, artifacts: Path
) -> None:
    await seed_team(server)
    engine = make_engine(server.settings.database_url)
    try:
        async with make_sessionmaker(engine)() as s:
            # The service test's conversations. This server's day is UTC's, not Berlin's: c1
            # (23:30 UTC on 1 March) falls before the period, c6 (23:30 UTC on the 3rd) in it.
            await seed(s)
    finally:
        await engine.dispose()
    page = await open_admin(browser, server)
    await page.goto(server.base_url + "/admin#reports")
    root = page.locator("#reports")
    await root.locator("#report-from").fill("2026-03-02")
    await root.locator("#report-to").fill("2026-03-03")
    await root.locator("button[type=submit]").click()
    await expect(root.locator("[role=status]")).to_have_text("From 2026-03-02 to 2026-03-03 (UTC).")
    cards = root.locator("section.report")
    await expect(cards).to_have_count(8)
    await expect(root.locator("[data-report=csat] .summary")).to_contain_text(
        "3 ratings, average 2.67 stars, 33.3 % gave 4-5"
    )
    await expect(root.locator("[data-report=containment] .summary")).to_contain_text(
        "0 % ended without a person"
    )
    await expect(root.locator("[data-report=agents] table")).to_contain_text("Alice")
    await page.wait_for_function(ALL_PAINTED, arg=8)  # Chart.js draws once the box is laid out
    async with page.expect_download() as info:
        await root.locator("[data-report=csat] button.csv").click()
    download = await info.value
    assert download.suggested_filename == "chatdesk-csat-2026-03-02-2026-03-03.csv"
    saved = artifacts / "reports-csat.csv"
    await download.save_as(saved)
    assert saved.read_text().splitlines() == ["stars,ratings", "1,1", "2,1", "3,0", "4,0", "5,1"]
    assert await run_axe(page) == []  # labels, the charts' names, contrast
    await page.screenshot(path=str(artifacts / "admin-reports.png"), full_page=True)
    await page.context.close()
