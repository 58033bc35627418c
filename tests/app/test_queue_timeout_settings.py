"""The queue-timeout settings (issue 16) fail fast on nonsense; 0 turns a step off."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.settings import Settings


def test_the_automatic_ticket_must_come_after_the_offer() -> None:
    with pytest.raises(ValidationError, match="must be longer than"):
        Settings(queue_offer_ticket_after_s=300, queue_ticket_after_s=120)
    with pytest.raises(ValidationError):
        Settings(queue_timeout_sweep_s=0)
    with pytest.raises(ValidationError):
        Settings(queue_offer_ticket_after_s=-1)


def test_zero_turns_a_step_off() -> None:
    timeouts = Settings(queue_offer_ticket_after_s=0, queue_ticket_after_s=60).queue_timeouts()
    assert (timeouts.offer_after_s, timeouts.ticket_after_s) == (None, 60)
    assert Settings().queue_timeouts().offer_after_s == 300
