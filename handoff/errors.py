"""Domain errors; the transport maps them to HTTP statuses and error frames."""


class NotFound(LookupError):
    """The thing asked for does not exist (or is not visible to the caller)."""


class Forbidden(PermissionError):
    """The caller may not do this to this thing."""


class Conflict(RuntimeError):
    """Somebody else changed the thing first (e.g. another agent took the chat)."""


class Invalid(ValueError):
    """The input is well-formed but not acceptable (e.g. a bad e-mail address)."""
