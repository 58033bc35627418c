"""The XSS corpus in Chromium: every payload of tests/data/xss_payloads.json as the visitor's
name, page and messages, knowledge-base answers (plain and formatted), canned replies, agent
names, notes, ratings and ticket e-mails, shown by the chat bubble, the demo page, the agent
console (an admin's) and the admin console's knowledge base.

Zero script executions (the `window.__xss` trap and dialogs), and zero broken layouts: each
page's containers are there, every payload is there as text, and nothing a payload carries
became an element or an event handler. Two tests, each loading the whole corpus at once.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.widget_page import UI_TIMEOUT_MS, bubbles, db_scalar, open_panel, say
from tests.browser.xss_corpus import (
    AGENT_NAMES,
    CANNED,
    EMAILS,
    FORMATTED,
    LINKS_JS,
    PAYLOADS,
    db,
    plant_messages,
    plant_notes_ticket_rating,
    plant_visitors,
    prove_trap_is_armed,
    seed_agents_and_canned,
    signed_identity,
    stray_markup_js,
    trapped_context,
    xss_calls,
)
from tests.client import agent, visitor
from tests.conftest import AGENT_PASSWORD, TEST_KB, Server, make_settings, run_server, seed_kb

SECRET = "site-secret-" + "x" * 32
# What the bubble's log is made of (lists and line breaks: formatted answers).
CHAT_TAGS = ["div", "p", "span", "time", "button", "img", "a", "ul", "li", "br"]


@pytest.fixture
async def xss_server(database_url: str, tmp_path: Path) -> AsyncIterator[Server]:
    """The shop's knowledge base with a payload at the end of every answer, then formatting."""
    lines = TEST_KB.read_text().splitlines()
    kb = tmp_path / "kb.jsonl"
    entries = []
    for i, line in enumerate(lines):
        entry = json.loads(line)
        entry["answer"] += " " + PAYLOADS[-(i + 1)] + "\n" + FORMATTED[i % len(FORMATTED)]
        entries.append(json.dumps(entry, ensure_ascii=False))
    kb.write_text("\n".join(entries) + "\n")
    await seed_kb(database_url, kb)
    async with run_server(make_settings(database_url, identity_secret=SECRET)) as srv:
        yield srv


async def login_token(server: Server, email: str) -> str:
    async with server.http() as http:
        r = await http.post("/api/agent/login", json={"email": email, "password": AGENT_PASSWORD})
        r.raise_for_status()
        return str(r.json()["token"])


async def visible_count(server: Server, conversation_id: int, *, notes: bool) -> int:
    where = "" if notes else " AND sender <> 'note'"
    sql = f"SELECT count(*) FROM messages WHERE conversation_id = :c{where}"  # noqa: S608
    return int(await db_scalar(server, sql, c=conversation_id))


async def assert_nothing_ran(page: Page, dialogs: list[str]) -> None:
    assert await xss_calls(page) == []
    assert dialogs == []
    stray = await page.evaluate(
        "[...document.querySelectorAll('iframe, object, embed, script:not([src]), body > img,"
        " body > svg, marquee, base, meta[http-equiv]')].map(e => e.tagName)"
    )
    assert stray == []


