"""Canned reply search: the agent's query matches literally, LIKE's wildcards included."""

from __future__ import annotations

from handoff import canned

REPLIES = {
    "discount": "Use code SAVE50% for 50% off.",
    "fifty": "We ship 50 or more items for free.",
    "path": r"Open C:\Orders\latest to see it.",
    "snake": "Your order_id is on the receipt.",
    "plain": "Your order id is on the receipt.",
}


async def shortcuts_for(session, query: str) -> list[str]:
    return [r.shortcut for r in await canned.search(session=session, query=query)]


async def test_search_treats_wildcards_as_text(session) -> None:
    for shortcut, text in REPLIES.items():
        await canned.create(session=session, shortcut=shortcut, title=shortcut, text=text)
    assert await shortcuts_for(session, "50%") == ["discount"]  # not "50 or more"
    assert await shortcuts_for(session, "order_id") == ["snake"]  # not "order id"
    assert await shortcuts_for(session, "%") == ["discount"]
    assert await shortcuts_for(session, "_") == ["snake"]
    assert await shortcuts_for(session, "\\orders\\") == ["path"]
    assert await shortcuts_for(session, "/fifty") == ["fifty"]  # typed after "/"
    assert await shortcuts_for(session, "") == sorted(REPLIES)
