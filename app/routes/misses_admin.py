"""Admin REST for the misses inbox (issue 15): the groups of questions the bot missed, and the
one-click actions on them (variants, a new entry, out of scope, dismiss), each undoable.

Admins, or an integration with an API key of scope `kb:manage`. A change to the knowledge
base (or its out-of-scope examples) wakes the KB watcher, which rebuilds the bot at once here
and within its poll on every other replica (app/kb_watch.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field

from app.db import SessionDep
from app.schemas import EntryId, KBText, Orm, RowId
from app.security import KbManagerDep, client_ip
from handoff import miss_actions, misses
from handoff.miss_actions import MISSES_PER_ACTION_MAX
from handoff.miss_models import MissAction

router = APIRouter(prefix="/api/admin/misses", tags=["misses inbox"])

MissIds = Annotated[list[RowId], Field(min_length=1, max_length=MISSES_PER_ACTION_MAX)]


class MissOut(Orm):
    id: int
    conversation_id: int
    text: str
    reason: str
    entry_id: str | None  # the answer it got, when it was answered unhelpfully
    created_at: datetime


class NearestOut(BaseModel):
    entry_id: str
    question: str
    score: float


class ReplyOut(BaseModel):
    conversation_id: int
    text: str
    agent: str | None


class GroupOut(Orm):
    """Similar missed questions (most central first), the nearest entries, agents' replies."""

    count: int
    misses: list[MissOut]
    nearest: list[NearestOut]
    replies: list[ReplyOut]


class Chosen(BaseModel):
    miss_ids: MissIds


class VariantsIn(Chosen):
    entry_id: EntryId


class NewEntryIn(Chosen):
    entry_id: EntryId
    question: KBText
    answer: KBText


class ActionOut(Orm):
    """What was done; `id` is what undo takes."""

    id: int
    kind: str
    entry_id: str | None
    created_at: datetime
    undone_at: datetime | None


def _done(request: Request, action: MissAction) -> ActionOut:
    if miss_actions.changes_kb(action):
        request.app.state.kb_changed.set()  # rebuild now, not at the next poll
    return ActionOut.model_validate(action)


@router.get("")
async def list_groups(admin: KbManagerDep, session: SessionDep, request: Request) -> list[GroupOut]:
    """Open missed questions, grouped by meaning, biggest group first."""
    groups = await misses.open_groups(session=session, brain=request.app.state.brain)
    return [GroupOut.model_validate(g) for g in groups]


@router.post("/variants", status_code=status.HTTP_201_CREATED)
async def add_variants(
    body: VariantsIn, admin: KbManagerDep, session: SessionDep, request: Request
) -> ActionOut:
    """Add the chosen questions as variants of an existing entry."""
    action = await miss_actions.add_variants(
        session=session,
        miss_ids=body.miss_ids,
        entry_id=body.entry_id,
        actor_id=admin.agent_id,
        ip=client_ip(request),
    )
    return _done(request, action)


@router.post("/entries", status_code=status.HTTP_201_CREATED)
async def create_entry(
    body: NewEntryIn, admin: KbManagerDep, session: SessionDep, request: Request
) -> ActionOut:
    """Make a new entry (e.g. an agent's reply as its answer) with the questions as variants."""
    action = await miss_actions.create_entry(
        session=session,
        miss_ids=body.miss_ids,
        entry_id=body.entry_id,
        question=body.question,
        answer=body.answer,
        actor_id=admin.agent_id,
        ip=client_ip(request),
    )
    return _done(request, action)


@router.post("/out-of-scope", status_code=status.HTTP_201_CREATED)
async def mark_out_of_scope(
    body: Chosen, admin: KbManagerDep, session: SessionDep, request: Request
) -> ActionOut:
    """The chosen questions are not the bot's: calibration's out-of-scope examples."""
    action = await miss_actions.mark_out_of_scope(
        session=session, miss_ids=body.miss_ids, actor_id=admin.agent_id, ip=client_ip(request)
    )
    return _done(request, action)


@router.post("/dismiss", status_code=status.HTTP_201_CREATED)
async def dismiss(
    body: Chosen, admin: KbManagerDep, session: SessionDep, request: Request
) -> ActionOut:
    """Take the chosen questions out of the inbox."""
    action = await miss_actions.dismiss(
        session=session, miss_ids=body.miss_ids, actor_id=admin.agent_id, ip=client_ip(request)
    )
    return _done(request, action)


class RecentActionOut(ActionOut):
    questions: int


@router.get("/actions")
async def recent_actions(admin: KbManagerDep, session: SessionDep) -> list[RecentActionOut]:
    """The latest inbox actions that can still be undone, newest first."""
    rows = await miss_actions.recent_actions(session=session)
    return [
        RecentActionOut(
            id=a.id,
            kind=a.kind,
            entry_id=a.entry_id,
            created_at=a.created_at,
            undone_at=a.undone_at,
            questions=len(a.detail.get("miss_ids", [])),
        )
        for a in rows
    ]


@router.post("/actions/{action_id}/undo")
async def undo(
    action_id: RowId, admin: KbManagerDep, session: SessionDep, request: Request
) -> ActionOut:
    """Undo an inbox action: the knowledge base and the questions as they were before it."""
    action = await miss_actions.undo(
        session=session, action_id=action_id, actor_id=admin.agent_id, ip=client_ip(request)
    )
    return _done(request, action)
