"""The canned-automation threshold settings fail fast on nonsense (issue 15)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.settings import Settings


def test_defaults_are_80_percent_over_10_uses() -> None:
    settings = Settings()
    assert (settings.canned_automation_min_uses, settings.canned_automation_success_percent) == (
        10, 80
    )


@pytest.mark.parametrize(
    "field, value",
    [
        ("canned_automation_min_uses", 0),
        ("canned_automation_success_percent", 0),
        ("canned_automation_success_percent", 101),
    ],
)
def test_nonsense_thresholds_are_refused(field: str, value: int) -> None:
    with pytest.raises(ValidationError, match=field):
        Settings(**{field: value})
