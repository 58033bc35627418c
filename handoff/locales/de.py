"""German: the server's sentences (keys and placeholders as handoff/texts.py EN)."""

TEXTS: dict[str, str] = {
    "visitor.asked_for_human": "Ich möchte mit einem Menschen sprechen.",
    "visitor.none_of_these": "Nichts davon.",
    "visitor.email_instead": "Bitte antworten Sie mir lieber per E-Mail.",
    "bot.clarify": (
        "Ich bin nicht sicher, ob ich Sie richtig verstanden habe. Meinten Sie eines davon?"
    ),
    "bot.answer_in_english": "Diese Antwort ist auf Englisch.",
    "bot.answer_untranslated": "Diese Antwort gibt es noch nicht in Ihrer Sprache.",
    "queue.joined": (
        "Ich verbinde Sie mit einem Menschen. "
        "Sie sind Nummer {position} in der Warteschlange; bitte bleiben Sie hier."
    ),
    "ticket.why.nobody_online": "Gerade ist niemand aus unserem Team erreichbar",
    "ticket.why.closed_now": "Wir haben gerade geschlossen",
    "ticket.why.as_asked": "Wie gewünscht",
    "ticket.why.queue_timeout": "Alle in unserem Team sind noch beschäftigt",
    "ticket.opened": (
        "{why}, daher habe ich das Ticket #{ticket_id} für Sie eröffnet. Ein Mensch antwortet "
        "bis {when}: Sie sehen die Antwort hier, wenn Sie zurückkommen, und per E-Mail, wenn "
        "Sie Ihre Adresse angeben."
    ),
    "email.saved": "Danke! Wir antworten auch an {email}.",
    "agent.joined": "{agent} ist dem Gespräch beigetreten.",
    "agent.transferred": "{agent} hat das Gespräch an {target} übergeben.",
    "agent.transferred_team": (
        "{agent} hat das Gespräch an das Team {team} übergeben; "
        "gleich meldet sich jemand von dort."
    ),
    "agent.reopened": "{agent} hat das Gespräch wieder geöffnet.",
    "agent.closed": "{agent} hat das Gespräch beendet.",
    "agent.replaced": (
        "Ihr Ansprechpartner ist nicht mehr erreichbar. Eine Kollegin oder ein Kollege "
        "übernimmt; alles, was Sie geschrieben haben, bleibt erhalten."
    ),
    "rating.request": "Wie waren wir? Bewerten Sie dieses Gespräch mit 1 bis 5 Sternen.",
    "mail.ticket_reply.subject": "Re: Ihr Ticket #{ticket_id}",
    "mail.ticket_reply.body": (
        "{agent} hat auf Ihr Ticket #{ticket_id} geantwortet:\n\n{text}\n\n"
        "Sie können im Chat auf unserer Website antworten; dort wartet das ganze Gespräch "
        "auf Sie.\n"
    ),
    "mail.transcript.subject": "Verlauf Ihres Gesprächs #{conversation_id}",
    "transcript.not_confirmed": (
        "Wir können den Verlauf nur an Ihre eigene Adresse senden: die, mit der Sie angemeldet "
        "sind, oder die, die Sie für Ihr Ticket angegeben haben."
    ),
    "transcript.already_sent": (
        "Der Verlauf dieses Gesprächs wurde bereits an {email} gesendet. "
        "Bitte versuchen Sie es später noch einmal."
    ),
    "transcript.budget": (
        "Wir können gerade keine E-Mails senden. Bitte versuchen Sie es später noch einmal."
    ),
    "transcript.heading": "Ihr Gespräch #{conversation_id}",
    "transcript.you": "Sie",
    "transcript.bot": "Assistent",
    "transcript.agent": "Mitarbeiter",
}

PLURALS: dict[str, dict[str, str]] = {
    "queue.wait": {
        "one": "Die Wartezeit beträgt meist etwa {count} Minute.",
        "other": "Die Wartezeit beträgt meist etwa {count} Minuten.",
    },
}
