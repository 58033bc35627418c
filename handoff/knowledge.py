"""The knowledge base as stored: FAQ entries and their variants."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import Entry
from handoff.models import FaqEntry, FaqVariant


def to_entry(row: FaqEntry) -> Entry:
    return Entry(
        id=row.id,
        question=row.question,
        answer=row.answer,
        variants=tuple(v.text for v in row.variants),
    )


async def load_entries(*, session: AsyncSession) -> list[Entry]:
    """Every stored FAQ entry, in id order."""
    rows = (await session.scalars(select(FaqEntry).order_by(FaqEntry.id))).all()
    return [to_entry(r) for r in rows]


async def count_entries(*, session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(FaqEntry)) or 0)


async def fingerprint(*, session: AsyncSession) -> tuple[int, str | None]:
    """Changes whenever an entry is added, edited or removed: (count, latest update)."""
    count, latest = (
        await session.execute(select(func.count(), func.max(FaqEntry.updated_at)))
    ).one()
    return int(count or 0), str(latest) if latest is not None else None


async def replace_all(*, session: AsyncSession, entries: Sequence[Entry]) -> int:
    """Replace the whole knowledge base in one transaction; returns the entry count."""
    await session.execute(delete(FaqVariant))
    await session.execute(delete(FaqEntry))
    for e in entries:
        session.add(
            FaqEntry(
                id=e.id,
                question=e.question,
                answer=e.answer,
                variants=[FaqVariant(text=v) for v in e.variants],
            )
        )
    await session.commit()
    return len(entries)
