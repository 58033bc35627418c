"""Every sentence the server writes for a visitor, keyed by message id, in their language.

English (`EN`, below) is the source and the fallback for any key a language lacks; every other
language is one file in handoff/locales/ (`zh_Hant.py` is "zh-Hant"). Services ask for
`text(message_id, locale=visitor.locale, **values)`; none writes visitor-facing words inline.
A sentence with a count is in `EN_PLURALS` instead: its CLDR plural forms ("one", "few",
"many", "other"), chosen by Babel for the locale from the value named `count`. Dates and
times go through Babel (`local_time`), never a hand-written format.
"""

from __future__ import annotations

import string
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import (
    format_date,
    format_datetime,
    format_time,
    get_datetime_format,
    get_timezone_name,
)

from handoff.locales import CATALOGUES, PLURAL_CATALOGUES

DEFAULT = "en"

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
    "ticket.why.queue_timeout": "Everyone on our team is still busy",
    "ticket.opened": (
        "{why}, so I've opened ticket #{ticket_id} for you. A person will reply by {when}: "
        "you'll see the reply here when you come back, and by e-mail if you leave your address."
    ),
    "email.saved": "Thanks! We'll also reply to {email}.",
    # What agents did, as the visitor sees it.
    "agent.joined": "{agent} joined the conversation.",
    "agent.transferred": "{agent} transferred the conversation to {target}.",
    "agent.transferred_team": (
        "{agent} passed the conversation to the {team} team; "
        "one of them will be with you shortly."
    ),
    "agent.reopened": "{agent} reopened the conversation.",
    "agent.closed": "{agent} closed the conversation.",
    "agent.replaced": (
        "Your agent is no longer available. A colleague will take over; everything you wrote is "
        "kept."
    ),
    "rating.request": "How did we do? Rate this conversation from 1 to 5 stars.",
    # E-mail.
    "mail.ticket_reply.subject": "Re: your ticket #{ticket_id}",
    "mail.ticket_reply.body": (
        "{agent} replied to your ticket #{ticket_id}:\n\n{text}\n\n"
        "You can answer in the chat on our website, where the whole conversation is "
        "waiting for you.\n"
    ),
    "mail.transcript.subject": "Transcript of your conversation #{conversation_id}",
    # E-mail replies (handoff/mail_in.py): the SMTP refusal a sender's mail server bounces back
    # to them when their ticket is closed (plain ASCII: it goes out in an SMTP reply line).
    "mail.reply_closed": (
        "Ticket #{ticket_id} is closed. Please write to us in the chat on our website."
    ),
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


# Sentences that stay English whatever the locale: an SMTP reply line is ASCII, and the sender of
# a mail is not known to be any visitor.
ENGLISH_ONLY: frozenset[str] = frozenset({"mail.reply_closed"})

# Sentences with a count, as CLDR plural forms; `{count}` picks the form (Babel's rules).
EN_PLURALS: dict[str, dict[str, str]] = {
    "queue.wait": {
        "one": "The wait is usually about {count} minute.",
        "other": "The wait is usually about {count} minutes.",
    },
}

# Sentences an admin may reword in the console (handoff/service_settings.py), with the
# placeholders a rewording must keep: the promise is only honest with its time in it.
CUSTOMISABLE: dict[str, frozenset[str]] = {"ticket.opened": frozenset({"when"})}


def _parse(locale: str | None) -> Locale | None:
    try:
        return Locale.parse((locale or "").strip().replace("_", "-"), sep="-")
    except (UnknownLocaleError, ValueError, TypeError):
        return None


@lru_cache(maxsize=256)
def catalogue_tag(locale: str | None) -> str:
    """The catalogue a visitor's locale reads: "zh-TW" -> "zh-Hant", "zh" -> "zh-Hans",
    "pt-BR" -> "pt", "fa-IR" -> "fa"; English for what we do not speak."""
    parsed = _parse(locale)
    if parsed is None:
        lang = (locale or "").split("-")[0].split("_")[0].lower()
        return lang if lang in CATALOGUES else DEFAULT
    script = parsed.script or ("Hans" if parsed.language == "zh" else None)
    for tag in (f"{parsed.language}-{script}" if script else "", parsed.language):
        if tag in CATALOGUES or tag == DEFAULT:
            return tag
    return DEFAULT


@lru_cache(maxsize=256)
def babel_locale(locale: str | None) -> Locale:
    """The locale dates and plurals follow: the visitor's own ("de-AT", "pt-BR") when we write
    in its language, else the catalogue's (a date never in another language than its sentence)."""
    tag = catalogue_tag(locale)
    parsed = _parse(locale)
    if parsed is not None and parsed.language == tag.split("-")[0]:
        return parsed
    return Locale.parse(tag, sep="-")


def text(message_id: str, locale: str | None = None, **values: object) -> str:
    """The visitor-facing sentence `message_id` in `locale` (English where it lacks one), with
    its placeholders filled in."""
    tag = catalogue_tag(locale)
    if message_id in EN_PLURALS:
        count = values["count"]
        form = babel_locale(locale).plural_form(count if isinstance(count, int | float) else 0)
        forms = PLURAL_CATALOGUES.get(tag, {}).get(message_id) or EN_PLURALS[message_id]
        return (forms.get(form) or forms["other"]).format(**values)
    return (CATALOGUES.get(tag, {}).get(message_id) or EN[message_id]).format(**values)


def sentences(locale: str | None, *parts: str) -> str:
    """Sentences one after the other as the language writes them (Chinese puts no space)."""
    return ("" if catalogue_tag(locale).startswith("zh") else " ").join(parts)


def custom_text(
    message_id: str, template: str | None, locale: str | None = None, **values: object
) -> str:
    """The admin's wording of `message_id` (already checked; kept in the language they wrote
    it in) if they saved one, else ours in `locale`."""
    return template.format(**values) if template else text(message_id, locale, **values)


def placeholders(message_id: str, wording: str | None = None) -> list[str]:
    """The {placeholders} a wording of `message_id` (ours in English by default) uses, in order."""
    template = EN[message_id] if wording is None else wording
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


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


def local_time(moment: datetime, zone: ZoneInfo, locale: str | None = None) -> str:
    """A promised time as the visitor reads it: the full date and the time in the business's
    time zone, the zone named, all in the visitor's locale (Babel, CLDR patterns)."""
    where = babel_locale(locale)
    local = moment.astimezone(zone)
    day = format_date(local, "full", locale=where)
    hour = format_time(local, "short", tzinfo=zone, locale=where)
    # The locale's own way to join a date and a time ("{1}, {0}", "{1}، ساعت {0}", ...), as
    # Babel's format_datetime joins them (it cannot mix a full date with a short time).
    joined = str(get_datetime_format("full", locale=where)).replace("'", "")
    zone_name = get_timezone_name(local, "long", locale=where)
    return f"{joined.replace('{1}', day).replace('{0}', hour)} ({zone_name})"


def message_time(moment: datetime, locale: str | None = None) -> str:
    """A message's time in a transcript: short date and time, in UTC, in the visitor's locale."""
    return f"{format_datetime(moment, 'short', tzinfo=UTC, locale=babel_locale(locale))} UTC"
