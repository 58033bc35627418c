"""What an e-mailed answer says: bounces and auto-replies told apart, then the newest part
of the text, without the quoted history and the signature.

The cutting is mail-parser-reply's (PyPI `mail-parser-reply`): maintained, and it knows the
"On ... wrote:" / "From: ... Sent:" headers of common mail clients in a dozen languages,
Outlook separators, "Sent from my phone" and sign-offs, where `email-reply-parser` (last
release 2020) knows English only. HTML-only mail is turned into text here with the standard
library's parser: text nodes only, nothing fetched, scripts and styles dropped.
"""

from __future__ import annotations

import re
from email.message import EmailMessage
from html.parser import HTMLParser

from mailparser_reply import EmailReplyParser

from handoff.models import MESSAGE_TEXT_MAX

# The languages whose reply headers and sign-offs are recognised (English always).
REPLY_LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "da", "sv", "pl", "cs"]
AUTO_PRECEDENCE = {"bulk", "junk", "auto_reply", "list"}
# Headers only auto-responders set (RFC 3834's Auto-Submitted is checked by value).
AUTO_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress")
_parser = EmailReplyParser(languages=REPLY_LANGUAGES)


def is_bounce(mail_from: str | None, message: EmailMessage) -> bool:
    """A delivery report: the null sender <>, or a multipart/report (delivery status)."""
    if (mail_from or "").strip("<> ") == "":
        return True
    return message.get_content_type() == "multipart/report"


def is_auto_reply(message: EmailMessage) -> bool:
    """An out-of-office or other automatic answer, by the headers auto-responders set."""
    submitted = str(message.get("Auto-Submitted", "")).strip().lower()
    if submitted and submitted != "no":
        return True
    if any(message.get(name) is not None for name in AUTO_HEADERS):
        return True
    return str(message.get("Precedence", "")).strip().lower() in AUTO_PRECEDENCE


class _TextOnly(HTMLParser):
    """Collects an HTML body's text: block elements break lines; script, style and quoted
    history (a blockquote: what Gmail, Apple Mail and Thunderbird quote in) are dropped."""

    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"}
    SKIP = {"script", "style", "head", "title", "blockquote"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """The visible text of an HTML body."""
    parser = _TextOnly()
    parser.feed(html)
    parser.close()
    lines = (line.strip() for line in "".join(parser.parts).splitlines())
    return "\n".join(lines)


def body_text(message: EmailMessage) -> str:
    """The mail's text: its text/plain part, else its HTML part as text; "" if neither."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeError):  # an unknown or lying charset: keep what decodes
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return ""
    return html_to_text(content) if part.get_content_type() == "text/html" else content


def newest_part(text: str) -> str:
    """The text without quoted history ("On ... wrote:", "> " lines) and signature."""
    replies = _parser.read(text).replies
    newest = replies[0].body if replies else text
    if not newest.strip() and replies:
        newest = replies[0].content  # it was all "signature": keep the words rather than none
    # A quote with no header line above it (top-posting clients that only prefix "> ").
    kept = [line for line in newest.splitlines() if not line.startswith(">")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


def reply_text(message: EmailMessage) -> str:
    """What the visitor wrote, as a chat message: the newest part, within the message limit."""
    text = newest_part(body_text(message).replace("\r\n", "\n")).replace("\x00", "")
    if len(text) > MESSAGE_TEXT_MAX:
        text = text[: MESSAGE_TEXT_MAX - 1] + "…"
    return text
