"""Transcripts by e-mail, and who may have one: never a relay for somebody else's spam.

A visitor's `transcript` frame names an address and we mail what they saw. Anyone can open the
widget and type anything, so the address must be one confirmed for this visitor (the e-mail
the embedding site signed, or the one they left on their ticket: that is where our replies go
anyway), one transcript per conversation and address per period, and visitor-requested mail
has an hourly budget for the whole installation. A refused request sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import texts
from handoff.conversations import visitor_locale
from handoff.errors import Conflict, Forbidden, TryLater
from handoff.feedback import render_transcript
from handoff.mail import MailConfig, normalised_address, send_mail
from handoff.messages import messages_after
from handoff.models import Conversation, SentMail, Ticket, Visitor, utcnow
from handoff.reply_address import reply_to_for

TRANSCRIPT = "transcript"  # SentMail.kind
BUDGET_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class TranscriptLimits:
    period_s: int  # one transcript per conversation and address in this many seconds
    budget_per_hour: int  # visitor-requested mails per hour, all visitors together


class TranscriptLimited(TryLater):
    """Sent already, or the hourly budget is used up: try again later."""


async def confirmed_addresses(*, session: AsyncSession, visitor_id: int) -> set[str]:
    """Where this visitor's mail may go: their signed e-mail and their tickets' addresses."""
    verified = await session.scalar(select(Visitor.verified_email).where(Visitor.id == visitor_id))
    on_tickets = await session.scalars(
        select(Ticket.email)
        .join(Conversation, Conversation.id == Ticket.conversation_id)
        .where(Conversation.visitor_id == visitor_id, Ticket.email.is_not(None))
    )
    return {a.lower() for a in (verified, *on_tickets) if a}


async def email_transcript(
    *,
    session: AsyncSession,
    mail: MailConfig,
    limits: TranscriptLimits,
    visitor_id: int,
    conversation_id: int,
    email: str,
) -> str:
    """Mail the conversation's transcript to the visitor's own address; returns it normalised."""
    to = normalised_address(email)
    locale = await visitor_locale(session=session, visitor_id=visitor_id)
    if to.lower() not in await confirmed_addresses(session=session, visitor_id=visitor_id):
        raise Forbidden(texts.text("transcript.not_confirmed", locale))
    # One request at a time per conversation (PostgreSQL; SQLite writers queue anyway).
    conv = await session.scalar(
        select(Conversation)
        .where(Conversation.id == conversation_id, Conversation.visitor_id == visitor_id)
        .with_for_update()
    )
    if conv is None:
        raise Forbidden("that conversation is not yours")
    now = utcnow()
    period = timedelta(seconds=limits.period_s)
    last_sent = await session.scalar(
        select(func.max(SentMail.sent_at)).where(
            SentMail.kind == TRANSCRIPT,
            SentMail.conversation_id == conv.id,
            func.lower(SentMail.address) == to.lower(),
            SentMail.sent_at > now - period,
        )
    )
    if last_sent is not None:
        wait = (last_sent + period - now).total_seconds()
        raise TranscriptLimited(texts.text("transcript.already_sent", locale, email=to), wait)
    used, oldest = (
        await session.execute(
            select(func.count(), func.min(SentMail.sent_at)).where(
                SentMail.sent_at > now - BUDGET_WINDOW
            )
        )
    ).one()
    if used >= limits.budget_per_hour:
        wait = (oldest + BUDGET_WINDOW - now).total_seconds() if oldest else 60
        raise TranscriptLimited(texts.text("transcript.budget", locale), wait)
    record = SentMail(kind=TRANSCRIPT, conversation_id=conv.id, address=to, sent_at=now)
    session.add(record)
    messages = list(
        await messages_after(
            session=session, conversation_id=conv.id, after_seq=0, include_notes=False
        )
    )
    ticket_id = await session.scalar(select(Ticket.id).where(Ticket.conversation_id == conv.id))
    await session.commit()  # the mail is counted before it goes; no transaction waits on SMTP
    reply_to = None
    if ticket_id is not None:  # an answer to the transcript reaches the ticket
        reply_to = await reply_to_for(
            session=session, domain=mail.reply_domain, ticket_id=ticket_id
        )
    sent = await send_mail(
        reply_to=reply_to,
        config=mail,
        to=to,
        subject=texts.text("mail.transcript.subject", locale, conversation_id=conv.id),
        body=render_transcript(conv, messages, locale),
    )
    if not sent:
        await session.execute(delete(SentMail).where(SentMail.id == record.id))
        await session.commit()  # nothing went out: it may be asked for again
        raise Conflict("the transcript could not be sent right now; try again later")
    return to
