"""What an e-mailed answer says (handoff/mail_text.py) and whose reply address it is
(handoff/reply_address.py): pure functions, on mails as common clients write them."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from handoff.mail_text import html_to_text, is_auto_reply, is_bounce, reply_text
from handoff.reply_address import address_for, ticket_of

KEY = "k" * 43


def plain(body: str, **headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "dana@example.com"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (  # Gmail, German
            "Ja, gerne in Blau.\n\nAm Mo., 3. Feb. 2025 um 10:00 Uhr schrieb Shop Help "
            "<help@shop.example>:\n> Welche Farbe?\n",
            "Ja, gerne in Blau.",
        ),
        (  # Outlook's header block, and a phone's sign-off
            "Blue please.\n\nSent from my iPhone\n\nFrom: Shop Help <help@shop.example>\n"
            "Sent: Monday, February 3, 2025 10:00 AM\nTo: Dana\nSubject: Re: your ticket\n\n"
            "Which colour?\n",
            "Blue please.",
        ),
        (  # a bare "> " quote under the answer, and a "-- " signature
            "Size M.\n\n> Which size?\n\n-- \nDana Example\n+49 30 1234567\n",
            "Size M.",
        ),
        ("Just this line.", "Just this line."),
    ],
)
def test_the_newest_part_is_kept(body: str, expected: str) -> None:
    assert reply_text(plain(body)) == expected


def test_html_only_mail_becomes_text_and_nothing_runs() -> None:
    msg = plain("")
    msg.set_content(
        "<html><head><style>p{color:red}</style><title>t</title></head><body>"
        "<p>Blue &amp; size&nbsp;M, <a href='https://evil.example'>please</a>.</p>"
        "<script>alert(1)</script><img src='https://tracker.example/p.gif'>"
        "<div>On Mon, 3 Feb 2025 at 10:00, Shop Help &lt;help@shop.example&gt; wrote:</div>"
        "<blockquote><p>Which colour?</p><p>Alice</p></blockquote></body></html>",
        subtype="html",
    )
    assert reply_text(msg) == "Blue & size M, please."
    lines = html_to_text("<div>a</div><div>b<br>c</div>").splitlines()
    assert [line for line in lines if line] == ["a", "b", "c"]


def test_plain_text_is_preferred_to_html() -> None:
    msg = plain("The plain words.")
    msg.add_alternative("<p>The <b>HTML</b> words.</p>", subtype="html")
    assert reply_text(msg) == "The plain words."


def test_bounces_and_auto_replies_are_told_apart() -> None:
    assert is_bounce("", plain("x")) and is_bounce("<>", plain("x"))
    report = plain("x")
    report.make_mixed()
    report.replace_header("Content-Type", "multipart/report; report-type=delivery-status")
    assert is_bounce("mailer-daemon@mx.example", report)
    assert not is_bounce("dana@example.com", plain("x"))
    assert is_auto_reply(plain("x", Auto_Submitted="auto-replied"))
    assert is_auto_reply(plain("x", Precedence="junk"))
    assert is_auto_reply(plain("x", X_Autoreply="yes"))
    assert not is_auto_reply(plain("x", Auto_Submitted="no"))
    assert not is_auto_reply(plain("x"))


def test_reply_addresses_are_signed_per_ticket() -> None:
    address = address_for(key=KEY, ticket_id=42, domain="reply.example")
    assert ticket_of(key=KEY, address=address, domain="reply.example") == 42
    # Mail systems may change the case of an address, and wrap it in <>.
    assert ticket_of(key=KEY, address=f"<{address.upper()}>", domain="REPLY.example") == 42
    token = address.split(".")[1].split("@")[0]
    for forged in (
        f"reply+43.{token}@reply.example",
        address.replace(token, token[::-1]),
        address_for(key="other" * 9, ticket_id=42, domain="reply.example"),
        "reply+42@reply.example",
    ):
        assert ticket_of(key=KEY, address=forged, domain="reply.example") is None
    assert ticket_of(key=KEY, address=address, domain="other.example") is None
