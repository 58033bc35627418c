"""Chinese (traditional): the server's sentences (keys and placeholders as handoff/texts.py EN)."""

TEXTS: dict[str, str] = {
    "visitor.asked_for_human": "我想找真人客服。",
    "visitor.none_of_these": "都不是。",
    "visitor.email_instead": "請改用電子郵件回覆我。",
    "bot.clarify": "我不太確定是否理解您的意思。您是想問下列哪一個問題？",
    "bot.answer_in_english": "此回答為英文。",
    "bot.answer_untranslated": "此回答暫時還沒有您的語言版本。",
    "queue.joined": "正在為您轉接真人客服。您目前排在第 {position} 位，請留在這裡。",
    "ticket.why.nobody_online": "目前我們的團隊沒有人在線上",
    "ticket.why.closed_now": "我們目前不在營業時間",
    "ticket.why.as_asked": "依照您的要求",
    "ticket.why.queue_timeout": "我們的團隊成員仍然都在忙",
    "ticket.opened": (
        "{why}，我已為您建立工單 #{ticket_id}。專人將於 {when} 前回覆："
        "您回來時可以在這裡看到回覆；如果您留下電子郵件地址，也會收到郵件。"
    ),
    "email.saved": "謝謝！我們也會回覆到 {email}。",
    "agent.joined": "{agent} 已加入對話。",
    "agent.transferred": "{agent} 已將對話轉給 {target}。",
    "agent.transferred_team": "{agent} 已將對話轉給 {team} 團隊，該團隊的同事很快會為您服務。",
    "agent.reopened": "{agent} 重新開啟了對話。",
    "agent.closed": "{agent} 已結束對話。",
    "agent.replaced": "您的客服暫時無法繼續服務。同事將接手此對話，您寫下的所有內容都會保留。",
    "rating.request": "我們的服務如何？請為這次對話評 1 到 5 顆星。",
    "mail.ticket_reply.subject": "回覆：您的工單 #{ticket_id}",
    "mail.ticket_reply.body": (
        "{agent} 回覆了您的工單 #{ticket_id}：\n\n{text}\n\n"
        "您可以在我們網站的聊天視窗中繼續回覆，完整的對話都在那裡。\n"
    ),
    "mail.transcript.subject": "您的對話紀錄 #{conversation_id}",
    "transcript.not_confirmed": (
        "我們只能將對話紀錄寄到您本人的電子郵件地址：您登入時使用的地址，或您為工單留下的地址。"
    ),
    "transcript.already_sent": "這次對話的紀錄已寄到 {email}。請稍後再試。",
    "transcript.budget": "我們目前無法寄送郵件。請稍後再試。",
    "transcript.heading": "您的對話 #{conversation_id}",
    "transcript.you": "您",
    "transcript.bot": "機器人",
    "transcript.agent": "客服",
}

PLURALS: dict[str, dict[str, str]] = {
    "queue.wait": {"other": "通常需要等候約 {count} 分鐘。"},
}
