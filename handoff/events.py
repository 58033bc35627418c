"""Bus channels and the event payloads services publish after they commit."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from handoff.models import Agent, Conversation, Message, MessageRow

AGENTS_CHANNEL = "agents"  # queue and conversation-list changes, for every agent console
# An agent's logins were ended (disabled, password reset): every replica closes their consoles.
LOGINS_CHANNEL = "agent_logins"


def conversation_channel(conversation_id: int) -> str:
    return f"conv:{conversation_id}"


def author(agent: Agent) -> dict[str, Any]:
    """How an agent is shown to visitors, on their messages and in the state frame."""
    return {"name": agent.name, "avatar_url": agent.avatar_url}


class SharedEvent(dict[str, Any]):
    """An event every receiver sends as it is: encoded to JSON once (`text`) for all the
    sockets it reaches. Not changed once published."""

    __slots__ = ("_text",)
    _text: str

    def text(self) -> str:
        """The JSON text of the frame, encoded on first use."""
        try:
            return self._text
        except AttributeError:
            self._text = json.dumps(self)
            return self._text


def message_event(msg: Message | MessageRow) -> SharedEvent:
    """The `message` frame as every client sees it (notes are filtered out for visitors)."""
    meta = dict(msg.meta or {})
    return SharedEvent({
        "type": "message",
        "conversation_id": msg.conversation_id,
        "seq": msg.seq,
        "sender": str(msg.sender),
        "text": msg.text,
        "client_msg_id": msg.client_msg_id,
        "author": meta.pop("author", None),
        "meta": meta,
        "created_at": msg.created_at.isoformat(),
    })


def state_event(conv: Conversation, **extra: Any) -> dict[str, Any]:
    """The `state` frame: the conversation's state and whatever the visitor should know of it."""
    return {
        "type": "state",
        "conversation_id": conv.id,
        "state": str(conv.state),
        "escalation_reason": conv.escalation_reason,
        **extra,
    }


def queue_event(conv: Conversation) -> dict[str, Any]:
    """Tells every agent console that a conversation changed (state, owner, a new message)."""
    return conversation_event(
        conversation_id=conv.id, state=str(conv.state), assigned_agent_id=conv.assigned_agent_id
    )


def conversation_event(
    *, conversation_id: int, state: str, assigned_agent_id: int | None
) -> dict[str, Any]:
    """The `conversation` frame of the agent consoles' lists."""
    return {
        "type": "conversation",
        "conversation_id": conversation_id,
        "state": state,
        "assigned_agent_id": assigned_agent_id,
    }


def conversation_deleted_event(conversation_id: int) -> dict[str, Any]:
    """The `state` frame of a conversation deleted for privacy (handoff/privacy.py)."""
    return {
        "type": "state",
        "conversation_id": conversation_id,
        "state": "closed",
        "escalation_reason": None,
        "deleted": True,
    }


SETTINGS_CHANNEL = "settings"  # an admin changed the service's settings: every replica re-reads


def settings_event(key: str) -> dict[str, Any]:
    """Tells every replica that the saved settings group `key` changed (service_settings.py)."""
    return {"type": "settings", "key": key}


def login_revoked_event(*, jti: str) -> dict[str, Any]:
    """The consoles using this login token must close: it was logged out (app/ws/hub.py)."""
    return {"type": "login_revoked", "jti": jti}


def logins_ended_event(*, agent_id: int, before: datetime) -> dict[str, Any]:
    """An agent's consoles logged in before `before` must close (app/ws/hub.py acts on it)."""
    return {"type": "logins_ended", "agent_id": agent_id, "before": before.isoformat()}


# Issue 16: one broadcast per queue change, not one publish per queued visitor. Every visitor
# socket hears it and works out its own visitor's place and wait (app/ws/queue_view.py).
QUEUE_CHANNEL = "queue"
QUEUE_EVENT = "_queue"  # internal to the sockets: never sent to a client as it is


def queue_positions_event(
    *, queued: list[int], offered: list[int], median_wait_s: float | None
) -> dict[str, Any]:
    """The whole queue in serving order, who was offered a ticket, and the usual pickup time."""
    return {
        "type": QUEUE_EVENT,
        "queued": queued,
        "offered": offered,
        "median_wait_s": median_wait_s,
    }
