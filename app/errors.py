"""The one mapping from domain errors to what clients see: an HTTP status or an error frame.

Services raise domain errors (handoff/errors.py); endpoints never catch them. REST answers
them in `domain_error` (registered by the app factory), websockets in app/ws/connection.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request, status
from fastapi.responses import JSONResponse

from handoff.errors import Conflict, Forbidden, Invalid, NotFound
from handoff.states import IllegalTransition


@dataclass(frozen=True)
class ClientError:
    http_status: int
    code: str  # the `code` of the websocket `error` frame (docs/protocol.md)


DOMAIN_ERRORS: dict[type[Exception], ClientError] = {
    NotFound: ClientError(status.HTTP_404_NOT_FOUND, "not_found"),
    Forbidden: ClientError(status.HTTP_403_FORBIDDEN, "forbidden"),
    Conflict: ClientError(status.HTTP_409_CONFLICT, "conflict"),
    IllegalTransition: ClientError(status.HTTP_409_CONFLICT, "conflict"),
    Invalid: ClientError(status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid"),
}
DOMAIN_ERROR_TYPES = tuple(DOMAIN_ERRORS)


def client_error(exc: Exception) -> ClientError:
    """How a domain error is shown to the client."""
    return next(err for cls, err in DOMAIN_ERRORS.items() if isinstance(exc, cls))


async def domain_error(request: Request, exc: Exception) -> JSONResponse:
    """Answer a domain error with its HTTP status and message."""
    return JSONResponse({"detail": str(exc)}, status_code=client_error(exc).http_status)
