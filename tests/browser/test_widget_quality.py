"""The chat bubble's quality bar: injection-proof, CSS-proof, accessible, keyboard, mobile."""

from __future__ import annotations

import contextlib
import html
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from app.identity import sign_identity
from tests.browser.widget_page import (
    bubbles,
    db_rows,
    eventually,
    launcher,
    online_agent,
    open_panel,
    open_shop,
    panel,
    run_axe,
    say,
    take_queued,
)
from tests.conftest import Server, make_settings, run_server, seed_kb

PWNED = "window.__pwned=1"
PAYLOADS = [
    f"<script>{PWNED}</script>",
    f'<img src=x onerror="{PWNED}">',
    f'<svg onload="{PWNED}"></svg>',
    f'"><script>{PWNED}</script>',
    f"'><img src=x onerror={PWNED}>",
    '<iframe src="javascript:top.__pwned=1"></iframe>',
    f'<a href="javascript:{PWNED}">click me</a>',
    f"javascript:{PWNED}",
    f"<body onload={PWNED}>",
    f'<details open ontoggle="{PWNED}">x</details>',
    f"<math><mtext><table><mglyph><style><img src=x onerror={PWNED}>",
    "<style>*{display:none!important}</style>",
    '{{constructor.constructor("window.__pwned=1")()}}',
    "${window.__pwned=1}",
    f'<input autofocus onfocus="{PWNED}">',
    f'<video><source onerror="{PWNED}"></video>',
    f'<object data="javascript:{PWNED}"></object>',
    "&lt;b&gt;not bold&lt;/b&gt; &amp; <b>bold?</b>",
    f'<marquee onstart="{PWNED}">x</marquee>',
    f'https://example.com/"><img src=x onerror={PWNED}>',
]
ACTIVE_TAGS = "script, img, svg, iframe, a, style, details, math, input, video, object, marquee, b"

IDENTITY_SECRET = "site-secret-" + "s" * 32
HOSTILE_CSS = """
* { font-family: "Comic Sans MS", cursive !important; font-size: 31px !important;
    line-height: 3 !important; color: #f0f !important; letter-spacing: 4px !important;
    text-transform: uppercase !important; box-sizing: content-box !important; }
div, section, button, p, form, textarea, span, header, h2 { display: block !important;
    padding: 30px !important; margin: 20px !important; border: 5px dashed red !important;
    background: yellow !important; opacity: .5 !important; position: static !important; }
button { all: unset !important; }
chatdesk-widget, chatdesk-widget * { display: none !important; }
chatdesk-widget { --p: red !important; --op: lime !important; }
:root { --p: red; --op: lime; }
textarea, input { font-size: 8px !important; }
[hidden] { display: block !important; }
"""
# What the widget looks like, read from inside its shadow root.
LOOKS = """() => {
  const root = document.querySelector('chatdesk-widget').shadowRoot;
  const props = ['display', 'position', 'font-family', 'font-size', 'line-height', 'color',
                 'background-color', 'letter-spacing', 'text-transform', 'border-top-width',
                 'padding-top', 'opacity', 'box-sizing', 'visibility'];
  return ['.launch', '.panel', 'header', 'h2', '.greet .b', '#cd-text', '.comp button', '.hum']
    .map(sel => {
      const el = root.querySelector(sel), cs = getComputedStyle(el), r = el.getBoundingClientRect();
      return [sel, props.map(p => cs.getPropertyValue(p)),
              [r.x, r.y, r.width, r.height].map(Math.round)];
    });
}"""


def host_page(widget_url: str, *, css: str = "", identity: dict[str, object] | None = None) -> str:
    attrs = f'src="{widget_url}/widget.js" data-chatdesk-url="{widget_url}"'
    if identity is not None:
        attrs += f' data-identity="{html.escape(json.dumps(identity))}"'
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Some shop</title><style>{css}</style></head>"
        f"<body><h1>Another company's shop</h1><p>Products.</p><script {attrs} async></script>"
        "</body></html>"
    )


