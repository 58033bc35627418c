"""Domain errors; the transport maps them to HTTP statuses and error frames."""

import math


class NotFound(LookupError):
    """The thing asked for does not exist (or is not visible to the caller)."""


class Forbidden(PermissionError):
    """The caller may not do this to this thing."""


class Conflict(RuntimeError):
    """Somebody else changed the thing first (e.g. another agent took the chat)."""


class TryLater(Conflict):
    """Refused for now (a limit of the service's own): try again after `retry_after_s`."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = max(1, math.ceil(retry_after_s))


class Invalid(ValueError):
    """The input is well-formed but not acceptable (e.g. a bad e-mail address)."""
