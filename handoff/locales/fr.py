"""French: the server's sentences (keys and placeholders as handoff/texts.py EN)."""

TEXTS: dict[str, str] = {
    "visitor.asked_for_human": "Je voudrais parler à une personne.",
    "visitor.none_of_these": "Aucune de ces réponses.",
    "visitor.email_instead": "Répondez-moi plutôt par e-mail.",
    "bot.clarify": "Je ne suis pas sûr d'avoir compris. Vouliez-vous dire l'une de ces questions ?",
    "bot.answer_in_english": "Cette réponse est en anglais.",
    "bot.answer_untranslated": "Cette réponse n'est pas encore disponible dans votre langue.",
    "queue.joined": (
        "Je vous mets en relation avec une personne. "
        "Vous êtes en position {position} dans la file d'attente ; merci de rester ici."
    ),
    "ticket.why.nobody_online": "Personne de notre équipe n'est disponible pour le moment",
    "ticket.why.closed_now": "Nous sommes fermés en ce moment",
    "ticket.why.as_asked": "Comme vous l'avez demandé",
    "ticket.why.queue_timeout": "Toute notre équipe est encore occupée",
    "ticket.opened": (
        "{why}, j'ai donc ouvert le ticket #{ticket_id} pour vous. Une personne vous répondra "
        "d'ici le {when} : vous verrez la réponse ici à votre retour, et par e-mail si vous "
        "laissez votre adresse."
    ),
    "email.saved": "Merci ! Nous répondrons aussi à {email}.",
    "agent.joined": "{agent} a rejoint la conversation.",
    "agent.transferred": "{agent} a transféré la conversation à {target}.",
    "agent.transferred_team": (
        "{agent} a confié la conversation à l'équipe {team} ; "
        "quelqu'un de cette équipe vous répondra sous peu."
    ),
    "agent.reopened": "{agent} a rouvert la conversation.",
    "agent.closed": "{agent} a clôturé la conversation.",
    "agent.replaced": (
        "Votre conseiller n'est plus disponible. Un collègue va prendre le relais ; tout ce que "
        "vous avez écrit est conservé."
    ),
    "rating.request": (
        "Qu'avez-vous pensé de notre aide ? Notez cette conversation de 1 à 5 étoiles."
    ),
    "mail.ticket_reply.subject": "Re : votre ticket #{ticket_id}",
    "mail.ticket_reply.body": (
        "{agent} a répondu à votre ticket #{ticket_id} :\n\n{text}\n\n"
        "Vous pouvez répondre dans le chat sur notre site, où toute la conversation vous "
        "attend.\n"
    ),
    "mail.transcript.subject": "Transcription de votre conversation #{conversation_id}",
    "transcript.not_confirmed": (
        "Nous ne pouvons envoyer la transcription qu'à votre propre adresse : celle de votre "
        "compte, ou celle que vous avez laissée pour votre ticket."
    ),
    "transcript.already_sent": (
        "La transcription de cette conversation a déjà été envoyée à {email}. "
        "Veuillez réessayer plus tard."
    ),
    "transcript.budget": (
        "Nous ne pouvons pas envoyer d'e-mail pour le moment. Veuillez réessayer plus tard."
    ),
    "transcript.heading": "Votre conversation #{conversation_id}",
    "transcript.you": "Vous",
    "transcript.bot": "Assistant",
    "transcript.agent": "Conseiller",
}

PLURALS: dict[str, dict[str, str]] = {
    "queue.wait": {
        "one": "L'attente est généralement d'environ {count} minute.",
        "many": "L'attente est généralement d'environ {count} minutes.",
        "other": "L'attente est généralement d'environ {count} minutes.",
    },
}
