"""The XSS corpus (tests/data/xss_payloads.json) and how tests/browser/test_xss.py plants it.

Every payload calls `window.__xss(...)` (or alert/confirm) if a page ever runs it; the trap is
installed before any page script and records each call. A page is also checked for what a
payload would leave behind if it were parsed as HTML instead of shown as text.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from playwright.async_api import BrowserContext, Page
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import make_engine, make_sessionmaker
from app.identity import sign_identity
from handoff import agents, canned
from handoff.events import author
from handoff.messages import append_message
from handoff.models import Agent, Conversation, Rating, Sender, Ticket, Visitor, utcnow
from handoff.states import ConversationState
from handoff.visitors import page_url_to_store
from tests.conftest import AGENT_PASSWORD, Server

CORPUS = json.loads((Path(__file__).parents[1] / "data" / "xss_payloads.json").read_text())
PAYLOADS: list[str] = CORPUS["payloads"]
EMAILS: list[str] = CORPUS["emails"]  # payloads that are valid e-mail addresses too
AGENT_NAMES = PAYLOADS[:6]
CANNED = [
    (f"c{i}", PAYLOADS[2 * i], PAYLOADS[2 * i + 1]) for i in range(12)
]  # shortcut, title, text
# Answers as an admin may format them (links, lists, line breaks: widget/bubble/format.js), with
# payloads where the formatting is: in link targets, link labels, list items, bare URLs.
FORMATTED = [
    "Links:\n- [click me](javascript:__xss('md-js'))\n"
    "- [data](data:text/html,<script>__xss('md-data')</script>)\n"
    "- [fine](https://ok.example/a\"onmouseover=\"__xss('md-attr'))",
    "[mail us](mailto:help@ok.example) or https://ok.example/<img/src=x/onerror=__xss('md-bare')>"
    "\n<b onclick=__xss('md-b')>bold?</b>\n[x](https://ok.example/' onclick='__xss(1))",
    "- <img src=x onerror=__xss('md-li')>\n- [<svg onload=__xss('md-label')>](https://ok.example/)"
    "\n- [vb](vbscript:__xss('md-vb'))\nend",
]
LINK_REL = "noopener noreferrer nofollow"
# Every link a formatted answer made: a safe target, a new tab, no opener, no referrer.
LINKS_JS = """(root) => [...root.querySelectorAll("a")].filter(a =>
  !/^(https?|mailto):/.test(a.getAttribute("href")) || a.target !== "_blank"
  || a.rel !== REL || a.attributes.length !== 3).map(a => a.outerHTML)""".replace(
    "REL", json.dumps(LINK_REL)
)
# Agents' photos: refused (not http), and one that tries to break out of its attribute.
AVATARS = ["javascript:__xss('avatar')", "http://127.0.0.1:1/a.png\" onerror=\"__xss('avatar')"]

TRAP = """
window.__xssCalls = [];
window.__xss = (...args) => { window.__xssCalls.push(args.map(String).join(",")); };
for (const name of ["alert", "confirm", "prompt"]) {
  window[name] = (...args) => { window.__xss(name, ...args); };
}
"""
# What a payload parsed as HTML would leave behind in a container of chat data.
STRAY_MARKUP = """(root) => {
  const allowed = new Set(%s);
  const bad = [];
  for (const el of root.querySelectorAll("*")) {
    const tag = el.tagName.toLowerCase();
    if (!allowed.has(tag)) bad.push(tag);
    for (const a of el.attributes) if (/^on/i.test(a.name)) bad.push(tag + "[" + a.name + "]");
    const href = el.getAttribute("href") || "";
    if (tag === "a" && !/^(https?|mailto):/.test(href)) bad.push("a[href]");
    if (tag === "img" && !/^https?:/.test(el.getAttribute("src") || "")) bad.push("img[src]");
  }
  return bad;
}"""


def stray_markup_js(allowed: list[str]) -> str:
    return STRAY_MARKUP % json.dumps(allowed)


async def trapped_context(context: BrowserContext) -> list[str]:
    """Install the trap in every page and frame of the context; returns the dialogs list.

    The context bypasses our Content-Security-Policy, so that what is tested here is that the
    pages show data as text: CSP is the second line (tests/browser/test_security_headers.py).
    """
    await context.add_init_script(TRAP)
    dialogs: list[str] = []

    def on_page(page: Page) -> None:
        async def dismiss(dialog: Any) -> None:
            dialogs.append(dialog.message)
            await dialog.dismiss()

        page.on("dialog", dismiss)

    context.on("page", on_page)
    return dialogs


async def prove_trap_is_armed(page: Page) -> None:
    """A payload that does reach the DOM as HTML is caught: the test is not blind."""
    await page.evaluate(
        "document.body.insertAdjacentHTML('beforeend', '<img id=xss-probe src=x onerror=__xss(0)>')"
    )
    await page.wait_for_function("window.__xssCalls.length > 0")
    await page.evaluate(
        "window.__xssCalls.length = 0; document.getElementById('xss-probe').remove()"
    )


async def xss_calls(page: Page) -> list[str]:
    calls: list[str] = await page.evaluate("window.__xssCalls")
    for frame in page.frames[1:]:
        calls += await frame.evaluate("window.__xssCalls || []")
    return calls


@asynccontextmanager
async def db(server: Server) -> Any:
    engine = make_engine(server.settings.database_url)
    try:
        async with make_sessionmaker(engine)() as s:
            yield s
    finally:
        await engine.dispose()


async def seed_agents_and_canned(server: Server) -> list[Agent]:
    """Agents named with payloads (the first is an admin), and payload canned replies."""
    async with db(server) as s:
        team = [
            await agents.create_agent(
                session=s,
                email=f"agent{i}@x.io",
                name=name,
                password=AGENT_PASSWORD,
                is_admin=i == 0,
            )
            for i, name in enumerate(AGENT_NAMES)
        ]
        for member, avatar in zip(team[1:], AVATARS, strict=False):
            member.avatar_url = avatar
        await s.commit()
        for shortcut, title, text in CANNED:
            await canned.create(session=s, shortcut=shortcut, title=title, text=text)
    return team


def bot_meta(i: int, payload: str) -> dict[str, Any]:
    """What the bot stores beside an answer: the entry and its runners-up, payloads all."""
    other = PAYLOADS[(i + 1) % len(PAYLOADS)]
    return {
        "kind": "answer",
        "entry_id": f"e{i}",
        "question": payload,
        "score": 0.91,
        "candidates": [
            {"entry_id": f"e{i}", "question": payload, "score": 0.91},
            {"entry_id": other[:40], "question": other, "score": 0.5},
        ],
    }


async def plant_messages(s: AsyncSession, conversation_id: int) -> None:
    """Every payload as something the visitor said and as a knowledge-base answer, the
    formatted answers, then a "did you mean" whose options are payloads; committed."""
    for i, payload in enumerate(PAYLOADS):
        await append_message(
            session=s,
            conversation_id=conversation_id,
            sender=Sender.VISITOR,
            text=payload,
            client_msg_id=uuid.uuid4().hex,
        )
        await append_message(
            session=s,
            conversation_id=conversation_id,
            sender=Sender.BOT,
            text=payload,
            meta=bot_meta(i, payload),
        )
    for i, text in enumerate(FORMATTED):
        await append_message(
            session=s,
            conversation_id=conversation_id,
            sender=Sender.BOT,
            text=text,
            meta=bot_meta(i, text),
        )
    options = [
        {"entry_id": f"e{i}", "question": p, "score": 0.6} for i, p in enumerate(PAYLOADS[:5])
    ]
    await append_message(
        session=s,
        conversation_id=conversation_id,
        sender=Sender.BOT,
        text=PAYLOADS[-1],
        meta={"kind": "clarify", "options": options, "candidates": options},
    )
    await s.commit()


async def plant_notes_ticket_rating(s: AsyncSession, conversation_id: int, agent: Agent) -> None:
    """Private notes, a ticket e-mail and a rating comment, all payloads; committed."""
    for payload in PAYLOADS[::7]:
        await append_message(
            session=s,
            conversation_id=conversation_id,
            sender=Sender.NOTE,
            text=payload,
            agent_id=agent.id,
            meta={"author": author(agent)},
        )
    s.add(Ticket(conversation_id=conversation_id, email=EMAILS[0], reply_by=utcnow()))
    s.add(Rating(conversation_id=conversation_id, stars=2, comment=PAYLOADS[10]))
    await s.commit()


def chunks() -> Iterator[tuple[int, str, str, str]]:
    """(k, typed name, signed name, page payload): every payload in one of a visitor's fields."""
    for k in range(0, len(PAYLOADS), 3):
        part = (PAYLOADS[k : k + 3] + PAYLOADS[:3])[:3]
        yield k // 3, part[0], part[1], part[2]


