"""Canned replies: agents search them; admins create, edit and delete them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from app.db import SessionDep
from app.schemas import CannedIn, CannedOut, RowId
from app.security import AdminDep, AgentDep, client_ip
from handoff import canned

router = APIRouter(prefix="/api/agent/canned", tags=["canned replies"])


@router.get("")
async def search_canned(
    agent: AgentDep, session: SessionDep, q: Annotated[str, Query(max_length=200)] = ""
) -> list[CannedOut]:
    return [CannedOut.model_validate(r) for r in await canned.search(session=session, query=q)]


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_canned(
    body: CannedIn, admin: AdminDep, session: SessionDep, request: Request
) -> CannedOut:
    reply = await canned.create(
        session=session,
        shortcut=body.shortcut,
        title=body.title,
        text=body.text,
        actor_id=admin.id,
        ip=client_ip(request),
    )
    return CannedOut.model_validate(reply)


@router.put("/{reply_id}")
async def update_canned(
    reply_id: RowId, body: CannedIn, admin: AdminDep, session: SessionDep, request: Request
) -> CannedOut:
    reply = await canned.update(
        session=session,
        reply_id=reply_id,
        shortcut=body.shortcut,
        title=body.title,
        text=body.text,
        actor_id=admin.id,
        ip=client_ip(request),
    )
    return CannedOut.model_validate(reply)


@router.delete("/{reply_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_canned(
    reply_id: RowId, admin: AdminDep, session: SessionDep, request: Request
) -> None:
    await canned.delete(
        session=session, reply_id=reply_id, actor_id=admin.id, ip=client_ip(request)
    )
