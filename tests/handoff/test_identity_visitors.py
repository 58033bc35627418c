"""handoff/visitors.py: one visitor per signed-in user, even when their devices say hello at once;
the page URL as agents see it."""

from __future__ import annotations

import asyncio

import pytest

from app.db import make_engine, make_sessionmaker
from handoff import visitors
from handoff.visitors import VerifiedIdentity, page_url_to_store
from handoff.writer import MessageWriter

DEVICES = 5


async def test_devices_saying_hello_at_once_share_the_users_one_visitor(
    database_url: str, writer: MessageWriter
) -> None:
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    ann = VerifiedIdentity(user_id="ann", name="Ann", email="ann@example.com")
    try:
        async with sessions() as s:  # each device's browser already had an anonymous chat
            anonymous = [(await visitors.create_visitor(session=s)).id for _ in range(DEVICES)]

        async def hello(token_visitor_id: int) -> int:
            async with sessions() as s:
                resumed = await visitors.resume(
                    session=s,
                    writer=writer,
                    visitor_id=token_visitor_id,
                    name=None,
                    locale=None,
                    page_url=None,
                    verified=ann,
                    conversation_id=None,
                    last_seq=0,
                )
                return resumed.visitor_id

        ids = await asyncio.gather(*(hello(v) for v in anonymous))
    finally:
        await engine.dispose()
    assert len(set(ids)) == 1, ids
    assert ids[0] in anonymous  # one device's anonymous chat became Ann's


@pytest.mark.parametrize(
    ("url", "kept", "stripped"),
    [
        (
            "https://shop.example/reset?token=abc#x",
            "https://shop.example/reset?token=abc#x",
            "https://shop.example/reset",
        ),
        (
            "https://ann:pw@shop.example:8443/a?b",
            "https://shop.example:8443/a?b",
            "https://shop.example:8443/a",
        ),
        ("http://[::1]:8000/p?q", "http://[::1]:8000/p?q", "http://[::1]:8000/p"),
        ("https://[bad/", None, None),
        ("", None, None),
    ],
)
def test_page_url_to_store(url: str, kept: str | None, stripped: str | None) -> None:
    assert page_url_to_store(url, keep_query=True) == kept
    assert page_url_to_store(url) == stripped
