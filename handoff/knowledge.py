"""The knowledge base as stored: FAQ entries, their variants and their translations."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import Entry
from bot.kb import Translation, normalize_tag
from handoff import audit
from handoff.errors import Conflict, Invalid, NotFound
from handoff.models import FaqEntry, FaqTranslation, FaqVariant, utcnow
from handoff.team_models import FaqEntryTeam


def to_entry(row: FaqEntry, team: str | None = None) -> Entry:
    return Entry(
        id=row.id,
        question=row.question,
        answer=row.answer,
        variants=tuple(v.text for v in row.variants if not v.learned),
        translations=tuple(
            Translation(t.lang, t.question, t.answer, tuple(v.text for v in t.variants))
            for t in row.translations
        ),
        team=team,
        learned=tuple(v.text for v in row.variants if v.learned),  # the misses inbox's
    )


def _translation_row(entry_id: str, t: Translation) -> FaqTranslation:
    variants = [FaqVariant(entry_id=entry_id, text=v) for v in t.variants]
    return FaqTranslation(
        entry_id=entry_id, lang=t.lang, question=t.question, answer=t.answer, variants=variants
    )


async def list_rows(*, session: AsyncSession) -> Sequence[FaqEntry]:
    """Every stored FAQ entry with its variants, in id order."""
    return (await session.scalars(select(FaqEntry).order_by(FaqEntry.id))).all()


async def load_entries(*, session: AsyncSession) -> list[Entry]:
    """Every stored FAQ entry as the bot sees it, in id order."""
    teams = await entry_teams(session=session)
    return [to_entry(r, teams.get(r.id)) for r in await list_rows(session=session)]


async def entry_teams(*, session: AsyncSession) -> dict[str, str]:
    """Entry id -> the team it names, for every entry naming one (issue 16)."""
    rows = await session.execute(select(FaqEntryTeam.entry_id, FaqEntryTeam.team))
    return {entry_id: team for entry_id, team in rows}


async def set_entry_team(
    *,
    session: AsyncSession,
    entry_id: str,
    team: str | None,
    actor_id: int | None = None,
    ip: str | None = None,
) -> str | None:
    """Name the team an entry's topic goes to (None: everyone); audited."""
    row = await get_entry(session=session, entry_id=entry_id)
    team = " ".join((team or "").split()) or None
    await session.execute(delete(FaqEntryTeam).where(FaqEntryTeam.entry_id == row.id))
    if team is not None:
        session.add(FaqEntryTeam(entry_id=row.id, team=team))
    row.updated_at = utcnow()  # every replica's KB watcher reloads (exports carry the team)
    audit.record(session, "kb_entry_team_set", agent_id=actor_id, ip=ip, entry_id=row.id,
                 team=team)
    await session.commit()
    return team


async def count_entries(*, session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(FaqEntry)) or 0)


async def fingerprint(*, session: AsyncSession) -> tuple[int, str | None]:
    """Changes whenever an entry is added, edited or removed: (count, latest update)."""
    count, latest = (
        await session.execute(select(func.count(), func.max(FaqEntry.updated_at)))
    ).one()
    return int(count or 0), str(latest) if latest is not None else None


async def replace_all(
    *,
    session: AsyncSession,
    entries: Sequence[Entry],
    actor_id: int | None = None,
    ip: str | None = None,
    via: str = "cli",
) -> int:
    """Replace the whole knowledge base in one transaction (audited); returns the entry count."""
    await session.execute(delete(FaqEntryTeam))
    await session.execute(delete(FaqVariant))
    await session.execute(delete(FaqTranslation))
    await session.execute(delete(FaqEntry))
    for e in entries:
        session.add(
            FaqEntry(
                id=e.id,
                question=e.question,
                answer=e.answer,
                variants=[FaqVariant(text=v) for v in e.variants]
                + [FaqVariant(text=v, learned=True) for v in e.learned],
                translations=[_translation_row(e.id, t) for t in e.translations],
            )
        )
        if e.team:
            session.add(FaqEntryTeam(entry_id=e.id, team=e.team))
    audit.record(
        session, "kb_replaced", agent_id=actor_id, ip=ip, entries=len(entries), via=via
    )
    await session.commit()
    return len(entries)


# --- admin edits: one entry at a time --------------------------------------------------

ENTRY_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"  # URL-safe: ids appear in API paths
TEXT_MAX = 8192  # characters of a question, answer or variant (as app/schemas.py KBText)
VARIANTS_MAX = 500  # variants of one entry (as app/schemas.py MAX_VARIANTS)


async def get_entry(*, session: AsyncSession, entry_id: str) -> FaqEntry:
    """One stored entry with its variants, or NotFound."""
    row = await session.get(FaqEntry, entry_id)
    if row is None:
        raise NotFound(f"no FAQ entry {entry_id!r}")
    return row


