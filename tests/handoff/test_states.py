"""The conversation state machine allows exactly the edges we designed."""

import pytest

from handoff.models import Conversation
from handoff.states import ALLOWED, ConversationState, IllegalTransition, check_transition

S = ConversationState


@pytest.mark.parametrize(
    ("current", "target"),
    [(c, t) for c in S for t in S if t not in ALLOWED[c]],
)
def test_illegal_transitions_raise(current: S, target: S) -> None:
    with pytest.raises(IllegalTransition):
        check_transition(current, target)


@pytest.mark.parametrize(("current", "target"), [(c, t) for c in S for t in ALLOWED[c]])
def test_allowed_transitions_pass(current: S, target: S) -> None:
    check_transition(current, target)


def test_conversation_lifecycle_happy_path() -> None:
    conv = Conversation(state=S.BOT)
    for step in (S.QUEUED, S.ASSIGNED, S.CLOSED):
        conv.move_to(step)
    assert conv.state == S.CLOSED


def test_closed_conversation_cannot_go_back_to_the_bot() -> None:
    conv = Conversation(state=S.CLOSED)
    with pytest.raises(IllegalTransition):
        conv.move_to(S.BOT)
    assert conv.state == S.CLOSED


def test_ticket_cannot_be_queued_again() -> None:
    conv = Conversation(state=S.TICKET)
    with pytest.raises(IllegalTransition):
        conv.move_to(S.QUEUED)
