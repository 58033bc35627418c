"""Admin REST for API keys: list, create (the key is in this one answer only), revoke.

The rules (scopes, name, expiry) and the audit events are in handoff/api_keys.py; which routes
accept a key, and with which scope, is in app/security.py (`login_or_key`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Request, status
from pydantic import AwareDatetime, BaseModel, Field

from app.db import SessionDep
from app.schemas import Orm, RowId
from app.security import AdminDep, client_ip
from handoff import api_keys
from handoff.api_keys import Scope

router = APIRouter(prefix="/api/admin/api-keys", tags=["admin: API keys"])


# --- schemas (issue 18, API keys) ------------------------------------------------------------
class ApiKeyIn(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=api_keys.NAME_MAX)]
    scopes: Annotated[list[Scope], Field(min_length=1, max_length=len(Scope))]
    expires_at: AwareDatetime | None = None  # with a time zone; none: until revoked


class ApiKeyOut(Orm):
    """A key as lists show it: never the key itself, only its first characters (`prefix`)."""

    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    created_by: int | None
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str  # shown this once: only its hash is stored


# --- routes ----------------------------------------------------------------------------------
@router.get("")
async def list_keys(admin: AdminDep, session: SessionDep) -> list[ApiKeyOut]:
    """Every key, newest first, revoked and expired ones too."""
    return [ApiKeyOut.model_validate(k) for k in await api_keys.list_keys(session=session)]


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_key(
    body: ApiKeyIn, admin: AdminDep, session: SessionDep, request: Request
) -> ApiKeyCreated:
    """A new key with these scopes; the answer is the only time the key is shown."""
    made = await api_keys.create_key(
        session=session,
        name=body.name,
        scopes=body.scopes,
        expires_at=body.expires_at,
        actor_id=admin.id,
        ip=client_ip(request),
    )
    out = ApiKeyOut.model_validate(made.key)
    return ApiKeyCreated(**out.model_dump(), key=made.secret)


@router.post("/{key_id}/revoke", responses={404: {"description": "no such key"}})
async def revoke_key(
    key_id: RowId, admin: AdminDep, session: SessionDep, request: Request
) -> ApiKeyOut:
    """Refuse the key from the next request on, on every replica."""
    key = await api_keys.revoke_key(
        session=session, key_id=key_id, actor_id=admin.id, ip=client_ip(request)
    )
    return ApiKeyOut.model_validate(key)
