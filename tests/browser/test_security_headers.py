"""Our pages under their own Content-Security-Policy in Chromium: the bubble, the demo and the
console work with it (no violation at all), an injected inline script is blocked by it, the
bubble still loads on another site, and no other site can frame the console."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from playwright.async_api import Browser, Page, expect

from tests.browser.widget_page import UI_TIMEOUT_MS, bubbles, eventually, open_panel, say
from tests.conftest import AGENT_PASSWORD, Server

WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__violations.push(e.violatedDirective + " " + e.blockedURI));
window.__xssCalls = [];
window.__xss = (...a) => window.__xssCalls.push(a.join(","));
"""


async def violations(page: Page) -> list[str]:
    return list(await page.evaluate("window.__violations"))


async def test_pages_work_under_their_policy_and_it_blocks_injected_script(
    server: Server, browser: Browser
) -> None:
    await server.create_agent(email="alice@x.io", name="Alice")
    context = await browser.new_context()
    context.set_default_timeout(UI_TIMEOUT_MS)
    await context.add_init_script(WATCH)
    page = await context.new_page()

    await page.goto(server.base_url + "/?page=boots")
    await expect(page.locator("#heading")).to_have_text("Boots")  # demo-shop.js ran
    await open_panel(page)  # the bubble's socket and shadow-root styles are allowed
    await say(page, "how much is postage?")
    await expect(bubbles(page, "bot").last).to_contain_text("€4.95")
    assert await violations(page) == []

    await page.goto(server.base_url + "/demo")
    await expect(page.locator("#status")).to_have_text("Connected.")
    assert await violations(page) == []

    await page.goto(server.base_url + "/agent")
    await page.fill("#email", "alice@x.io")
    await page.fill("#password", AGENT_PASSWORD)
    await page.click("#login button[type=submit]")
    await expect(page.locator("#conn")).to_have_text("Connected")
    assert await violations(page) == []

    # Were a payload ever to reach the page as HTML, the policy would still not run it.
    await page.evaluate(
        "document.body.insertAdjacentHTML('beforeend',"
        " '<img src=x onerror=__xss(1)><a id=js href=\"javascript:__xss(2)\">x</a>')"
    )
    await page.evaluate(
        "const s = document.createElement('script'); s.textContent = '__xss(3)';"
        " document.body.append(s)"
    )
    await page.click("#js")
    # Polled from the test (wait_for_function would eval in the page, which CSP forbids).
    assert await eventually(lambda: page.evaluate("window.__violations.length >= 3"))
    assert await page.evaluate("window.__xssCalls") == []
    assert all(v.startswith("script-src") for v in await violations(page))
    await context.close()


@contextlib.contextmanager
def other_site(html: str) -> Iterator[str]:
    """Another website (its own origin, on loopback) serving one page; yields its URL."""
    body = html.encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


async def test_the_bubble_loads_on_another_site_which_cannot_frame_the_console(
    server: Server, browser: Browser
) -> None:
    html = f"""<!doctype html><html><body><h1>Another shop</h1>
<iframe id="console" src="{server.base_url}/agent" onload="window.__framed = true"></iframe>
<script src="{server.base_url}/widget.js" data-chatdesk-url="{server.base_url}" async></script>
</body></html>"""
    context = await browser.new_context()
    context.set_default_timeout(UI_TIMEOUT_MS)
    page = await context.new_page()
    with other_site(html) as url:
        await page.goto(url)
        await open_panel(page)
        await say(page, "how much is postage?")
        await expect(bubbles(page, "bot").last).to_contain_text("€4.95")
        await page.wait_for_function("window.__framed === true")
        frame = next(f for f in page.frames if f.parent_frame is not None)
        assert not frame.url.startswith(server.base_url), frame.url  # refused: an error page
        await expect(page.frame_locator("#console").locator("#login")).to_have_count(0)
    await context.close()
