"""Portuguese: the server's sentences (keys and placeholders as handoff/texts.py EN)."""

TEXTS: dict[str, str] = {
    "visitor.asked_for_human": "Quero falar com uma pessoa.",
    "visitor.none_of_these": "Nenhuma destas.",
    "visitor.email_instead": "Prefiro receber a resposta por e-mail.",
    "bot.clarify": "Não tenho certeza se entendi. Você quis dizer uma destas?",
    "bot.answer_in_english": "Esta resposta está em inglês.",
    "bot.answer_untranslated": "Esta resposta ainda não está disponível no seu idioma.",
    "queue.joined": (
        "Estou conectando você com uma pessoa. "
        "Você é o número {position} na fila; por favor, aguarde aqui."
    ),
    "ticket.why.nobody_online": "No momento, ninguém da nossa equipe está disponível",
    "ticket.why.closed_now": "Estamos fechados no momento",
    "ticket.why.as_asked": "Como você pediu",
    "ticket.why.queue_timeout": "Toda a nossa equipe ainda está ocupada",
    "ticket.opened": (
        "{why}, então abri o ticket #{ticket_id} para você. Uma pessoa vai responder até "
        "{when}: você verá a resposta aqui quando voltar, e por e-mail se deixar seu endereço."
    ),
    "email.saved": "Obrigado! Também vamos responder para {email}.",
    "agent.joined": "{agent} entrou na conversa.",
    "agent.transferred": "{agent} transferiu a conversa para {target}.",
    "agent.transferred_team": (
        "{agent} passou a conversa para a equipa {team}; "
        "alguém dessa equipa vai atendê-lo em breve."
    ),
    "agent.reopened": "{agent} reabriu a conversa.",
    "agent.closed": "{agent} encerrou a conversa.",
    "agent.replaced": (
        "O seu atendente já não está disponível. Um colega vai assumir a conversa; tudo o que "
        "escreveu fica guardado."
    ),
    "rating.request": "Como foi o atendimento? Avalie esta conversa de 1 a 5 estrelas.",
    "mail.ticket_reply.subject": "Re: seu ticket #{ticket_id}",
    "mail.ticket_reply.body": (
        "{agent} respondeu ao seu ticket #{ticket_id}:\n\n{text}\n\n"
        "Você pode responder no chat do nosso site, onde toda a conversa está esperando "
        "por você.\n"
    ),
    "mail.transcript.subject": "Transcrição da sua conversa #{conversation_id}",
    "transcript.not_confirmed": (
        "Só podemos enviar a transcrição para o seu próprio endereço: aquele com que você "
        "entrou na sua conta, ou o que deixou para o seu ticket."
    ),
    "transcript.already_sent": (
        "A transcrição desta conversa já foi enviada para {email}. Tente novamente mais tarde."
    ),
    "transcript.budget": "No momento não conseguimos enviar e-mails. Tente novamente mais tarde.",
    "transcript.heading": "Sua conversa #{conversation_id}",
    "transcript.you": "Você",
    "transcript.bot": "Assistente",
    "transcript.agent": "Atendente",
}

PLURALS: dict[str, dict[str, str]] = {
    "queue.wait": {
        "one": "A espera costuma ser de cerca de {count} minuto.",
        "many": "A espera costuma ser de cerca de {count} minutos.",
        "other": "A espera costuma ser de cerca de {count} minutos.",
    },
}
