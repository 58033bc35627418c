"""E-mail replies over real SMTP both ways: the ticket reply goes out with its secret Reply-To
(the conftest `smtp` server catches it), the customer's answer comes in through chatdesk's own
SMTP server (inside `serve`, and as `chatdesk mail-in`) and lands in the conversation."""

from __future__ import annotations

import asyncio
import email.policy
import os
import re
import smtplib
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import pytest
from sqlalchemy import select

from handoff.models import Message, Ticket
from tests.client import ChatClient, agent, visitor
from tests.conftest import Inbox, Server, free_port, make_settings, run_server, seed_kb
from tests.e2e.test_tickets import closed_today, db

DOMAIN = "reply.shop.example"
CUSTOMER = "dana@example.com"
REPLY_TO = re.compile(r"^reply\+(\d+)\.([a-z2-7]{24})@reply\.shop\.example$")


@dataclass
class Desk:
    server: Server
    inbox: Inbox
    mail_in_port: int


@pytest.fixture
async def desk(database_url: str, smtp: tuple[Inbox, int]) -> AsyncIterator[Desk]:
    """chatdesk, closed now (chats become tickets), sending mail out and taking replies in."""
    await seed_kb(database_url)
    inbox, port = smtp
    mail_in_port = free_port()
    settings = make_settings(
        database_url,
        business_hours=closed_today()[0],
        smtp_host="127.0.0.1",
        smtp_port=port,
        mail_from="help@shop.example",
        mail_reply_domain=DOMAIN,
        mail_in_port=mail_in_port,
        mail_in_max_bytes=64 * 1024,
    )
    async with run_server(settings) as srv:
        yield Desk(srv, inbox, mail_in_port)


@dataclass
class Answered:
    conversation_id: int
    ticket_id: int
    reply_to: str
    console: ChatClient
    client: ChatClient  # the visitor, still on the page


async def answered_ticket(desk: Desk) -> Answered:
    """A visitor's ticket with their e-mail, answered by an agent whose console watches it."""
    server = desk.server
    token = await server.create_agent(name="Alice")
    console = await agent(server, token)
    client, welcome = await visitor(server)
    cid = welcome["conversation_id"]
    await client.send({"type": "handoff", "client_msg_id": "h1"})
    await client.expect_type("state", state="ticket")
    await client.send({"type": "email", "email": CUSTOMER})
    await client.expect_type("state", state="ticket")
    async with server.http(token) as http:
        r = await http.post(
            f"/api/agent/conversations/{cid}/ticket-reply",
            json={"client_msg_id": "r1", "text": "Which colour would you like?"},
        )
        assert r.status_code == 201, r.text
    mail = await desk.inbox.next()
    reply_to = str(mail["Reply-To"])
    found = REPLY_TO.match(reply_to)
    assert found, reply_to
    [ticket] = await db(server, select(Ticket))
    assert int(found.group(1)) == ticket.id and ticket.status == "pending"
    await console.send({"type": "watch", "conversation_id": cid, "last_seq": 0})
    await console.expect(lambda f: f.get("type") == "message" and f["sender"] == "agent")
    return Answered(cid, ticket.id, reply_to, console, client)