@contextlib.contextmanager
def customer_site(pages: dict[str, str]) -> Iterator[str]:
    """Another origin on loopback serving the given pages (a real server: Chromium refuses
    loopback requests from pages it did not load from the local network)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            body = pages.get(self.path, "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
async def site_server(database_url: str) -> AsyncIterator[Server]:
    """chatdesk for a customer site: its identity secret set (its origin is allowed per test)."""
    await seed_kb(database_url)
    async with run_server(make_settings(database_url, identity_secret=IDENTITY_SECRET)) as srv:
        yield srv


async def no_script_ran(page: Page) -> None:
    assert await page.evaluate("typeof window.__pwned") == "undefined"


async def test_html_and_script_payloads_render_as_text(server: Server, browser: Browser) -> None:
    alice, token = await online_agent(server)
    context, page = await open_shop(browser, server)
    dialogs: list[str] = []
    page.on("dialog", lambda d: dialogs.append(d.message))
    await open_panel(page)
    await page.get_by_role("button", name="Talk to a person").click()
    conversation_id = await take_queued(server, token)
    await expect(page.locator("chatdesk-widget .stat")).to_contain_text("Alice")

    for n, payload in enumerate(PAYLOADS):
        await say(page, payload)
        await alice.send({
            "type": "message", "conversation_id": conversation_id,
            "client_msg_id": f"p{n}", "text": payload,
        })
    await expect(bubbles(page, "agent")).to_have_count(len(PAYLOADS))
    await expect(page.locator("chatdesk-widget .ft", has_text="Sending")).to_have_count(0)
    for sender, skip in (("visitor", 1), ("agent", 0)):  # the visitor's first is the handoff
        texts = await page.evaluate(
            """sender => [...document.querySelector('chatdesk-widget').shadowRoot
                       .querySelectorAll(`.log .m.${sender} .b`)].map(b => b.textContent)""",
            sender,
        )
        assert texts[skip:] == PAYLOADS  # exactly the text, in order
    assert await page.locator("chatdesk-widget .log").locator(ACTIVE_TAGS).count() == 0
    await page.reload()  # and again when rendered from the cache and the replay
    await expect(bubbles(page, "agent")).to_have_count(len(PAYLOADS))
    assert await page.locator("chatdesk-widget .log").locator(ACTIVE_TAGS).count() == 0
    await no_script_ran(page)
    assert dialogs == []
    await alice.close()
    await context.close()


async def test_hostile_host_css_cross_origin_embed_and_signed_identity(
    site_server: Server, browser: Browser, artifacts: Path
) -> None:
    server = site_server
    identity = {"user_id": "u-42", "name": "Ann Example", "email": "ann@example.com",
                "expires": int(time.time()) + 600}
    identity["signature"] = sign_identity(secret=IDENTITY_SECRET, **identity)  # type: ignore[arg-type]
    pages = {
        "/plain": host_page(server.base_url),
        "/hostile": host_page(server.base_url, css=HOSTILE_CSS, identity=identity),
    }
    looks = {}
    with customer_site(pages) as shop:  # another origin that only has the script tag
        server.settings.allowed_origins = [shop]
        for path in pages:
            # No opening animation: both pages are read at rest, whatever the machine's speed.
            context = await browser.new_context(
                viewport={"width": 1280, "height": 800}, reduced_motion="reduce"
            )
            page = await context.new_page()
            await page.goto(shop + path)
            await expect(launcher(page)).to_be_visible()
            await open_panel(page)
            await say(page, "how much is postage?")
            await expect(bubbles(page, "bot").last).to_contain_text("€4.95")
            await page.locator("chatdesk-widget #cd-text").blur()
            looks[path] = await page.evaluate(LOOKS)
            await page.screenshot(path=str(artifacts / f"widget-host{path.replace('/', '-')}.png"))
            await context.close()
    for plain, hostile in zip(looks["/plain"], looks["/hostile"], strict=True):
        assert plain == hostile

    # The signed identity reached the visitor's profile; the unsigned visitor stays anonymous.
    rows = await eventually(lambda: db_rows(
        server, "SELECT verified_name, verified_email FROM visitors"
                " WHERE verified_name IS NOT NULL"))
    assert [(r.verified_name, r.verified_email) for r in rows] == [
        ("Ann Example", "ann@example.com")
    ]


async def test_accessibility_keyboard_only_and_axe(server: Server, browser: Browser) -> None:
    context, page = await open_shop(browser, server)
    assert await run_axe(page) == []
    await expect(page.locator("chatdesk-widget .conn")).to_have_text("Online")

    for _ in range(10):  # the shop's own links first, then the launcher
        await page.keyboard.press("Tab")
        if await launcher(page).evaluate("el => el.getRootNode().activeElement === el"):
            break
    await expect(launcher(page)).to_be_focused()
    await expect(launcher(page)).to_have_attribute("aria-expanded", "false")
    await page.keyboard.press("Enter")
    await expect(panel(page)).to_be_visible()
    await expect(page.locator("chatdesk-widget #cd-text")).to_be_focused()
    await page.keyboard.type("how much is postage?")
    await page.keyboard.press("Enter")
    answer = bubbles(page, "bot").last
    await expect(answer).to_contain_text("€4.95")
    await expect(page.locator("chatdesk-widget .scroll")).to_have_attribute("role", "log")
    await page.keyboard.press("Shift+Tab")
    await page.keyboard.press("Shift+Tab")
    await expect(answer.get_by_role("button", name="Yes")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(answer.locator(".fb")).to_contain_text("Thanks")
    assert await run_axe(page) == []

    await page.get_by_role("button", name="Talk to a person").press("Enter")
    await expect(page.locator("chatdesk-widget .extra input[type=email]")).to_be_visible()
    assert await run_axe(page) == []
    # The button went away with the bot state; focus moved to the e-mail field, not <body>.
    await expect(page.locator("chatdesk-widget .extra input[type=email]")).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(panel(page)).to_be_hidden()
    await expect(launcher(page)).to_be_focused()
    await context.close()


async def test_mobile_full_screen_and_no_zoom_on_focus(
    server: Server, browser: Browser, artifacts: Path
) -> None:
    context, page = await open_shop(
        browser, server, viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True
    )
    await page.screenshot(path=str(artifacts / "widget-mobile-closed.png"))
    await open_panel(page)
    # The opening slide-in has finished (polled from the test: wait_for_function would eval
    # in the page, which its Content-Security-Policy does not allow).
    assert await eventually(lambda: page.evaluate(
        "!document.querySelector('chatdesk-widget').shadowRoot"
        ".querySelector('.panel').getAnimations().length"
    ))
    box = await panel(page).bounding_box()
    assert box == {"x": 0, "y": 0, "width": 375, "height": 740}
    await expect(launcher(page)).to_be_hidden()
    await say(page, "Can I return an item?")
    await expect(bubbles(page, "bot").last.locator("a")).to_be_visible()
    sizes = await page.evaluate(
        """() => [...document.querySelector('chatdesk-widget').shadowRoot
                   .querySelectorAll('input, textarea')]
                 .map(el => parseFloat(getComputedStyle(el).fontSize))"""
    )
    assert sizes and min(sizes) >= 16  # iOS zooms the page into inputs under 16px
    await page.screenshot(path=str(artifacts / "widget-mobile-open.png"))
    await page.get_by_role("button", name="Close chat").click()
    await expect(launcher(page)).to_be_visible()
    await context.close()
