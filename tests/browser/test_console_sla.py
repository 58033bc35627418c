"""The console's SLA timers and new-chat notifications in a real Chromium: a queued chat's
"first reply" timer counts down, turns overdue and is highlighted once the sweep records the
breach; a new chat raises a desktop notification where allowed, the beep and title elsewhere."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from app.db import make_engine, make_sessionmaker
from handoff import agents
from tests.client import visitor
from tests.conftest import AGENT_PASSWORD, Server, make_settings, run_server, seed_kb

# A chat's first reply is due 3 s after the hand-over; every replica sweeps 5 times a second.
FAST_SLA = {"sla_chat_first_response_s": 3, "sla_sweep_s": 0.2}
# Wraps the page's Notification (each one shown is recorded, then shown for real if it can be)
# and counts the console's beeps.
RECORD_NOTIFICATIONS = """
(() => {
  const Real = window.Notification;
  window.__notified = [];
  class Recorded {
    static get permission() { return Real ? Real.permission : "denied"; }
    static requestPermission(...a) { return Real.requestPermission(...a); }
    constructor(title, options) {
      window.__notified.push({ title, body: options && options.body });
      document.documentElement.dataset.notified = String(window.__notified.length);
      try { return new Real(title, options); } catch (e) { return { close() {} }; }
    }
  }
  window.Notification = Recorded;
  window.__beeps = 0;  // the fallback: the console's beep
  const RealAudio = window.AudioContext;
  window.AudioContext = class extends RealAudio {
    createOscillator() {
      window.__beeps += 1;
      document.documentElement.dataset.beeps = String(window.__beeps);
      return super.createOscillator();
    }
  };
})();
"""


@pytest.fixture
async def sla_server(database_url: str) -> AsyncIterator[Server]:
    await seed_kb(database_url)
    async with run_server(make_settings(database_url, **FAST_SLA)) as srv:
        engine = make_engine(database_url)
        try:
            async with make_sessionmaker(engine)() as s:
                await agents.create_agent(
                    session=s, email="alice@x.io", name="Alice", password=AGENT_PASSWORD
                )
        finally:
            await engine.dispose()
        yield srv


async def console(context: BrowserContext, server: Server) -> Page:
    page = await context.new_page()
    await page.goto(server.base_url + "/agent")
    await page.fill("#email", "alice@x.io")
    await page.fill("#password", AGENT_PASSWORD)
    await page.click("#login button[type=submit]")
    await expect(page.locator("#conn")).to_have_text("Connected")
    # The first refresh's empty list, not the badge's "0" (the page's own placeholder): a chat
    # queued before that refresh is its baseline, never a "new" one.
    await expect(page.locator("#list-queued li.empty")).to_be_visible()
    return page


async def test_a_queued_chat_timer_counts_down_then_shows_the_breach(
    sla_server: Server, browser: Browser, artifacts: Path
) -> None:
    context = await browser.new_context(viewport={"width": 1200, "height": 700})
    page = await console(context, sla_server)
    client, welcome = await visitor(sla_server, name="Dana")
    cid = welcome["conversation_id"]
    await client.send({"type": "handoff", "client_msg_id": "h1"})
    await client.expect_type("state", state="queued")

    row = page.locator(f"#list-queued button[data-id='{cid}']")
    await expect(row.locator(".sla")).to_contain_text("first reply due in 0:0")
    await expect(row).not_to_have_class("sla-breached")
    # Past the target: the row turns red, and stays so once the sweep's breach reloads it.
    await expect(row).to_have_class("sla-breached")
    await expect(row.locator(".sla.breached")).to_contain_text("first reply overdue")
    await expect(page.locator(f"#list-open button[data-id='{cid}'].sla-breached")).to_be_visible()
    await page.screenshot(path=str(artifacts / "console-sla-breached.png"))
    await client.close()
    await context.close()


async def test_a_new_chat_notifies_where_allowed_and_beeps_elsewhere(
    sla_server: Server, browser: Browser
) -> None:
    allowed = await browser.new_context()
    await allowed.grant_permissions(["notifications"], origin=sla_server.base_url)
    await allowed.add_init_script(RECORD_NOTIFICATIONS)
    undecided = await browser.new_context()  # never granted: the beep and the title
    await undecided.add_init_script(RECORD_NOTIFICATIONS)
    notified, fallback = await console(allowed, sla_server), await console(undecided, sla_server)

    client, welcome = await visitor(sla_server)
    cid = welcome["conversation_id"]
    await client.send({"type": "handoff", "client_msg_id": "h1"})
    await client.expect_type("state", state="queued")

    await expect(notified.locator(f"#list-queued button[data-id='{cid}']")).to_be_visible()
    # Counted on <html> (the page's CSP refuses Playwright's string predicates).
    # 15 s: on a loaded machine the permission check and the notification take a while.
    await expect(notified.locator("html")).to_have_attribute(
        "data-notified", "1", timeout=15_000
    )
    assert await notified.evaluate("window.__notified") == [
        {"title": f"New chat #{cid} waiting in the queue", "body": "chatdesk console"}
    ]
    await expect(fallback).to_have_title("(1 waiting) chatdesk console")
    await expect(fallback.locator("html")).to_have_attribute("data-beeps", "1")
    assert await fallback.evaluate("window.__notified") == [], "not allowed: no notification"
    assert await notified.evaluate("window.__beeps") == 0, "notified: no beep on top"
    await client.close()
    await allowed.close()
    await undecided.close()
