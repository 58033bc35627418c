"""Every sentence the server writes for a visitor, keyed by message id.

One catalogue, so that a translation is one more table and a wording is changed in one
place. Services ask for `text(message_id, **values)`; none writes visitor-facing English
inline.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

EN: dict[str, str] = {
    # What the visitor "said" by pressing a button (stored as their message).
    "visitor.asked_for_human": "I'd like to talk to a person.",
    "visitor.none_of_these": "None of these.",
    "visitor.email_instead": "Please e-mail me instead.",
    # The bot and the queue.
    "bot.clarify": "I'm not sure I understood. Did you mean one of these?",
    "queue.joined": (
        "I'm connecting you with a person. "
        "You are number {position} in the queue; please stay here."
    ),
    # Tickets: why the chat became one, and the one promise of when a person replies.
    "ticket.why.nobody_online": "No one from our team is available right now",
    "ticket.why.closed_now": "We're closed at the moment",
    "ticket.why.as_asked": "As you asked",
    "ticket.opened": (
        "{why}, so I've opened ticket #{ticket_id} for you. A person will reply by {when}: "
        "you'll see the reply here when you come back, and by e-mail if you leave your address."
    ),
    "email.saved": "Thanks! We'll also reply to {email}.",
    # What agents did, as the visitor sees it.
    "agent.joined": "{agent} joined the conversation.",
    "agent.transferred": "{agent} transferred the conversation to {target}.",
    "agent.reopened": "{agent} reopened the conversation.",
    "agent.closed": "{agent} closed the conversation.",
    "rating.request": "How did we do? Rate this conversation from 1 to 5 stars.",
    # E-mail.
    "mail.ticket_reply.subject": "Re: your ticket #{ticket_id}",
    "mail.ticket_reply.body": (
        "{agent} replied to your ticket #{ticket_id}:\n\n{text}\n\n"
        "You can answer in the chat on our website, where the whole conversation is "
        "waiting for you.\n"
    ),
    "mail.transcript.subject": "Transcript of your conversation #{conversation_id}",
    "transcript.not_confirmed": (
        "We can only e-mail the transcript to your own address: the one you are signed in "
        "with, or the one you left for your ticket."
    ),
    "transcript.already_sent": (
        "The transcript of this conversation was already sent to {email}. Please try again later."
    ),
    "transcript.budget": "We can't send e-mail right now. Please try again later.",
    "transcript.heading": "Your conversation #{conversation_id}",
    "transcript.you": "You",
    "transcript.bot": "Bot",
    "transcript.agent": "Agent",
}


def text(message_id: str, **values: object) -> str:
    """The visitor-facing sentence `message_id`, with its placeholders filled in."""
    return EN[message_id].format(**values)


def local_time(moment: datetime, zone: ZoneInfo) -> str:
    """A promised time as the visitor reads it: in the business's time zone, zone named."""
    local = moment.astimezone(zone)
    return f"{local:%A %d %B, %H:%M} ({zone.key})"
