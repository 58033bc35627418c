"""Helpers for the chat bubble's browser tests: the demo shop, the panel, the database, an agent."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, Locator, Page, expect
from sqlalchemy import text

from app.db import make_engine
from tests.client import ChatClient, agent
from tests.conftest import Server

WIDGET_DIR = Path(__file__).resolve().parents[2] / "widget"
AXE_JS = WIDGET_DIR / "node_modules" / "axe-core" / "axe.min.js"
UI_TIMEOUT_MS = 20_000  # the shared CI machine may be busy encoding


async def open_shop(
    browser: Browser, server: Server, *, path: str = "/", **context_args: Any
) -> tuple[BrowserContext, Page]:
    """A fresh browser profile on the demo shop, with the launcher ready."""
    context = await browser.new_context(**context_args)
    context.set_default_timeout(UI_TIMEOUT_MS)
    page = await context.new_page()
    await page.goto(server.base_url + path)
    await expect(launcher(page)).to_be_visible()
    return context, page


def launcher(page: Page) -> Locator:
    return page.locator("chatdesk-widget .launch")


def panel(page: Page) -> Locator:
    return page.locator("chatdesk-widget .panel")


def bubbles(page: Page, sender: str | None = None) -> Locator:
    return page.locator("chatdesk-widget .log .m" + (f".{sender}" if sender else ""))


async def open_panel(page: Page) -> None:
    await expect(page.locator("chatdesk-widget .conn")).to_have_text("Online")
    if not await panel(page).is_visible():
        await launcher(page).click()
    await expect(panel(page)).to_be_visible()


async def say(page: Page, message: str) -> None:
    box = page.locator("chatdesk-widget #cd-text")
    await box.fill(message)
    await box.press("Enter")


async def db_scalar(server: Server, sql: str, **params: Any) -> Any:
    engine = make_engine(server.settings.database_url)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(text(sql), params)).scalar()
    finally:
        await engine.dispose()


async def db_rows(server: Server, sql: str, **params: Any) -> list[Any]:
    engine = make_engine(server.settings.database_url)
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(text(sql), params)).all())
    finally:
        await engine.dispose()


async def eventually(check: Any, timeout_s: float = 20.0) -> Any:
    """Poll an async check until it returns something truthy (the server commits first)."""
    import asyncio

    deadline = time.monotonic() + timeout_s
    while True:
        value = await check()
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.1)


async def online_agent(server: Server, name: str = "Alice") -> tuple[ChatClient, str]:
    """An agent with an open console socket (so escalations queue instead of ticketing)."""
    token = await server.create_agent(email=f"{name.lower()}@example.com", name=name)
    return await agent(server, token), token


async def take_queued(server: Server, token: str) -> int:
    """The agent takes the first queued conversation; returns its id."""
    async def first_queued() -> int | None:
        async with server.http(token) as http:
            r = await http.get("/api/agent/conversations", params={"filter": "queued"})
            r.raise_for_status()
            rows = r.json()
            return int(rows[0]["id"]) if rows else None

    conversation_id = await eventually(first_queued)
    assert conversation_id, "nothing was queued"
    async with server.http(token) as http:
        (await http.post(f"/api/agent/conversations/{conversation_id}/take")).raise_for_status()
    return int(conversation_id)


async def run_axe(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page (shadow DOM included)."""
    assert AXE_JS.exists(), "axe-core is missing: make widget-deps (npm ci --prefix widget)"
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated by the test driver, not added as a <script>: our pages' CSP runs no
        # inline script, and that is not what this check is about.
        await page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    result = await page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
        }"""
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]
