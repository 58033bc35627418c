"""Admin REST for canned replies that earn automation: each reply's uses and how often they
ended well, and "automate" (the reply becomes an FAQ entry the bot answers with)."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from pydantic import BaseModel

from app.db import SessionDep
from app.schemas import RowId
from app.security import AdminDep, client_ip
from handoff import canned_stats

router = APIRouter(prefix="/api/admin/canned", tags=["canned replies"])


class CannedStatsOut(BaseModel):
    id: int
    shortcut: str
    title: str
    text: str
    uses: int
    ended_well: int
    success_rate: float | None  # ended_well / uses; None before the first use
    entry_id: str | None  # the FAQ entry it became, once automated
    offered: bool  # reached the threshold: "automate" is allowed


class CannedStatsList(BaseModel):
    min_uses: int
    success_percent: int
    replies: list[CannedStatsOut]


class AutomatedOut(BaseModel):
    entry_id: str
    question: str
    answer: str
    variants: list[str]


def _threshold(request: Request) -> canned_stats.Threshold:
    settings = request.app.state.settings
    return canned_stats.Threshold(
        min_uses=settings.canned_automation_min_uses,
        success_percent=settings.canned_automation_success_percent,
    )


@router.get("")
async def canned_stats_list(
    admin: AdminDep, session: SessionDep, request: Request
) -> CannedStatsList:
    """Every canned reply with its uses, how many ended well, and whether it is offered."""
    threshold = _threshold(request)
    rows = await canned_stats.reply_stats(session=session, threshold=threshold)
    return CannedStatsList(
        min_uses=threshold.min_uses,
        success_percent=threshold.success_percent,
        replies=[
            CannedStatsOut(
                id=r.id, shortcut=r.shortcut, title=r.title, text=r.text, uses=r.uses,
                ended_well=r.ended_well, success_rate=r.success_rate, entry_id=r.entry_id,
                offered=r.offered,
            )
            for r in rows
        ],
    )


@router.post(
    "/{reply_id}/automate",
    status_code=status.HTTP_201_CREATED,
    responses={
        404: {"description": "no such canned reply"},
        409: {"description": "already automated"},
        422: {"description": "below the success threshold"},
    },
)
async def automate_canned(
    reply_id: RowId, admin: AdminDep, session: SessionDep, request: Request
) -> AutomatedOut:
    """Make the canned reply an FAQ entry: its text the answer, what it answered the variants."""
    entry = await canned_stats.automate(
        session=session, reply_id=reply_id, threshold=_threshold(request),
        actor_id=admin.id, ip=client_ip(request),
    )
    request.app.state.kb_changed.set()  # this replica rebuilds now; the others within 5 s
    return AutomatedOut(
        entry_id=entry.id, question=entry.question, answer=entry.answer,
        variants=[v.text for v in entry.variants],
    )