async def test_bubble_and_demo_page_show_every_payload_as_text(
    xss_server: Server, browser: Browser, artifacts: Path
) -> None:
    server = xss_server
    team = await seed_agents_and_canned(server)
    tokens = [await login_token(server, f"agent{i}@x.io") for i in range(2)]
    consoles = [await agent(server, t) for t in tokens]  # online: the handoff queues
    context = await browser.new_context(bypass_csp=True, viewport={"width": 1200, "height": 900})
    context.set_default_timeout(UI_TIMEOUT_MS)
    dialogs = await trapped_context(context)
    page = await context.new_page()
    await page.goto(server.base_url + "/")
    await prove_trap_is_armed(page)
    await open_panel(page)

    # A real answer from the knowledge base (its answer ends in a payload).
    await say(page, "how much is postage?")
    await expect(bubbles(page, "bot").last).to_contain_text("€4.95")
    store = f"chatdesk:{server.base_url}:"
    conv = await page.evaluate(f"JSON.parse(localStorage.getItem({json.dumps(store + 'conv')}))")
    token = await page.evaluate(f"JSON.parse(localStorage.getItem({json.dumps(store + 'token')}))")
    async with db(server) as s:
        await plant_messages(s, conv)
    # A person: the visitor asks, an agent named with a payload takes it, answers with the
    # canned payloads, hands over to another one (with a payload note), who answers too.
    await page.locator("chatdesk-widget .hum").click()
    await consoles[0].expect_type("conversation", conversation_id=conv, state="queued")
    async with server.http(tokens[0]) as http:
        (await http.post(f"/api/agent/conversations/{conv}/take")).raise_for_status()
        for n, (_, _, text) in enumerate(CANNED):
            await consoles[0].send(
                {"type": "message", "conversation_id": conv, "client_msg_id": f"r{n}", "text": text}
            )
            await consoles[0].expect_ack(f"r{n}")
        r = await http.post(
            f"/api/agent/conversations/{conv}/transfer",
            json={"to_agent_id": team[1].id, "note": PAYLOADS[7]},
        )
        r.raise_for_status()
    await consoles[1].send(
        {"type": "message", "conversation_id": conv, "client_msg_id": "b1", "text": PAYLOADS[8]}
    )
    await consoles[1].expect_ack("b1")
    # The visitor's e-mail addresses, over the protocol (the same visitor on a second socket).
    other_tab, _ = await visitor(server, token=token, conversation_id=conv)
    for email in EMAILS:
        await other_tab.send({"type": "email", "email": email})
        await other_tab.expect(lambda f, e=email: f.get("type") == "message" and e in f["text"])
    await other_tab.close()

    await page.reload()  # the cache drawn first, then everything resumed from the server
    shown = await visible_count(server, conv, notes=False)
    await expect(bubbles(page)).to_have_count(shown)
    await expect(page.locator("chatdesk-widget .stat")).to_contain_text(AGENT_NAMES[1])
    await page.screenshot(path=str(artifacts / "xss-widget.png"))
    await assert_nothing_ran(page, dialogs)
    widget = "document.querySelector('chatdesk-widget').shadowRoot"
    parts = await page.evaluate(
        f"['.launch', '.panel', '.log', '.comp', '#cd-text', '.stat']"
        f".filter(s => {widget}.querySelector(s))"
    )
    assert parts == [".launch", ".panel", ".log", ".comp", "#cd-text", ".stat"]
    log_text = await page.evaluate(f"{widget}.querySelector('.log').textContent")
    for text in [*PAYLOADS, *AGENT_NAMES[:2], *EMAILS]:
        assert text in log_text, text
    for part in (".log", ".stat"):
        stray = await page.evaluate(
            f"({stray_markup_js(CHAT_TAGS)})({widget}.querySelector('{part}'))"
        )
        assert stray == [], (part, stray)
    log = f"{widget}.querySelector('.log')"
    assert await page.evaluate(f"({LINKS_JS})({log})") == []
    assert await page.evaluate(f"{log}.querySelectorAll('li').length") > 0  # formatting is on
    assert await page.evaluate(f"{log}.querySelectorAll('a[href^=\"mailto:\"]').length") > 0
    # Agents' photos that are not http(s), or that try to leave their attribute, are not used
    # as given: initials instead, or the URL kept whole inside src.
    srcs = await page.evaluate(f"[...{widget}.querySelectorAll('img')].map(i => i.src)")
    assert all(src.startswith("http://127.0.0.1:1/") for src in srcs), srcs

    # The plain demo page, on the same visitor and conversation.
    await page.evaluate(
        "([t, c]) => { localStorage.setItem('chatdesk.token', t);"
        " localStorage.setItem('chatdesk.conversation', String(c)); }",
        [token, conv],
    )
    await page.goto(server.base_url + "/demo")
    await expect(page.locator("#log .msg")).to_have_count(shown)
    await expect(page.locator("#status")).to_contain_text(AGENT_NAMES[1])
    await page.screenshot(path=str(artifacts / "xss-demo.png"))
    await assert_nothing_ran(page, dialogs)
    demo_text = await page.locator("#log").text_content()
    assert demo_text is not None
    for text in [*PAYLOADS, *EMAILS]:
        assert text in demo_text, text
    assert (
        await page.evaluate(
            f"({stray_markup_js(['div', 'span', 'button'])})(document.getElementById('log'))"
        )
        == []
    )
    for selector in ["#log", "#send", "#text", "#status"]:
        await expect(page.locator(selector)).to_have_count(1)
    await context.close()
    for c in consoles:
        await c.close()


