"""Translations of FAQ entries as stored (issue 17): the migration, edits, import and export."""

from __future__ import annotations

import asyncio

import pytest
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.preflight import alembic_config
from bot import Entry
from bot.kb import Translation
from bot.kbfile import dumps
from handoff import kb_admin, knowledge
from handoff.errors import Invalid, NotFound
from handoff.models import AuditEvent, FaqTranslation, FaqVariant

TRACK = Entry(
    "track", "How can I track my order?", "Under My Account > Orders.", ("where is it",), (
        Translation("cs", "Jak sleduji objednávku?", "V Můj účet > Objednávky.",
                    ("kde je moje zásilka", "sledování objednávky")),
        Translation("zh-Hans", "如何查询订单？", "在「我的账户 > 订单」。", ("订单在哪",)),
    ))
OPENING = Entry("opening", "When are you open?", "9-17.", ("opening hours",))
KB = [OPENING, TRACK]  # in id order, as stored entries load


async def test_the_migration_keeps_the_knowledge_base(
    database_url: str, session: AsyncSession
) -> None:
    await knowledge.replace_all(session=session, entries=[OPENING])
    await session.close()
    config = alembic_config(database_url)
    await asyncio.to_thread(command.downgrade, config, "0011")  # before translations
    try:
        async with session.bind.connect() as conn:  # type: ignore[union-attr]
            rows = (await conn.execute(text("SELECT entry_id, text FROM faq_variants"))).all()
        assert [tuple(r) for r in rows] == [("opening", "opening hours")]
    finally:
        await asyncio.to_thread(command.upgrade, config, "head")
    assert await knowledge.load_entries(session=session) == [OPENING]
    await knowledge.replace_all(session=session, entries=KB)  # and the new table works
    assert await knowledge.load_entries(session=session) == KB


async def test_replace_all_and_load_keep_translations(session: AsyncSession) -> None:
    await knowledge.replace_all(session=session, entries=KB)
    assert await knowledge.load_entries(session=session) == KB
    (row,) = [r for r in await knowledge.list_rows(session=session) if r.id == "track"]
    assert [v.text for v in row.variants] == ["where is it"]  # the KB language's only
    await knowledge.replace_all(session=session, entries=[OPENING])
    assert (await session.scalars(select(FaqTranslation))).all() == []
    left = (await session.scalars(select(FaqVariant.text))).all()
    assert left == ["opening hours"]


async def test_set_and_delete_a_translation(session: AsyncSession) -> None:
    await knowledge.replace_all(session=session, entries=KB)
    before = await knowledge.fingerprint(session=session)
    await knowledge.set_translation(
        session=session, entry_id="opening", lang="DE", question="Wann habt ihr offen?",
        answer="9-17 Uhr.", variants=["Öffnungszeiten"], actor_id=None, ip="10.0.0.1",
    )
    await knowledge.set_translation(  # replaces the Czech one
        session=session, entry_id="track", lang="cs", question="Kde je objednávka?",
        answer="V účtu.", variants=[],
    )
    entries = {e.id: e for e in await knowledge.load_entries(session=session)}
    assert entries["opening"].translations == (
        Translation("de", "Wann habt ihr offen?", "9-17 Uhr.", ("Öffnungszeiten",)),
    )
    assert entries["track"].translations[0] == Translation("cs", "Kde je objednávka?", "V účtu.")
    assert entries["track"].variants == ("where is it",)
    assert await knowledge.fingerprint(session=session) != before
    await knowledge.delete_translation(session=session, entry_id="track", lang="zh-hans")
    entries = {e.id: e for e in await knowledge.load_entries(session=session)}
    assert entries["track"].languages() == ("cs",)
    with pytest.raises(NotFound):
        await knowledge.delete_translation(session=session, entry_id="track", lang="fa")
    with pytest.raises(Invalid):
        await knowledge.set_translation(
            session=session, entry_id="track", lang="not a tag", question="q", answer="a",
            variants=[],
        )
    actions = (await session.scalars(select(AuditEvent.action).order_by(AuditEvent.id))).all()
    assert actions[-3:] == ["kb_translation_saved", "kb_translation_saved",
                            "kb_translation_deleted"]


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "md"])
async def test_import_and_export_round_trip_with_translations(
    session: AsyncSession, fmt: str
) -> None:
    data = dumps(KB, fmt).encode()
    result = await kb_admin.import_file(session=session, data=data, fmt=fmt, dry_run=False)
    assert result.applied and result.translations == 2 and not result.problems
    assert await knowledge.load_entries(session=session) == KB
    assert await kb_admin.export_file(session=session, fmt=fmt) == data.decode()


async def test_import_names_a_translation_problem_with_its_line(session: AsyncSession) -> None:
    data = ("id,question,answer,question@cs,answer@cs\n"
            "a,Q?,A.,Otázka?,Odpověď.\n"
            "b,Q?,A.,,Odpověď bez otázky.\n").encode()
    result = await kb_admin.import_file(session=session, data=data, fmt="csv", dry_run=False)
    assert not result.applied
    assert [(p.line, p.message) for p in result.problems] == [(3, "translation cs: empty question")]
    long = Entry("x", "Q?", "A.", (), (Translation("fa", "پرسش؟", "پ" * 9000),))
    result = await kb_admin.import_file(
        session=session, data=dumps([long], "jsonl").encode(), fmt="jsonl", dry_run=True
    )
    assert [p.message for p in result.problems] == ["fa answer longer than 8192 characters"]


async def test_search_finds_translated_text(session: AsyncSession) -> None:
    await knowledge.replace_all(session=session, entries=KB)
    for q in ("objednávku", "订单在哪", "Objednávky"):
        found = await kb_admin.search_entries(session=session, q=q)
        assert [e.id for e in found] == ["track"], q
        assert [t.lang for t in found[0].translations] == ["cs", "zh-Hans"]
