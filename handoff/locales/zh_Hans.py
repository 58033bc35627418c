"""Chinese (simplified): the server's sentences (keys and placeholders as handoff/texts.py EN)."""

TEXTS: dict[str, str] = {
    "visitor.asked_for_human": "我想和人工客服沟通。",
    "visitor.none_of_these": "都不是。",
    "visitor.email_instead": "请改用电子邮件回复我。",
    "bot.clarify": "我不太确定是否理解了您的意思。您是想问下面哪个问题？",
    "bot.answer_in_english": "此回答为英文。",
    "bot.answer_untranslated": "此回答暂时还没有您的语言版本。",
    "queue.joined": "正在为您转接人工客服。您目前排在第 {position} 位，请不要离开。",
    "ticket.why.nobody_online": "目前我们的团队没有人在线",
    "ticket.why.closed_now": "我们现在不在营业时间",
    "ticket.why.as_asked": "按照您的要求",
    "ticket.why.queue_timeout": "我们的团队成员仍然都在忙",
    "ticket.opened": (
        "{why}，我已为您创建工单 #{ticket_id}。工作人员将在 {when} 之前回复："
        "您回来时可以在这里看到回复；如果您留下邮箱地址，我们也会通过邮件回复您。"
    ),
    "email.saved": "谢谢！我们也会回复到 {email}。",
    "agent.joined": "{agent} 已加入对话。",
    "agent.transferred": "{agent} 已将对话转给 {target}。",
    "agent.transferred_team": "{agent} 已将对话转给 {team} 团队，该团队的同事很快会为您服务。",
    "agent.reopened": "{agent} 重新打开了对话。",
    "agent.closed": "{agent} 已结束对话。",
    "agent.replaced": "您的客服暂时无法继续服务。同事将接手此对话，您写下的所有内容都会保留。",
    "rating.request": "我们的服务怎么样？请为本次对话打 1 到 5 星。",
    "mail.ticket_reply.subject": "回复：您的工单 #{ticket_id}",
    "mail.ticket_reply.body": (
        "{agent} 回复了您的工单 #{ticket_id}：\n\n{text}\n\n"
        "您可以在我们网站的聊天窗口中继续回复，完整的对话记录都在那里。\n"
    ),
    "mail.transcript.subject": "您的对话记录 #{conversation_id}",
    "transcript.not_confirmed": (
        "我们只能把对话记录发送到您本人的邮箱：您登录所用的邮箱，或您为工单留下的邮箱。"
    ),
    "transcript.already_sent": "本次对话的记录已发送至 {email}。请稍后再试。",
    "transcript.budget": "我们现在无法发送邮件。请稍后再试。",
    "transcript.heading": "您的对话 #{conversation_id}",
    "transcript.you": "您",
    "transcript.bot": "机器人",
    "transcript.agent": "客服",
}

PLURALS: dict[str, dict[str, str]] = {
    "queue.wait": {"other": "通常需要等待约 {count} 分钟。"},
}
