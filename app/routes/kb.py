"""Admin REST for the knowledge base: list, create, edit, delete entries and variants.

Every change is committed with its audit event, then the bot is told to rebuild in the
background; answers keep coming from the current index until the new one is swapped in.
Other replicas notice the change through the knowledge-base watcher (app/kb_watch.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, status

from app.db import SessionDep
from app.schemas import EntryIn, EntryOut, EntryUpdate, RowId, VariantIn, VariantOut
from app.security import AdminDep, client_ip
from handoff import knowledge

router = APIRouter(prefix="/api/admin/kb", tags=["knowledge base"])


def _changed(request: Request) -> None:
    request.app.state.kb_changed.set()  # wakes the watcher: rebuild now, not in 5 s


@router.get("")
async def list_entries(admin: AdminDep, session: SessionDep) -> list[EntryOut]:
    rows = await knowledge.list_rows(session=session)
    return [EntryOut.model_validate(r) for r in rows]


@router.get("/status")
async def kb_status(admin: AdminDep, request: Request) -> dict[str, Any]:
    """What the bot answers from now: entries, stage, thresholds, rebuild progress."""
    return dict(request.app.state.brain.status)


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_entry(
    body: EntryIn, admin: AdminDep, session: SessionDep, request: Request
) -> EntryOut:
    row = await knowledge.create_entry(
        session=session,
        entry_id=body.id,
        question=body.question,
        answer=body.answer,
        variants=body.variants,
        actor_id=admin.id,
        ip=client_ip(request),
    )
    _changed(request)
    return EntryOut.model_validate(row)


@router.get("/{entry_id}")
async def get_entry(entry_id: str, admin: AdminDep, session: SessionDep) -> EntryOut:
    return EntryOut.model_validate(await knowledge.get_entry(session=session, entry_id=entry_id))


@router.put("/{entry_id}")
async def update_entry(
    entry_id: str, body: EntryUpdate, admin: AdminDep, session: SessionDep, request: Request
) -> EntryOut:
    row = await knowledge.update_entry(
        session=session,
        entry_id=entry_id,
        question=body.question,
        answer=body.answer,
        variants=body.variants,
        actor_id=admin.id,
        ip=client_ip(request),
    )
    _changed(request)
    return EntryOut.model_validate(row)


@router.delete("/{entry_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_entry(
    entry_id: str, admin: AdminDep, session: SessionDep, request: Request
) -> None:
    await knowledge.delete_entry(
        session=session, entry_id=entry_id, actor_id=admin.id, ip=client_ip(request)
    )
    _changed(request)


@router.post("/{entry_id}/variants", status_code=status.HTTP_201_CREATED)
async def add_variant(
    entry_id: str, body: VariantIn, admin: AdminDep, session: SessionDep, request: Request
) -> VariantOut:
    variant = await knowledge.add_variant(
        session=session,
        entry_id=entry_id,
        text=body.text,
        actor_id=admin.id,
        ip=client_ip(request),
    )
    _changed(request)
    return VariantOut.model_validate(variant)


@router.delete("/{entry_id}/variants/{variant_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_variant(
    entry_id: str, variant_id: RowId, admin: AdminDep, session: SessionDep, request: Request
) -> None:
    await knowledge.delete_variant(
        session=session,
        entry_id=entry_id,
        variant_id=variant_id,
        actor_id=admin.id,
        ip=client_ip(request),
    )
    _changed(request)