async def create_entry(
    *,
    session: AsyncSession,
    entry_id: str,
    question: str,
    answer: str,
    variants: Sequence[str],
    actor_id: int | None = None,
    ip: str | None = None,
) -> FaqEntry:
    """Add an entry; Conflict if the id is taken."""
    if await session.get(FaqEntry, entry_id) is not None:
        raise Conflict(f"FAQ entry {entry_id!r} already exists")
    row = FaqEntry(
        id=entry_id,
        question=question,
        answer=answer,
        variants=[FaqVariant(text=v) for v in variants],
        translations=[],  # loaded: the answer shows them
    )
    session.add(row)
    audit.record(session, "kb_entry_created", agent_id=actor_id, ip=ip, entry_id=entry_id)
    await session.commit()
    return row


async def update_entry(
    *,
    session: AsyncSession,
    entry_id: str,
    question: str,
    answer: str,
    variants: Sequence[str] | None,
    actor_id: int | None = None,
    ip: str | None = None,
) -> FaqEntry:
    """Replace an entry's question and answer (and its variants, when given)."""
    row = await get_entry(session=session, entry_id=entry_id)
    row.question, row.answer = question, answer
    if variants is not None:  # a question learnt from a miss stays one (Entry.learned)
        learned = {v.text for v in row.variants if v.learned}
        row.variants = [FaqVariant(text=v, learned=v in learned) for v in variants]
    row.updated_at = utcnow()  # the fingerprint servers watch, even if only variants changed
    audit.record(session, "kb_entry_updated", agent_id=actor_id, ip=ip, entry_id=entry_id)
    await session.commit()
    return row


async def delete_entry(
    *, session: AsyncSession, entry_id: str, actor_id: int | None = None, ip: str | None = None
) -> None:
    """Remove an entry and its variants."""
    row = await get_entry(session=session, entry_id=entry_id)
    await session.delete(row)
    audit.record(session, "kb_entry_deleted", agent_id=actor_id, ip=ip, entry_id=entry_id)
    await session.commit()


async def add_variant(
    *,
    session: AsyncSession,
    entry_id: str,
    text: str,
    actor_id: int | None = None,
    ip: str | None = None,
) -> FaqVariant:
    """Add one more way of asking an entry's question."""
    row = await get_entry(session=session, entry_id=entry_id)
    variant = FaqVariant(text=text)
    row.variants.append(variant)
    row.updated_at = utcnow()
    audit.record(session, "kb_variant_added", agent_id=actor_id, ip=ip, entry_id=entry_id)
    await session.commit()
    return variant


async def delete_variant(
    *,
    session: AsyncSession,
    entry_id: str,
    variant_id: int,
    actor_id: int | None = None,
    ip: str | None = None,
) -> None:
    """Remove one variant of an entry."""
    row = await get_entry(session=session, entry_id=entry_id)
    variant = next((v for v in row.variants if v.id == variant_id), None)
    if variant is None:
        raise NotFound(f"entry {entry_id!r} has no variant {variant_id}")
    row.variants.remove(variant)
    row.updated_at = utcnow()
    audit.record(
        session,
        "kb_variant_deleted",
        agent_id=actor_id,
        ip=ip,
        entry_id=entry_id,
        variant_id=variant_id,
    )
    await session.commit()


# --- translations (issue 17): an entry's question, variants and answer in one more language --


def language_tag(lang: str) -> str:
    """The tag in its usual case ("zh-hant" -> "zh-Hant"), or Invalid."""
    tag = normalize_tag(lang)
    if tag is None:
        raise Invalid(f"{lang!r} is not a language tag (cs, de, zh-Hans, pt-BR...)")
    return tag


async def set_translation(
    *,
    session: AsyncSession,
    entry_id: str,
    lang: str,
    question: str,
    answer: str,
    variants: Sequence[str],
    actor_id: int | None = None,
    ip: str | None = None,
) -> FaqTranslation:
    """Add or replace an entry's translation into `lang` (audited)."""
    tag = language_tag(lang)
    row = await get_entry(session=session, entry_id=entry_id)
    given = Translation(tag, question, answer, tuple(variants))
    current = next((t for t in row.translations if t.lang == tag), None)
    if current is None:
        current = _translation_row(entry_id, given)
        row.translations.append(current)
    else:
        current.question, current.answer = question, answer
        current.variants = [FaqVariant(entry_id=entry_id, text=v) for v in variants]
    row.updated_at = utcnow()  # the fingerprint every replica's KB watcher compares
    audit.record(
        session, "kb_translation_saved", agent_id=actor_id, ip=ip, entry_id=entry_id, lang=tag
    )
    await session.commit()
    return current


async def delete_translation(
    *,
    session: AsyncSession,
    entry_id: str,
    lang: str,
    actor_id: int | None = None,
    ip: str | None = None,
) -> None:
    """Remove an entry's translation into `lang` and its variants (audited)."""
    tag = language_tag(lang)
    row = await get_entry(session=session, entry_id=entry_id)
    current = next((t for t in row.translations if t.lang == tag), None)
    if current is None:
        raise NotFound(f"entry {entry_id!r} has no translation {tag!r}")
    row.translations.remove(current)
    row.updated_at = utcnow()
    audit.record(
        session, "kb_translation_deleted", agent_id=actor_id, ip=ip, entry_id=entry_id, lang=tag
    )
    await session.commit()
