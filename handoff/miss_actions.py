"""The misses inbox's one-click actions (issue 15), each audited and undoable.

Add the chosen questions as variants of an entry, make a new entry of them, mark them out of
scope (calibration's out-of-scope examples, kept in the database so every replica's bot gets
them: app/kb_watch.py), or dismiss them. A KB change bumps the entry's `updated_at`, the
fingerprint every replica's KB watcher compares; `undo` restores entry, variants, examples and
misses as they were.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import audit
from handoff.errors import Conflict, Invalid, NotFound
from handoff.knowledge import VARIANTS_MAX
from handoff.miss_models import Miss, MissAction, MissStatus, OosExample
from handoff.models import FaqEntry, FaqVariant, utcnow

MISSES_PER_ACTION_MAX = 500  # as many as an entry may hold variants: one group, not the inbox


async def _take(session: AsyncSession, miss_ids: Sequence[int]) -> list[Miss]:
    """The chosen misses, all still open (locked on PostgreSQL: two admins, one action)."""
    ids = sorted(set(miss_ids))
    if not ids:
        raise Invalid("choose at least one question")
    if len(ids) > MISSES_PER_ACTION_MAX:
        raise Invalid(f"at most {MISSES_PER_ACTION_MAX} questions per action")
    rows = list(
        (
            await session.scalars(
                select(Miss).where(Miss.id.in_(ids)).order_by(Miss.id).with_for_update()
            )
        ).all()
    )
    if len(rows) != len(ids):
        raise NotFound("some of these questions are not in the inbox (deleted?)")
    if any(m.status != MissStatus.OPEN for m in rows):
        raise Conflict("some of these questions were already handled; reload the inbox")
    return rows


async def _act(
    session: AsyncSession,
    kind: MissStatus,
    taken: list[Miss],
    *,
    entry_id: str | None,
    detail: dict[str, object],
    actor_id: int | None,
    ip: str | None,
) -> MissAction:
    action = MissAction(
        kind=kind,
        entry_id=entry_id,
        detail={"miss_ids": [m.id for m in taken], **detail},
        agent_id=actor_id,
    )
    session.add(action)
    await session.flush()
    for m in taken:
        m.status, m.action_id = kind, action.id
    audit.record(
        session,
        "misses_" + kind,
        agent_id=actor_id,
        ip=ip,
        action_id=action.id,
        entry_id=entry_id,
        questions=len(taken),
    )
    return action  # the caller commits, with whatever else the action changes


async def add_variants(
    *,
    session: AsyncSession,
    miss_ids: Sequence[int],
    entry_id: str,
    actor_id: int | None = None,
    ip: str | None = None,
) -> MissAction:
    """Add the questions as variants of an entry, learnt ones (Entry.learned: calibration trains
    on them, never scores them); those it already has are skipped."""
    taken = await _take(session, miss_ids)
    entry = await session.get(FaqEntry, entry_id)
    if entry is None:
        raise NotFound(f"no FAQ entry {entry_id!r}")
    known = {entry.question.casefold()} | {v.text.casefold() for v in entry.variants}
    new = []
    for m in taken:
        if m.text.casefold() not in known:
            known.add(m.text.casefold())
            new.append(FaqVariant(text=m.text, learned=True))
    if len(entry.variants) + len(new) > VARIANTS_MAX:
        raise Invalid(f"an entry holds at most {VARIANTS_MAX} variants")
    entry.variants.extend(new)
    entry.updated_at = utcnow()  # the fingerprint every replica's KB watcher compares
    await session.flush()
    action = await _act(
        session,
        MissStatus.VARIANT,
        taken,
        entry_id=entry_id,
        detail={"variant_ids": [v.id for v in new], "texts": [v.text for v in new]},
        actor_id=actor_id,
        ip=ip,
    )
    await session.commit()
    return action


async def create_entry(
    *,
    session: AsyncSession,
    miss_ids: Sequence[int],
    entry_id: str,
    question: str,
    answer: str,
    actor_id: int | None = None,
    ip: str | None = None,
) -> MissAction:
    """Make a new entry: `question`, `answer`, and the questions as its variants."""
    taken = await _take(session, miss_ids)
    if await session.get(FaqEntry, entry_id) is not None:
        raise Conflict(f"FAQ entry {entry_id!r} already exists")
    seen = {question.casefold()}
    variants = []
    for m in taken:
        if m.text.casefold() not in seen:
            seen.add(m.text.casefold())
            variants.append(FaqVariant(text=m.text, learned=True))
    session.add(
        FaqEntry(id=entry_id, question=question, answer=answer, variants=variants, translations=[])
    )
    await session.flush()
    action = await _act(
        session, MissStatus.CREATED, taken, entry_id=entry_id, detail={}, actor_id=actor_id, ip=ip
    )
    await session.commit()
    return action


async def mark_out_of_scope(
    *,
    session: AsyncSession,
    miss_ids: Sequence[int],
    actor_id: int | None = None,
    ip: str | None = None,
) -> MissAction:
    """The questions are not for the bot: it hands their like over (calibration, nearest)."""
    taken = await _take(session, miss_ids)
    action = await _act(
        session, MissStatus.OUT_OF_SCOPE, taken, entry_id=None, detail={}, actor_id=actor_id, ip=ip
    )
    session.add_all(OosExample(text=m.text, action_id=action.id) for m in taken)
    await session.commit()
    return action


async def dismiss(
    *,
    session: AsyncSession,
    miss_ids: Sequence[int],
    actor_id: int | None = None,
    ip: str | None = None,
) -> MissAction:
    """Take the questions out of the inbox, changing nothing else."""
    taken = await _take(session, miss_ids)
    action = await _act(
        session, MissStatus.DISMISSED, taken, entry_id=None, detail={}, actor_id=actor_id, ip=ip
    )
    await session.commit()
    return action


async def undo(
    *, session: AsyncSession, action_id: int, actor_id: int | None = None, ip: str | None = None
) -> MissAction:
    """Undo an inbox action: its variants, entry or examples removed, its questions open again."""
    action = await session.get(MissAction, action_id, with_for_update=True)
    if action is None:
        raise NotFound(f"no inbox action {action_id}")
    if action.undone_at is not None:
        raise Conflict("this action was already undone")
    if action.kind == MissStatus.VARIANT:
        # By id, and by text among the entry's learnt ones: an admin's edit since then
        # replaced the variant rows (handoff/knowledge.py update_entry keeps them learnt).
        ids, texts = action.detail.get("variant_ids", []), action.detail.get("texts", [])
        mine = FaqVariant.id.in_(ids) | (
            (FaqVariant.entry_id == action.entry_id)
            & FaqVariant.translation_id.is_(None)
            & FaqVariant.learned
            & FaqVariant.text.in_(texts)
        )
        await session.execute(delete(FaqVariant).where(mine))
        await session.execute(
            update(FaqEntry).where(FaqEntry.id == action.entry_id).values(updated_at=utcnow())
        )
    elif action.kind == MissStatus.CREATED:
        entry = await session.get(FaqEntry, action.entry_id)
        if entry is not None:
            await session.delete(entry)  # its variants and translations with it
    elif action.kind == MissStatus.OUT_OF_SCOPE:
        await session.execute(delete(OosExample).where(OosExample.action_id == action.id))
    await session.execute(
        update(Miss)
        .where(Miss.action_id == action.id)
        .values(status=MissStatus.OPEN, action_id=None)
    )
    action.undone_at = utcnow()
    audit.record(
        session, "misses_undone", agent_id=actor_id, ip=ip, action_id=action.id, kind=action.kind
    )
    await session.commit()
    return action


RECENT_ACTIONS = 20  # what the inbox offers to undo after a reload: today's work, not history


async def recent_actions(*, session: AsyncSession) -> list[MissAction]:
    """The latest inbox actions not undone yet, newest first."""
    rows = await session.scalars(
        select(MissAction)
        .where(MissAction.undone_at.is_(None))
        .order_by(MissAction.id.desc())
        .limit(RECENT_ACTIONS)
    )
    return list(rows.all())


def changes_kb(action: MissAction) -> bool:
    """Whether the bot must rebuild after this action (or its undo)."""
    return action.kind != MissStatus.DISMISSED


# --- the out-of-scope examples the bot calibrates with --------------------------------------


async def oos_texts(*, session: AsyncSession) -> list[str]:
    """Every admin-collected out-of-scope question, oldest first."""
    return list((await session.scalars(select(OosExample.text).order_by(OosExample.id))).all())


async def oos_fingerprint(*, session: AsyncSession) -> tuple[int, str | None]:
    """Changes whenever examples are added or removed: (count, latest addition)."""
    count, latest = (
        await session.execute(select(func.count(), func.max(OosExample.created_at)))
    ).one()
    return int(count or 0), str(latest) if latest is not None else None
