"""Spanish: the server's sentences (keys and placeholders as handoff/texts.py EN)."""

TEXTS: dict[str, str] = {
    "visitor.asked_for_human": "Quiero hablar con una persona.",
    "visitor.none_of_these": "Ninguna de estas.",
    "visitor.email_instead": "Prefiero que me respondan por correo electrónico.",
    "bot.clarify": "No estoy seguro de haberle entendido. ¿Se refiere a alguna de estas?",
    "bot.answer_in_english": "Esta respuesta está en inglés.",
    "bot.answer_untranslated": "Esta respuesta aún no está disponible en su idioma.",
    "queue.joined": (
        "Le estoy poniendo en contacto con una persona. "
        "Es el número {position} en la cola; por favor, permanezca aquí."
    ),
    "ticket.why.nobody_online": "Ahora mismo no hay nadie de nuestro equipo disponible",
    "ticket.why.closed_now": "En este momento estamos cerrados",
    "ticket.why.as_asked": "Como nos pidió",
    "ticket.why.queue_timeout": "Todo nuestro equipo sigue ocupado",
    "ticket.opened": (
        "{why}, así que he abierto el ticket #{ticket_id} para usted. Una persona le responderá "
        "a más tardar el {when}: verá la respuesta aquí cuando vuelva, y por correo electrónico "
        "si nos deja su dirección."
    ),
    "email.saved": "¡Gracias! También responderemos a {email}.",
    "agent.joined": "{agent} se ha unido a la conversación.",
    "agent.transferred": "{agent} ha transferido la conversación a {target}.",
    "agent.transferred_team": (
        "{agent} ha pasado la conversación al equipo {team}; "
        "alguien de ese equipo le atenderá en breve."
    ),
    "agent.reopened": "{agent} ha reabierto la conversación.",
    "agent.closed": "{agent} ha cerrado la conversación.",
    "agent.replaced": (
        "Su agente ya no está disponible. Un compañero se hará cargo; todo lo que ha escrito se "
        "conserva."
    ),
    "rating.request": "¿Qué tal le hemos atendido? Valore esta conversación de 1 a 5 estrellas.",
    "mail.ticket_reply.subject": "Re: su ticket #{ticket_id}",
    "mail.ticket_reply.body": (
        "{agent} ha respondido a su ticket #{ticket_id}:\n\n{text}\n\n"
        "Puede contestar en el chat de nuestra web, donde le espera toda la conversación.\n"
    ),
    "mail.transcript.subject": "Transcripción de su conversación #{conversation_id}",
    "transcript.not_confirmed": (
        "Solo podemos enviar la transcripción a su propia dirección: la de su cuenta, o la que "
        "nos dejó para su ticket."
    ),
    "transcript.already_sent": (
        "La transcripción de esta conversación ya se envió a {email}. "
        "Inténtelo de nuevo más tarde."
    ),
    "transcript.budget": "Ahora mismo no podemos enviar correos. Inténtelo de nuevo más tarde.",
    "transcript.heading": "Su conversación #{conversation_id}",
    "transcript.you": "Usted",
    "transcript.bot": "Asistente",
    "transcript.agent": "Agente",
}

PLURALS: dict[str, dict[str, str]] = {
    "queue.wait": {
        "one": "La espera suele ser de aproximadamente {count} minuto.",
        "many": "La espera suele ser de aproximadamente {count} minutos.",
        "other": "La espera suele ser de aproximadamente {count} minutos.",
    },
}
