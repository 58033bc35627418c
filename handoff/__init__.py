"""The human side: conversations, queue, agents, tickets. Never imports fastapi."""
