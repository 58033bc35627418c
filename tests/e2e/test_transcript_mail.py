"""The `transcript` frame is no spam relay: only to the visitor's own confirmed address, once per
conversation and address per period, within an hourly budget; a refusal sends nothing.

Real websockets, a real database and a real SMTP server (aiosmtpd). "Nothing was sent" is shown
without waiting on a clock: after each refusal a legitimate transcript is asked for, and the
next mail the SMTP server receives is that one.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.identity import sign_identity
from tests.browser.widget_page import db_rows
from tests.client import ChatClient, visitor
from tests.conftest import Inbox, Server, make_settings, run_server, seed_kb

SECRET = "site-secret-" + "m" * 32
NOBODY_ONLINE: dict[str, str] = {}  # no agent connects: every handoff becomes a ticket


def identity(user_id: str, email: str) -> dict[str, Any]:
    expires = int(time.time()) + 600
    return {
        "user_id": user_id,
        "email": email,
        "expires": expires,
        "signature": sign_identity(secret=SECRET, user_id=user_id, email=email, expires=expires),
    }


PERIOD_S = 1800  # one transcript per conversation and address per half hour


@pytest.fixture
async def mailing(
    database_url: str, smtp: tuple[Inbox, int]
) -> AsyncIterator[tuple[Server, Inbox]]:
    await seed_kb(database_url)
    inbox, port = smtp
    settings = make_settings(
        database_url,
        smtp_host="127.0.0.1",
        smtp_port=port,
        identity_secret=SECRET,
        mail_budget_per_hour=3,
        transcript_period_s=PERIOD_S,
    )
    async with run_server(settings) as srv:
        yield srv, inbox


async def ticket_with_email(client: ChatClient, email: str) -> None:
    """Nobody is online: "talk to a person" opens a ticket; the visitor leaves their address."""
    await client.send({"type": "handoff", "client_msg_id": "h1"})
    await client.expect_type("state", state="ticket")
    await client.send({"type": "email", "email": email})
    await client.expect(
        lambda f: f.get("type") == "message" and (f.get("meta") or {}).get("kind") == "email"
    )


async def refused(client: ChatClient, email: str) -> dict[str, Any]:
    await client.send({"type": "transcript", "email": email})
    frame = await client.expect(lambda f: f.get("type") in ("error", "transcript_sent"))
    assert frame["type"] == "error", f"a transcript went to {email}"
    return frame


async def sent_to(client: ChatClient, inbox: Inbox, email: str) -> None:
    await client.send({"type": "transcript", "email": email})
    assert (await client.expect_type("transcript_sent"))["email"] == email
    mail = await inbox.next()
    assert mail["To"] == email


async def test_no_transcript_to_an_address_that_is_not_the_visitors(
    mailing: tuple[Server, Inbox],
) -> None:
    server, inbox = mailing
    client, _ = await visitor(server)
    await client.say("how much is postage?")  # what an attacker would mail: any text they type
    await client.expect(lambda f: f.get("type") == "message" and f["sender"] == "bot")
    # An anonymous visitor with no ticket has no confirmed address: nobody can be mailed.
    error = await refused(client, "victim@example.com")
    assert error["code"] == "forbidden"
    assert "your own address" in error["message"]
    # Once they leave an address on their ticket, that one (and only that one) works.
    await ticket_with_email(client, "dana@example.com")
    assert (await refused(client, "victim@example.com"))["code"] == "forbidden"
    await sent_to(client, inbox, "dana@example.com")  # the first and only mail
    assert [r.address for r in await db_rows(server, "SELECT address FROM sent_mail")] == [
        "dana@example.com"
    ]
    await client.close()


async def test_one_transcript_per_conversation_and_address_per_period(
    mailing: tuple[Server, Inbox],
) -> None:
    server, inbox = mailing
    client, _ = await visitor(server)
    await ticket_with_email(client, "dana@example.com")
    await sent_to(client, inbox, "dana@example.com")
    for _ in range(3):  # asking again and again sends nothing more
        error = await refused(client, "Dana@example.com")
        assert error["code"] == "rate_limited"
        assert "already sent" in error["message"]
        assert 0 < error["retry_after"] <= PERIOD_S  # when the period since the mail ends
    # The socket is still usable, and other visitors are not affected by this one's limit.
    cmid = await client.say("thanks, one more question")
    await client.expect_ack(cmid)
    other, _ = await visitor(server)
    await ticket_with_email(other, "erin@example.com")
    await sent_to(other, inbox, "erin@example.com")  # the next mail: none of Dana's repeats
    await client.close()
    await other.close()


async def test_a_signed_in_users_own_address_is_confirmed(mailing: tuple[Server, Inbox]) -> None:
    server, inbox = mailing
    client, _ = await visitor(server, identity=identity("u-1", "grace@example.com"))
    await client.say("how much is postage?")
    await client.expect(lambda f: f.get("type") == "message" and f["sender"] == "bot")
    # What the visitor types is not confirmed, even while signed in.
    await client.send({"type": "email", "email": "mallory@example.com"})
    assert (await refused(client, "mallory@example.com"))["code"] == "forbidden"
    await sent_to(client, inbox, "grace@example.com")
    await client.close()


async def test_the_hourly_mail_budget_holds_for_all_visitors_together(
    mailing: tuple[Server, Inbox],
) -> None:
    server, inbox = mailing  # a budget of 3 visitor-requested mails an hour
    clients = []
    for n in range(4):
        client, _ = await visitor(server)
        await ticket_with_email(client, f"visitor{n}@example.com")
        clients.append(client)
    for n, client in enumerate(clients[:3]):
        await sent_to(client, inbox, f"visitor{n}@example.com")
    error = await refused(clients[3], "visitor3@example.com")
    assert error["code"] == "rate_limited"
    assert "try again later" in error["message"]
    assert 0 < error["retry_after"] <= 3600  # when the oldest of the hour's mails drops out
    assert len(await db_rows(server, "SELECT id FROM sent_mail")) == 3
    for client in clients:
        await client.close()
