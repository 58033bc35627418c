"""Every sentence the server writes for a visitor, keyed by message id.

One catalogue, so that a translation is one more table and a wording is changed in one
place. Services ask for `text(message_id, **values)`; none writes visitor-facing English
inline.
"""

from __future__ import annotations

import string
from datetime import datetime
from zoneinfo import ZoneInfo

EN: dict[str, str] = {
    # What the visitor "said" by pressing a button (stored as their message).
    "visitor.asked_for_human": "I'd like to talk to a person.",
    "visitor.none_of_these": "None of these.",
    "visitor.email_instead": "Please e-mail me instead.",
    # The bot and the queue.
    "bot.clarify": "I'm not sure I understood. Did you mean one of these?",
    # Issue 17, multilingual knowledge base: above an answer the entry has in no translation
    # for the visitor's language (the first when the KB is in English, the second otherwise).
    "bot.answer_in_english": "This answer is in English.",
    "bot.answer_untranslated": "This answer is not available in your language yet.",
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


# Sentences an admin may reword in the console (handoff/service_settings.py), with the
# placeholders a rewording must keep: the promise is only honest with its time in it.
CUSTOMISABLE: dict[str, frozenset[str]] = {"ticket.opened": frozenset({"when"})}


def text(message_id: str, **values: object) -> str:
    """The visitor-facing sentence `message_id`, with its placeholders filled in."""
    return EN[message_id].format(**values)


def custom_text(message_id: str, template: str | None, **values: object) -> str:
    """The admin's wording of `message_id` (already checked) if they saved one, else ours."""
    return template.format(**values) if template else text(message_id, **values)


def placeholders(message_id: str) -> list[str]:
    """The {placeholders} our own wording of `message_id` uses, in order."""
    return [name for _, name, _, _ in string.Formatter().parse(EN[message_id]) if name]


def template_problems(message_id: str, template: str) -> list[str]:
    """Why `template` cannot reword `message_id` (empty if it can): unknown, malformed or
    missing {placeholders}. Only plain {name} is allowed: no {name.attr}, {name[0]}, {name!r}."""
    allowed = set(placeholders(message_id))
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError as exc:
        return [f"{exc} (write a literal brace as {{{{ or }}}})"]
    known = ", ".join("{" + name + "}" for name in sorted(allowed))
    problems = []
    used = set()
    for _, name, spec, conversion in fields:
        if name is None:
            continue
        if name not in allowed or spec or conversion:
            shown = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            problems.append(f"unknown placeholder {{{shown}}}: use {known}")
        used.add(name)
    missing = sorted(CUSTOMISABLE[message_id] - used)
    return problems + [f"the text must contain {{{name}}}" for name in missing]


def local_time(moment: datetime, zone: ZoneInfo) -> str:
    """A promised time as the visitor reads it: in the business's time zone, zone named."""
    local = moment.astimezone(zone)
    return f"{local:%A %d %B, %H:%M} ({zone.key})"