def mail(to: str, body: str, **headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"Dana <{CUSTOMER}>"
    msg["To"] = to
    msg["Subject"] = "Re: your ticket"
    msg["Message-ID"] = make_msgid(domain="example.com")
    for name, value in headers.items():
        del msg[name.replace("_", "-")]
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg


async def send(port: int, msg: EmailMessage, mail_from: str = CUSTOMER) -> dict[str, Any]:
    """Deliver over SMTP as a mail server would (in a thread: the server runs on this loop)."""

    def blocking() -> dict[str, Any]:
        with smtplib.SMTP("127.0.0.1", port, timeout=20) as smtp:
            return dict(smtp.send_message(msg, from_addr=mail_from))

    return await asyncio.to_thread(blocking)


async def visitor_messages(server: Server, cid: int) -> list[Message]:
    return await db(
        server,
        select(Message)
        .where(Message.conversation_id == cid, Message.sender == "visitor")
        .order_by(Message.seq),
    )


def from_visitor(frame: dict[str, Any]) -> bool:
    return frame.get("type") == "message" and frame["sender"] == "visitor"


REPLY = """Yes, the blue one please.

Thanks,
Dana

--
Dana Example
Example GmbH, Musterstrasse 1

On Mon, 3 Feb 2025 at 10:00, Shop Help <help@shop.example> wrote:
> Alice replied to your ticket #1:
>
> Which colour would you like?
"""


async def test_an_emailed_answer_lands_in_the_conversation_live_once(desk: Desk) -> None:
    t = await answered_ticket(desk)
    before = len(await visitor_messages(desk.server, t.conversation_id))
    answer = mail(t.reply_to, REPLY)
    assert await send(desk.mail_in_port, answer) == {}  # every recipient taken

    frame = await t.console.expect(from_visitor)
    assert frame["conversation_id"] == t.conversation_id
    assert frame["text"] == "Yes, the blue one please."  # no quote, no sign-off, no signature
    assert frame["meta"] == {"kind": "email_reply", "from": CUSTOMER, "from_ticket_address": True}
    # The visitor's open widget shows it too, as their own words.
    mine = await t.client.expect(from_visitor)
    assert mine["text"] == "Yes, the blue one please."
    [ticket] = await db(desk.server, select(Ticket))
    assert ticket.status == "open"  # the ball is ours again

    await send(desk.mail_in_port, answer)  # the sender's server tried again: stored once
    stored = await visitor_messages(desk.server, t.conversation_id)
    assert [m.text for m in stored[before:]] == ["Yes, the blue one please."]

    # Another mailbox may answer too (a forwarded mail): taken, and the console says so.
    other = mail(t.reply_to, "", From="x@corp.example")
    other.set_content("<p>My colleague here: <b>blue</b>, size M.</p><script>x()</script>",
                      subtype="html")
    await send(desk.mail_in_port, other, mail_from="x@corp.example")
    frame = await t.console.expect(from_visitor)
    assert frame["text"] == "My colleague here: blue, size M."
    assert frame["meta"]["from_ticket_address"] is False
    await t.console.close()


async def test_a_transcript_answers_to_the_ticket_too(desk: Desk) -> None:
    t = await answered_ticket(desk)
    await t.client.send({"type": "transcript", "email": CUSTOMER})
    await t.client.expect_type("transcript_sent")
    transcript = await desk.inbox.next()
    assert "Transcript" in str(transcript["Subject"])
    assert transcript["Reply-To"] == t.reply_to
    await t.client.close()
    await t.console.close()


async def test_bounces_and_auto_replies_are_taken_and_dropped(desk: Desk) -> None:
    t = await answered_ticket(desk)
    before = await visitor_messages(desk.server, t.conversation_id)

    bounce = mail(t.reply_to, "Delivery failed", From="MAILER-DAEMON@mx.example.com")
    bounce.make_mixed()
    bounce.replace_header("Content-Type", "multipart/report; report-type=delivery-status")
    assert await send(desk.mail_in_port, bounce, mail_from="") == {}
    for headers in (
        {"Auto_Submitted": "auto-replied"},
        {"X_Autoreply": "yes"},
        {"Precedence": "bulk"},
        {"X_Auto_Response_Suppress": "All"},
    ):
        out_of_office = mail(t.reply_to, "I am out of the office until Monday.", **headers)
        assert await send(desk.mail_in_port, out_of_office) == {}
    # A real answer after them arrives, and it is the only one.
    await send(desk.mail_in_port, mail(t.reply_to, "Blue, please.", Auto_Submitted="no"))
    await t.console.expect(lambda f: f.get("type") == "message" and f["text"] == "Blue, please.")
    after = await visitor_messages(desk.server, t.conversation_id)
    assert [m.text for m in after[len(before):]] == ["Blue, please."]
    await t.console.close()


async def test_forged_addresses_are_refused_and_big_mail_too(desk: Desk) -> None:
    t = await answered_ticket(desk)
    before = len(await visitor_messages(desk.server, t.conversation_id))
    found = REPLY_TO.match(t.reply_to)
    assert found
    good_token = found.group(2)
    wrong_token = ("a" if good_token[0] != "a" else "b") + good_token[1:]
    for address in (
        f"reply+{t.ticket_id}.{wrong_token}@{DOMAIN}",  # a guessed token
        f"reply+{t.ticket_id + 1}.{good_token}@{DOMAIN}",  # another ticket, this one's token
        f"reply+{t.ticket_id}.{good_token}@elsewhere.example",  # not our domain
        f"support@{DOMAIN}",
    ):
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            await send(desk.mail_in_port, mail(address, "let me in"))
        [(code, _)] = refused.value.recipients.values()
        assert code == 550, address

    big = mail(t.reply_to, "x" * (80 * 1024))

    def without_size_hint() -> tuple[int, bytes]:  # a client that does not say SIZE= first
        with smtplib.SMTP("127.0.0.1", desk.mail_in_port, timeout=20) as smtp:
            smtp.ehlo()
            assert smtp.mail(CUSTOMER)[0] == 250
            assert smtp.rcpt(t.reply_to)[0] == 250
            return smtp.data(big.as_bytes(policy=email.policy.SMTP))  # CRLF lines

    answer = await asyncio.to_thread(without_size_hint)
    assert answer[0] == 552, answer
    with pytest.raises(smtplib.SMTPSenderRefused) as told:  # smtplib says SIZE=: refused at once
        await send(desk.mail_in_port, big)
    assert told.value.smtp_code == 552
    assert len(await visitor_messages(desk.server, t.conversation_id)) == before

    # A closed ticket takes no more mail: the sender hears why.
    async with desk.server.http(await desk.server.create_agent("bo@example.com", "Bo")) as http:
        r = await http.post(f"/api/agent/conversations/{t.conversation_id}/close")
        assert r.status_code == 200, r.text
    with pytest.raises(smtplib.SMTPRecipientsRefused) as closed:
        await send(desk.mail_in_port, mail(t.reply_to, "one more thing"))
    [(code, why)] = closed.value.recipients.values()
    assert code == 550 and b"is closed" in why
    await t.console.close()


async def test_chatdesk_mail_in_process(desk: Desk) -> None:
    """`chatdesk mail-in` alone, beside the server: the reply is stored (the hub's sweep or a
    Redis bus brings it to consoles)."""
    t = await answered_ticket(desk)
    port = free_port()
    settings = desk.server.settings
    env = dict(
        os.environ,
        CHATDESK_DATABASE_URL=settings.database_url,
        CHATDESK_SECRET_KEY=str(settings.secret_key),
        CHATDESK_MAIL_REPLY_DOMAIN=DOMAIN,
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app.cli", "mail-in", "--port", str(port),
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 60)
        assert b"listening" in line, line
        await send(port, mail(t.reply_to, "Sent through the mail-in process."))
        texts = [m.text for m in await visitor_messages(desk.server, t.conversation_id)]
        assert texts[-1] == "Sent through the mail-in process."
        frame = await t.console.expect(from_visitor, timeout=30)
        assert frame["text"] == "Sent through the mail-in process."
    finally:
        process.terminate()
        assert await asyncio.wait_for(process.wait(), 20) == 0
    await t.console.close()
