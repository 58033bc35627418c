"""Persian: the server's sentences (keys and placeholders as handoff/texts.py EN)."""

TEXTS: dict[str, str] = {
    "visitor.asked_for_human": "می‌خواهم با یک کارشناس صحبت کنم.",
    "visitor.none_of_these": "هیچ‌کدام از این‌ها.",
    "visitor.email_instead": "لطفاً به‌جای این، با ایمیل به من پاسخ دهید.",
    "bot.clarify": "مطمئن نیستم منظورتان را درست فهمیده باشم. منظورتان یکی از این‌هاست؟",
    "bot.answer_in_english": "این پاسخ به زبان انگلیسی است.",
    "bot.answer_untranslated": "این پاسخ هنوز به زبان شما در دسترس نیست.",
    "queue.joined": (
        "در حال وصل کردن شما به یک کارشناس هستم. "
        "شما نفر {position} در صف هستید؛ لطفاً همین‌جا بمانید."
    ),
    "ticket.why.nobody_online": "در حال حاضر هیچ‌یک از همکاران ما در دسترس نیست",
    "ticket.why.closed_now": "در حال حاضر خارج از ساعت کاری هستیم",
    "ticket.why.as_asked": "طبق درخواست شما",
    "ticket.why.queue_timeout": "همهٔ همکاران ما هنوز مشغول هستند",
    "ticket.opened": (
        "{why}؛ تیکت شمارهٔ {ticket_id} را برایتان ثبت کردم. یک کارشناس تا {when} پاسخ "
        "می‌دهد: وقتی برگردید پاسخ را همین‌جا می‌بینید، و اگر نشانی ایمیلتان را بگذارید، "
        "با ایمیل هم به دستتان می‌رسد."
    ),
    "email.saved": "سپاس! به {email} هم پاسخ می‌دهیم.",
    "agent.joined": "{agent} به گفتگو پیوست.",
    "agent.transferred": "{agent} گفتگو را به {target} واگذار کرد.",
    "agent.transferred_team": (
        "{agent} گفتگو را به تیم {team} سپرد؛ "
        "به‌زودی یکی از آن‌ها پاسخ می‌دهد."
    ),
    "agent.reopened": "{agent} گفتگو را دوباره باز کرد.",
    "agent.closed": "{agent} گفتگو را بست.",
    "agent.replaced": (
        "کارشناس شما دیگر در دسترس نیست. یکی از همکاران گفتگو را ادامه می\u200cدهد؛ "
        "هر چه نوشته\u200cاید محفوظ است."
    ),
    "rating.request": "عملکرد ما چطور بود؟ به این گفتگو از ۱ تا ۵ ستاره بدهید.",
    "mail.ticket_reply.subject": "پاسخ: تیکت شمارهٔ {ticket_id} شما",
    "mail.ticket_reply.body": (
        "{agent} به تیکت شمارهٔ {ticket_id} شما پاسخ داد:\n\n{text}\n\n"
        "می‌توانید در گفتگوی وب‌سایت ما پاسخ دهید؛ کل گفتگو آنجا منتظر شماست.\n"
    ),
    "mail.transcript.subject": "متن گفتگوی شمارهٔ {conversation_id} شما",
    "transcript.not_confirmed": (
        "متن گفتگو را فقط به نشانی ایمیل خودتان می‌فرستیم: نشانی‌ای که با آن وارد شده‌اید، "
        "یا نشانی‌ای که برای تیکتتان گذاشته‌اید."
    ),
    "transcript.already_sent": (
        "متن این گفتگو قبلاً به {email} فرستاده شده است. لطفاً بعداً دوباره امتحان کنید."
    ),
    "transcript.budget": "در حال حاضر نمی‌توانیم ایمیل بفرستیم. لطفاً بعداً دوباره امتحان کنید.",
    "transcript.heading": "گفتگوی شمارهٔ {conversation_id} شما",
    "transcript.you": "شما",
    "transcript.bot": "دستیار",
    "transcript.agent": "کارشناس",
}

PLURALS: dict[str, dict[str, str]] = {
    "queue.wait": {
        "one": "زمان انتظار معمولاً حدود {count} دقیقه است.",
        "other": "زمان انتظار معمولاً حدود {count} دقیقه است.",
    },
}
