"""E-mail replies: mail to a ticket's secret reply address becomes the visitor's message.

An SMTP server (aiosmtpd) on the app's own event loop: inside `chatdesk serve` when
CHATDESK_MAIL_IN_PORT is set, or alone as `chatdesk mail-in`. It takes a recipient only if it
is a reply address this server signed (handoff/reply_address.py) of a ticket still open
(550 otherwise) and a mail only up to the size limit (552). Bounces and auto-replies are
accepted and dropped, so no sender retries them and no auto-reply loop starts. What remains
is the newest part of the mail (quoted history and signature cut off, handoff/mail_text.py),
stored through the visitor's own path (`post_visitor_message`: group commit, the ticket open
again, agents told after the commit), once per Message-ID.

Who may write: anyone who has the address, whatever their From, which is recorded on the
message (`meta.from`, `meta.from_ticket_address`) for the agent to see. The address is the
secret; a From is no proof (anyone can write any From), and people answer from another
address of theirs. docs/integrations.md says what that means.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import hashlib
import logging
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff import texts
from handoff.bus import Bus
from handoff.mail_text import is_auto_reply, is_bounce, reply_text
from handoff.metrics import MAIL_IN
from handoff.models import CLIENT_MSG_ID_MAX, Conversation, Ticket
from handoff.reply_address import reply_key, ticket_of
from handoff.states import ConversationState
from handoff.visitors import post_visitor_message
from handoff.writer import MessageWriter

log = logging.getLogger(__name__)

SMTP_IDLE_TIMEOUT_S = 60  # a client silent this long is dropped (aiosmtpd's default is 300)
CLIENT_MSG_ID_PREFIX = "mail:"  # a mail's message is stored once per Message-ID


@dataclass(frozen=True)
class MailInConfig:
    """Where to listen and what to take."""

    host: str
    port: int
    domain: str  # reply addresses are reply+<ticket>.<token>@domain
    max_bytes: int  # bigger mails are refused (552)
    own_address: str = ""  # our own From: mail from it is a loop, dropped


def client_msg_id_of(message: EmailMessage, text: str) -> str:
    """The same for every copy of one mail: from its Message-ID (else its From, Date, text)."""
    key = str(message.get("Message-ID") or "").strip()
    if not key:
        key = "\n".join((str(message.get("From", "")), str(message.get("Date", "")), text))
    digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()
    return (CLIENT_MSG_ID_PREFIX + digest)[:CLIENT_MSG_ID_MAX]


async def open_ticket_refusal(*, session: AsyncSession, ticket_id: int) -> str | None:
    """Why mail to this ticket is refused now (an SMTP reply), or None if it is taken."""
    row = (
        await session.execute(
            select(Conversation.state)
            .join(Ticket, Ticket.conversation_id == Conversation.id)
            .where(Ticket.id == ticket_id)
        )
    ).first()
    await session.commit()  # end the read (SQLite's lock)
    if row is None:
        return "550 5.1.1 No such ticket"
    if row.state == ConversationState.CLOSED:
        return "550 5.7.1 " + texts.text("mail.reply_closed", ticket_id=ticket_id)
    return None


async def receive_reply(
    *,
    session: AsyncSession,
    writer: MessageWriter,
    bus: Bus,
    ticket_id: int,
    text: str,
    client_msg_id: str,
    sender: str,
) -> bool:
    """Store an e-mailed answer as the visitor's message in the ticket's conversation, as if
    typed (committed, published, ticket open again); False if the conversation is closed."""
    ticket = await session.scalar(select(Ticket).where(Ticket.id == ticket_id))
    await session.commit()
    if ticket is None:
        return False
    own = (ticket.email or "").lower()
    stored = await post_visitor_message(
        writer=writer,
        bus=bus,
        conversation_id=ticket.conversation_id,
        client_msg_id=client_msg_id,
        text=text,
        meta={
            "kind": "email_reply",
            "from": sender,
            "from_ticket_address": bool(own) and sender.lower() == own,
        },
    )
    if stored is None:
        return False
    MAIL_IN.labels("duplicate" if stored.duplicate else "stored").inc()
    return True


class ReplyHandler:
    """aiosmtpd's handler: recipients checked at RCPT, the mail stored at DATA."""

    def __init__(
        self,
        *,
        config: MailInConfig,
        sessions: async_sessionmaker[AsyncSession],
        writer: MessageWriter,
        bus: Bus,
    ) -> None:
        self.config = config
        self.sessions = sessions
        self.writer = writer
        self.bus = bus
        self._key: str | None = None

    async def key(self) -> str:
        if self._key is None:
            async with self.sessions() as session:
                self._key = await reply_key(session=session)
        return self._key

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        try:
            ticket_id = ticket_of(key=await self.key(), address=address, domain=self.config.domain)
            if ticket_id is None:
                MAIL_IN.labels("refused_address").inc()
                return "550 5.1.1 No such recipient here"
            async with self.sessions() as db:
                refusal = await open_ticket_refusal(session=db, ticket_id=ticket_id)
        except Exception:  # noqa: BLE001 - the database is away: the sender tries again later
            log.exception("mail-in: checking recipient %s failed", address)
            return "451 4.3.0 Temporary failure, please try again later"
        if refusal is not None:
            MAIL_IN.labels("refused_ticket").inc()
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        sender = parseaddr(str(message.get("From", "")))[1] or (envelope.mail_from or "")
        if is_bounce(envelope.mail_from, message):
            return self._dropped("bounce", sender)
        if is_auto_reply(message):
            return self._dropped("auto_reply", sender)
        own = self.config.own_address.lower()
        if own and own in (sender.lower(), (envelope.mail_from or "").lower()):
            return self._dropped("own_mail", sender)  # our own mail came back: a loop
        text = reply_text(message)
        if not text:
            return self._dropped("empty", sender)
        cmid = client_msg_id_of(message, text)
        key = await self.key()
        refused = []
        try:
            for rcpt in envelope.rcpt_tos:
                ticket_id = ticket_of(key=key, address=rcpt, domain=self.config.domain)
                assert ticket_id is not None  # checked at RCPT
                async with self.sessions() as db:
                    taken = await receive_reply(
                        session=db,
                        writer=self.writer,
                        bus=self.bus,
                        ticket_id=ticket_id,
                        text=text,
                        client_msg_id=cmid,
                        sender=sender,
                    )
                if not taken:
                    refused.append(ticket_id)
        except Exception:  # noqa: BLE001 - stored once per Message-ID: a retry is safe
            log.exception("mail-in: storing a reply from %s failed", sender)
            return "451 4.3.0 Temporary failure, please try again later"
        if refused and len(refused) == len(envelope.rcpt_tos):
            MAIL_IN.labels("refused_ticket").inc()
            return "550 5.7.1 " + texts.text("mail.reply_closed", ticket_id=refused[0])
        log.info("mail-in: a reply from %s stored in ticket(s) %s", sender, envelope.rcpt_tos)
        return "250 OK"

    def _dropped(self, why: str, sender: str) -> str:
        MAIL_IN.labels(why).inc()
        log.info("mail-in: dropped a mail from %s (%s)", sender or "<>", why.replace("_", " "))
        return "250 OK"  # taken, so that nobody sends it again; and then forgotten


async def start(
    *,
    config: MailInConfig,
    sessions: async_sessionmaker[AsyncSession],
    writer: MessageWriter,
    bus: Bus,
) -> asyncio.Server:
    """Listen for e-mail replies on this event loop; the caller serves (`serve_forever`)."""
    handler = ReplyHandler(config=config, sessions=sessions, writer=writer, bus=bus)

    def protocol() -> SMTP:
        return SMTP(
            handler,
            hostname=config.domain,
            data_size_limit=config.max_bytes,
            timeout=SMTP_IDLE_TIMEOUT_S,
            enable_SMTPUTF8=True,
        )

    server = await asyncio.get_running_loop().create_server(protocol, config.host, config.port)
    log.info("mail-in: listening on %s:%s for *@%s", config.host, config.port, config.domain)
    return server


async def serve_forever(server: asyncio.Server) -> None:
    """Take mail until cancelled; then stop listening."""
    try:
        await server.serve_forever()
    finally:
        server.close()
