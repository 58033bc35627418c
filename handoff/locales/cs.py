"""Czech: the server's sentences (keys and placeholders as handoff/texts.py EN).

Agents' names stand where Czech past tense would show their gender: the sentences about
them are in the present tense or passive, which is the same for everyone.
"""

TEXTS: dict[str, str] = {
    "visitor.asked_for_human": "Chci mluvit s člověkem.",
    "visitor.none_of_these": "Nic z toho.",
    "visitor.email_instead": "Odpovězte mi raději e-mailem.",
    "bot.clarify": "Nevím jistě, jestli vám rozumím. Máte na mysli některou z těchto možností?",
    "bot.answer_in_english": "Tato odpověď je v angličtině.",
    "bot.answer_untranslated": "Tato odpověď zatím ve vašem jazyce není k dispozici.",
    "queue.joined": (
        "Přepojuji vás na člověka. Ve frontě jste {position}. v pořadí; zůstaňte prosím tady."
    ),
    "ticket.why.nobody_online": "Nikdo z našeho týmu teď není k dispozici",
    "ticket.why.closed_now": "Momentálně máme zavřeno",
    "ticket.why.as_asked": "Požádali jste o to",
    "ticket.why.queue_timeout": "Všichni z našeho týmu jsou stále vytížení",
    "ticket.opened": (
        "{why}, takže jsme pro vás založili tiket #{ticket_id}. Člověk vám odpoví nejpozději "
        "v tomto termínu: {when}. Odpověď uvidíte tady, až se vrátíte, a e-mailem, pokud nám "
        "necháte svou adresu."
    ),
    "email.saved": "Děkujeme! Odpovíme také na {email}.",
    "agent.joined": "{agent} se připojuje ke konverzaci.",
    "agent.transferred": "{agent} předává konverzaci, dál vás obslouží {target}.",
    "agent.transferred_team": (
        "{agent} předává konverzaci týmu {team}; "
        "brzy se vám někdo z nich ozve."
    ),
    "agent.reopened": "Konverzace je znovu otevřená ({agent}).",
    "agent.closed": "Konverzace byla ukončena ({agent}).",
    "agent.replaced": (
        "Váš operátor už není k dispozici. Konverzaci převezme kolega; vše, co jste napsali, "
        "zůstává."
    ),
    "rating.request": "Jak jsme si vedli? Ohodnoťte tuto konverzaci 1 až 5 hvězdičkami.",
    "mail.ticket_reply.subject": "Re: váš tiket #{ticket_id}",
    "mail.ticket_reply.body": (
        "Odpověď na váš tiket #{ticket_id} ({agent}):\n\n{text}\n\n"
        "Odpovědět můžete v chatu na našem webu, kde na vás čeká celá konverzace.\n"
    ),
    "mail.transcript.subject": "Přepis vaší konverzace #{conversation_id}",
    "transcript.not_confirmed": (
        "Přepis můžeme poslat jen na vaši vlastní adresu: tu, se kterou jste přihlášeni, nebo "
        "tu, kterou jste uvedli u tiketu."
    ),
    "transcript.already_sent": (
        "Přepis této konverzace už byl odeslán na {email}. Zkuste to prosím později."
    ),
    "transcript.budget": "Teď nemůžeme posílat e-maily. Zkuste to prosím později.",
    "transcript.heading": "Vaše konverzace #{conversation_id}",
    "transcript.you": "Vy",
    "transcript.bot": "Asistent",
    "transcript.agent": "Podpora",
}

PLURALS: dict[str, dict[str, str]] = {
    "queue.wait": {
        "one": "Čekání obvykle trvá asi {count} minutu.",
        "few": "Čekání obvykle trvá asi {count} minuty.",
        "many": "Čekání obvykle trvá asi {count} minuty.",
        "other": "Čekání obvykle trvá asi {count} minut.",
    },
}