CONSOLE_PARTS = [
    "#list-queued",
    "#list-open",
    "#transcript",
    "#profile",
    "#composer",
    "#canned-list",
    "#history",
    "#visitor-tickets",
]
DATA_PARTS = [
    "#list-queued",
    "#list-open",
    "#transcript",
    "#profile",
    "#canned-list",
    "#canned-menu",
    "#transfer-to",
    "#visitor-typing",
    "#me-name",
    "#conv-title",
]
CONSOLE_TAGS = ["div", "span", "b", "dt", "dd", "li", "button", "code", "ul", "option", "a", "br"]


async def test_console_shows_every_payload_as_text(
    xss_server: Server, browser: Browser, artifacts: Path
) -> None:
    server = xss_server
    team = await seed_agents_and_canned(server)
    async with db(server) as s:
        planted = await plant_visitors(s)
    # A visitor over the protocol: a typed name and page, a signed name and e-mail, a typed one.
    client, welcome = await visitor(
        server,
        name=PAYLOADS[20],
        page_url="https://shop.example/" + PAYLOADS[21],
        identity=signed_identity(SECRET, "big-spender", PAYLOADS[22], EMAILS[1]),
    )
    cid = welcome["conversation_id"]
    await client.send({"type": "email", "email": EMAILS[2]})
    await client.expect(lambda f: f.get("type") == "message" and f["sender"] == "system")
    async with db(server) as s:
        await plant_messages(s, cid)
        await plant_notes_ticket_rating(s, cid, team[1])

    context = await browser.new_context(bypass_csp=True, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(UI_TIMEOUT_MS)
    dialogs = await trapped_context(context)
    page = await context.new_page()
    await page.goto(server.base_url + "/agent")
    await prove_trap_is_armed(page)
    await page.fill("#email", "agent0@x.io")  # the admin, named with a payload
    await page.fill("#password", AGENT_PASSWORD)
    await page.click("#login button[type=submit]")
    await expect(page.locator("#conn")).to_have_text("Connected")
    await expect(page.locator("#me-name")).to_contain_text(AGENT_NAMES[0])
    await client.send({"type": "handoff", "client_msg_id": "h1"})
    await client.expect_type("state", state="queued")

    await page.click(f"#list-queued button[data-id='{cid}']")
    await expect(page.locator("#transcript .msg")).to_have_count(
        await visible_count(server, cid, notes=True)
    )
    await page.click("#take")
    await expect(page.locator("#conv-title")).to_contain_text("you")
    await client.send({"type": "typing", "draft": PAYLOADS[30]})
    await expect(page.locator("#visitor-typing")).to_contain_text(PAYLOADS[30])
    profile = page.locator("#profile")
    await expect(profile.locator("dd:has(.verified)").first).to_contain_text("big-spender")
    await expect(profile.locator("dd:has(.verified)", has_text=PAYLOADS[22])).to_have_count(1)
    await expect(profile.locator("dd:has(.verified)", has_text=EMAILS[1])).to_have_count(1)
    await expect(profile.locator("dd:has(.unverified)", has_text=PAYLOADS[20])).to_have_count(1)
    await expect(profile.locator("dd:has(.unverified)", has_text=EMAILS[2])).to_have_count(1)
    for text in [EMAILS[0], PAYLOADS[10], "https://shop.example/"]:
        await expect(profile).to_contain_text(text)
    # Canned replies: the "/" menu in the composer, and the admin's list.
    await page.fill("#text", "")
    await page.type("#text", "/c")
    await expect(page.locator("#canned-menu li")).to_have_count(len(CANNED))
    await page.click("#canned-admin summary")
    await expect(page.locator("#canned-list li")).to_have_count(len(CANNED))
    await page.click("#transfer")
    await expect(page.locator("#transfer-to option")).to_have_count(len(AGENT_NAMES) - 1)
    await page.screenshot(path=str(artifacts / "xss-console.png"))
    roster = await page.locator("#transfer-to").text_content()
    await page.click("#transfer-cancel")
    assert roster is not None and all(name in roster for name in AGENT_NAMES[1:])
    texts = {
        part: await page.locator(part).text_content() or ""
        for part in ["#transcript", "#canned-menu", "#canned-list"]
    }
    for payload in PAYLOADS:
        assert payload in texts["#transcript"], payload
    for _, title, text in CANNED:
        assert title in texts["#canned-list"] and text in texts["#canned-list"]
        assert title in texts["#canned-menu"] and text in texts["#canned-menu"]

    # Every other visitor: a typed name, a signed name, a page, each a payload.
    for conversation_id, fields in planted:
        await page.click(f"#list-open button[data-id='{conversation_id}']")
        await expect(page.locator("#conv-title")).to_contain_text(f"#{conversation_id} ")
        for text in fields:
            await expect(profile).to_contain_text(text)
    await assert_nothing_ran(page, dialogs)
    for part in CONSOLE_PARTS:
        await expect(page.locator(part)).to_have_count(1)
    for part in DATA_PARTS:
        stray = await page.evaluate(
            f"({stray_markup_js(CONSOLE_TAGS)})(document.querySelector('{part}'))"
        )
        assert stray == [], (part, stray)
    await context.close()
    await client.close()


KB_TAGS = ["tr", "td", "code", "div", "span", "button", "a", "ul", "li", "br", "p", "strong",
           "table", "thead", "tbody", "th"]


async def test_admin_knowledge_base_shows_every_answer_as_text(
    xss_server: Server, browser: Browser, artifacts: Path
) -> None:
    """The admin's list and "try a question" render the payload answers (formatted) as text."""
    server = xss_server
    await seed_agents_and_canned(server)
    context = await browser.new_context(bypass_csp=True, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(UI_TIMEOUT_MS)
    dialogs = await trapped_context(context)
    page = await context.new_page()
    await page.goto(server.base_url + "/admin")
    await prove_trap_is_armed(page)
    await page.fill("#email", "agent0@x.io")
    await page.fill("#password", AGENT_PASSWORD)
    await page.click("#login button[type=submit]")
    await expect(page.locator("#kb-rows tr")).to_have_count(len(TEST_KB.read_text().splitlines()))
    await page.fill("#kb-try-q", "how much is postage?")
    await page.click("#kb-try button[type=submit]")
    await expect(page.locator("#kb-try-action")).to_have_text("Answers")
    await page.screenshot(path=str(artifacts / "xss-admin-kb.png"), full_page=True)
    await assert_nothing_ran(page, dialogs)
    rows = await page.locator("#kb-rows").text_content() or ""
    for payload in PAYLOADS[-len(TEST_KB.read_text().splitlines()):]:
        assert payload in rows, payload
    for part in ("#kb-rows", "#kb-try-result"):
        stray = await page.evaluate(
            f"({stray_markup_js(KB_TAGS)})(document.querySelector('{part}'))"
        )
        assert stray == [], (part, stray)
        assert await page.evaluate(f"({LINKS_JS})(document.querySelector('{part}'))") == []
    await context.close()
