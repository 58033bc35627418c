"""Chat bubble: gzipped size of widget.js and time from page load to a usable launcher.

    .venv/bin/python -m benchmarks.widget_timing [--runs 10]

Starts chatdesk on loopback with the test knowledge base (temporary SQLite), opens the demo
shop in Debian's Chromium in a fresh profile per run and reports, from navigation start:
the launcher on screen, and the launcher usable (connected: the visitor `welcome` arrived).
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import statistics
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from playwright.async_api import async_playwright  # noqa: E402

from app.cli import upgrade_database  # noqa: E402
from app.widget_bundle import WIDGET_JS, load_bundle  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_FLAGS  # noqa: E402
from tests.conftest import make_settings, run_server, seed_kb  # noqa: E402

MARKS = """() => new Promise(resolve => {
  const t = {};
  const tick = () => {
    const root = document.querySelector('chatdesk-widget')?.shadowRoot;
    const launch = root?.querySelector('.launch');
    if (launch && t.shown === undefined && launch.getBoundingClientRect().width > 0)
      t.shown = performance.now();
    if (root && root.querySelector('.conn').textContent === 'Online') {
      t.usable = performance.now();
      t.dcl = performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd;
      return resolve(t);
    }
    requestAnimationFrame(tick);
  };
  tick();
})"""


async def main(runs: int) -> None:
    raw = load_bundle(WIDGET_JS).body  # what GET /widget.js serves: the joined modules
    print(f"widget.js: {len(raw)} bytes, {len(gzip.compress(raw, 9))} bytes gzipped")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        await asyncio.to_thread(upgrade_database, url)
        await seed_kb(url)
        async with run_server(make_settings(url)) as server, async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            results = []
            for _ in range(runs + 1):  # the first run warms the server up and is not counted
                context = await browser.new_context()
                page = await context.new_page()
                await page.goto(server.base_url + "/", wait_until="commit")
                results.append(await page.evaluate(MARKS))
                await context.close()
            await browser.close()
    for key, label in (("dcl", "DOMContentLoaded"), ("shown", "launcher on screen"),
                       ("usable", "launcher usable (connected)")):
        values = [r[key] for r in results[1:]]
        print(f"{label:30s} median {statistics.median(values):6.0f} ms"
              f"   max {max(values):6.0f} ms   ({runs} runs)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    asyncio.run(main(parser.parse_args().runs))
