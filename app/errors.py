"""The one mapping from domain errors to what clients see: an HTTP status or an error frame.

Services raise domain errors (handoff/errors.py); endpoints never catch them. REST answers
them in `domain_error` (registered by the app factory), websockets in app/ws/connection.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import StatementError

from handoff.errors import Conflict, Forbidden, Invalid, NotFound, TryLater
from handoff.states import IllegalTransition


@dataclass(frozen=True)
class ClientError:
    http_status: int
    code: str  # the `code` of the websocket `error` frame (docs/protocol.md)


DOMAIN_ERRORS: dict[type[Exception], ClientError] = {
    # The first class an error is an instance of decides: TryLater before its base Conflict.
    TryLater: ClientError(status.HTTP_429_TOO_MANY_REQUESTS, "rate_limited"),
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
    """Answer a domain error with its HTTP status and message (and when to try again)."""
    headers = {"Retry-After": str(exc.retry_after_s)} if isinstance(exc, TryLater) else None
    return JSONResponse(
        {"detail": str(exc)}, status_code=client_error(exc).http_status, headers=headers
    )


DOMAIN_ERROR_SCHEMA = {
    "title": "DomainError",
    "type": "object",
    "properties": {"detail": {"type": "string", "title": "Detail"}},
    "required": ["detail"],
}


# What a database driver raises for a value it cannot store: a NUL or a lone surrogate in
# text (PostgreSQL text holds neither), a number past the column's range.
UNSTORABLE = (
    UnicodeEncodeError,
    OverflowError,
    asyncpg.exceptions.DataError,  # PostgreSQL's "data exception" class (SQLSTATE 22)
    asyncpg.exceptions._base.DataError,  # asyncpg refusing an argument before sending it
)


def _unstorable(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, UNSTORABLE):
            return True
        exc = exc.orig if isinstance(exc, StatementError) else exc.__cause__
    return False


async def unstorable_value(request: Request, exc: Exception) -> JSONResponse:
    """A value the database refused (see UNSTORABLE) is the client's error, not the server's."""
    if not _unstorable(exc):
        raise exc
    detail = "a value cannot be stored: text with a NUL or a lone surrogate, or a number too big"
    return JSONResponse({"detail": detail}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


def install_error_handlers(app: FastAPI) -> None:
    """Domain errors and unstorable values as 4xx; OpenAPI says what a 422 holds."""
    for error in DOMAIN_ERRORS:
        app.add_exception_handler(error, domain_error)
    app.add_exception_handler(StatementError, unstorable_value)
    app.add_exception_handler(UnicodeEncodeError, unstorable_value)  # SQLite's, unwrapped
    _document_domain_errors(app)


def _document_domain_errors(app: FastAPI) -> None:
    """OpenAPI: a 422 is FastAPI's list of validation errors, or a message (`detail`)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        doc = build()
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        if "DomainError" not in schemas:  # once per built document
            schemas["DomainError"] = DOMAIN_ERROR_SCHEMA
            for operation in (op for path in doc["paths"].values() for op in path.values()):
                content = operation.get("responses", {}).get("422", {}).get("content", {})
                if "application/json" in content:
                    shown = content["application/json"]
                    domain = {"$ref": "#/components/schemas/DomainError"}
                    shown["schema"] = {"anyOf": [shown["schema"], domain]}
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
