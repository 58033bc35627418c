"""Outgoing e-mail over SMTP: ticket replies and transcripts.

smtplib is blocking, so each send runs in a worker thread. Mail goes out after the data it
reports is committed; a failed send is logged and never undoes the chat.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

from email_validator import EmailNotValidError, validate_email

from handoff.errors import Invalid

log = logging.getLogger(__name__)

SMTP_TIMEOUT_S = 20  # a mail server slower than this is down; the chat must not wait on it


def normalised_address(email: str) -> str:
    """The address as we store and send to it, or Invalid with the reason."""
    try:
        return validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise Invalid(f"invalid e-mail address: {exc}") from exc


@dataclass(frozen=True)
class MailConfig:
    """Where and how to send. host None: mail is disabled (logged instead)."""

    host: str | None
    port: int = 25
    tls: bool = False  # STARTTLS, the server's certificate and name verified
    ca_file: str | None = None  # trust this CA (PEM) instead of the system's
    user: str | None = None
    password: str | None = None
    plain_login: bool = False  # log in without TLS: a local test server only
    sender: str = "chatdesk@localhost"
    # Mail about a ticket says Reply-To its secret address here (handoff/reply_address.py),
    # which `chatdesk mail-in` receives; None: no Reply-To, answers go to `sender`.
    reply_domain: str | None = None


class PlainLoginRefused(smtplib.SMTPException):
    """Logging in would send the password in clear text, and that was not allowed."""


def tls_context(config: MailConfig) -> ssl.SSLContext:
    """Verifies the mail server's certificate chain and host name (a private CA if given)."""
    return ssl.create_default_context(cafile=config.ca_file)


def _send_blocking(config: MailConfig, message: EmailMessage) -> None:
    assert config.host is not None
    with smtplib.SMTP(config.host, config.port, timeout=SMTP_TIMEOUT_S) as smtp:
        if config.tls:
            smtp.starttls(context=tls_context(config))
        if config.user:
            if not config.tls and not config.plain_login:
                raise PlainLoginRefused("not logging in without TLS (smtp_tls is off)")
            smtp.login(config.user, config.password or "")
        smtp.send_message(message)


async def send_mail(
    *, config: MailConfig, to: str, subject: str, body: str, reply_to: str | None = None
) -> bool:
    """Send a plain-text e-mail (answers to `reply_to` if given); True if the server took it."""
    if config.host is None:
        log.info("mail disabled (no smtp_host): not sending %r to %s", subject, to)
        return False
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = to
    message["Subject"] = subject
    if reply_to:
        message["Reply-To"] = reply_to
    message.set_content(body)
    try:
        await asyncio.to_thread(_send_blocking, config, message)
    except (OSError, smtplib.SMTPException):
        log.exception("sending %r to %s failed", subject, to)
        return False
    return True
