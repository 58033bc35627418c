"""The conversation state machine: every state change is checked by `check_transition`."""

from __future__ import annotations

from enum import StrEnum


class ConversationState(StrEnum):
    BOT = "bot"
    QUEUED = "queued"
    ASSIGNED = "assigned"
    TICKET = "ticket"
    CLOSED = "closed"


class IllegalTransition(Exception):
    """Raised when a conversation is asked to move along an edge that does not exist."""


S = ConversationState
ALLOWED: dict[ConversationState, frozenset[ConversationState]] = {
    S.BOT: frozenset({S.QUEUED, S.TICKET, S.CLOSED}),
    # A queued visitor may give up waiting and ask to be e-mailed instead.
    S.QUEUED: frozenset({S.ASSIGNED, S.TICKET, S.CLOSED}),
    # Assigned -> assigned is a transfer to another agent; back to the queue when an admin
    # disables the agent holding it (handoff/team.py).
    S.ASSIGNED: frozenset({S.ASSIGNED, S.QUEUED, S.CLOSED}),
    # An agent picking up a ticket while the visitor is still there turns it into a live chat.
    S.TICKET: frozenset({S.ASSIGNED, S.CLOSED}),
    # Reopen: an agent takes a closed conversation back.
    S.CLOSED: frozenset({S.ASSIGNED}),
}


def check_transition(current: ConversationState, target: ConversationState) -> None:
    """Raise IllegalTransition unless current -> target is an edge of the machine."""
    if target not in ALLOWED[current]:
        raise IllegalTransition(f"conversation cannot go from {current} to {target}")