async def plant_visitors(s: AsyncSession) -> list[tuple[int, list[str]]]:
    """One queued conversation per chunk, its visitor's fields payloads; (conversation, texts)."""
    planted = []
    for k, typed, signed, page in chunks():
        stored_page = page_url_to_store("https://shop.example/" + page)  # as the server would
        assert stored_page is not None
        visitor = Visitor(
            name=typed,
            email=EMAILS[k % len(EMAILS)],
            user_id=f"user-{k}",
            verified_name=signed,
            verified_email=EMAILS[(k + 1) % len(EMAILS)],
            page_url=stored_page,
        )
        s.add(visitor)
        await s.flush()
        conv = Conversation(
            visitor_id=visitor.id,
            state=ConversationState.QUEUED,
            queued_at=utcnow(),
            escalation_reason="asked_for_human",
        )
        s.add(conv)
        await s.flush()
        planted.append((conv.id, [typed, signed, stored_page]))
    await s.commit()
    return planted


def signed_identity(secret: str, user_id: str, name: str, email: str) -> dict[str, Any]:
    expires = int(time.time()) + 600
    sig = sign_identity(secret=secret, user_id=user_id, name=name, email=email, expires=expires)
    return {"user_id": user_id, "name": name, "email": email, "expires": expires, "signature": sig}
