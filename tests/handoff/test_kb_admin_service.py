"""The admin console's knowledge base services: usage numbers, search, file import, export."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import Entry
from handoff import kb_admin, knowledge, visitors
from handoff.messages import append_message
from handoff.models import AuditEvent, Conversation, Message, MessageFeedback, Sender, utcnow

KB = [
    Entry("returns", "How do I return an item?", "Use the form at https://x.example/r.",
          ("send back",)),
    Entry("shipping", "How much is shipping?", "4.95 EUR; free above 50 EUR.", ("postage 100%",)),
    Entry("hours", "When are you open?", "9-17, Monday to Friday.", ()),
]


async def seed(session: AsyncSession) -> None:
    await knowledge.replace_all(session=session, entries=KB)


async def bot_answer(
    session: AsyncSession, conv_id: int, entry_id: str, *, days_ago: float, helpful: bool | None
) -> None:
    """One bot answer with `entry_id`, `days_ago` old, with the visitor's vote if any."""
    msg = await append_message(
        session=session,
        conversation_id=conv_id,
        sender=Sender.BOT,
        text="an answer",
        meta={"kind": "answer", "entry_id": entry_id, "score": 0.9, "candidates": []},
    )
    await session.execute(
        update(Message)
        .where(Message.id == msg.id)
        .values(created_at=utcnow() - timedelta(days=days_ago))
    )
    if helpful is not None:
        session.add(MessageFeedback(conversation_id=conv_id, seq=msg.seq, helpful=helpful))


async def a_conversation(session: AsyncSession) -> int:
    v = await visitors.create_visitor(session=session)
    conv = Conversation(visitor_id=v.id)
    session.add(conv)
    await session.flush()
    return conv.id


class Statements:
    """Counts the SQL statements a block runs on the session's engine."""

    def __init__(self, session: AsyncSession) -> None:
        self.engine = session.bind.sync_engine  # type: ignore[union-attr]
        self.seen: list[str] = []

    def __enter__(self) -> Statements:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc: Any) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.startswith("BEGIN"):
            self.seen.append(statement)


async def test_usage_numbers_per_entry_in_a_few_statements(session: AsyncSession) -> None:
    await seed(session)
    conv = await a_conversation(session)
    await bot_answer(session, conv, "returns", days_ago=1, helpful=True)
    await bot_answer(session, conv, "returns", days_ago=2, helpful=False)
    await bot_answer(session, conv, "returns", days_ago=10, helpful=True)
    await bot_answer(session, conv, "returns", days_ago=40, helpful=False)  # too old to count
    await bot_answer(session, conv, "shipping", days_ago=20, helpful=None)
    await bot_answer(session, conv, "gone-entry", days_ago=1, helpful=True)  # deleted since
    await append_message(  # a "did you mean" is no answer
        session=session, conversation_id=conv, sender=Sender.BOT, text="Did you mean",
        meta={"kind": "clarify", "options": [{"entry_id": "hours"}]},
    )
    await append_message(  # nor is a visitor's click on a choice
        session=session, conversation_id=conv, sender=Sender.VISITOR, text="When are you open?",
        client_msg_id="c1", meta={"kind": "choice", "entry_id": "hours"},
    )
    await session.commit()

    with Statements(session) as counted:
        rows = {r.id: r for r in await kb_admin.search_entries(session=session)}
    # entries, variants, translations (and their variants, when there are any), answers, votes
    assert len(counted.seen) <= 5, counted.seen

    assert list(rows) == ["hours", "returns", "shipping"]
    returns, shipping, hours = rows["returns"], rows["shipping"], rows["hours"]
    assert (returns.answered_7d, returns.answered_30d) == (2, 3)
    assert (returns.helpful, returns.unhelpful, returns.helpful_rate) == (2, 1, 0.667)
    assert (shipping.answered_7d, shipping.answered_30d, shipping.helpful_rate) == (0, 1, None)
    assert (hours.answered_30d, hours.helpful, hours.unhelpful) == (0, 0, 0)
    assert [v.text for v in returns.variants] == ["send back"]


async def test_search_looks_in_id_question_answer_and_variants(session: AsyncSession) -> None:
    await seed(session)

    async def ids(q: str) -> list[str]:
        return [r.id for r in await kb_admin.search_entries(session=session, q=q)]

    assert await ids("RETURN") == ["returns"]  # question, any case
    assert await ids("monday") == ["hours"]  # answer
    assert await ids("send back") == ["returns"]  # variant
    assert await ids("shipping") == ["shipping"]  # id and question
    assert await ids("100%") == ["shipping"]  # a LIKE wildcard is a plain character
    assert await ids("%") == ["shipping"]
    assert await ids("_") == []
    assert await ids("nothing like it") == []
    assert len(await ids("  ")) == 3  # blank: everything


BROKEN_JSONL = (
    b'{"id": "ok-1", "question": "Fine?", "answer": "Yes."}\n'
    b'{"id": "ok-1", "question": "Again?", "answer": "Dup."}\n'
    b'{"id": "no answer", "question": "Where?"}\n'
    b"not json at all\n"
    b"\n"
    b'{"id": "has space", "question": "Q?", "answer": "A."}\n'
    b'{"id": "empty", "question": "   ", "answer": "A."}\n'
    b'{"id": "nul", "question": "Q\\u0000?", "answer": "A."}\n'
)


async def test_a_broken_file_names_every_problem_and_changes_nothing(
    session: AsyncSession,
) -> None:
    await seed(session)
    before = await knowledge.load_entries(session=session)
    result = await kb_admin.import_file(session=session, data=BROKEN_JSONL, fmt="jsonl",
                                        dry_run=False, actor_id=None)
    assert not result.applied
    assert [(p.line, p.message.split(" (")[0]) for p in result.problems] == [
        (2, "duplicate id 'ok-1'"),
        (3, "missing or non-text field 'answer'"),
        (4, "invalid JSON"),
        (6, "id 'has space' must be letters, digits, '.', '_' or '-'"),
        (7, "empty question"),
        (8, "question holds a NUL or an unpaired surrogate"),
    ]
    assert result.detail == "the file has 6 problems; nothing was changed"
    assert await knowledge.load_entries(session=session) == before
    assert await session.scalar(select(AuditEvent).where(AuditEvent.action == "kb_replaced")) \
        is not None  # only the seed's

    csv_file = b"id,question,answer\nok,Q?,A\nbad,,A\nworse,Q?,\nextra,Q?,A,cell\n"
    result = await kb_admin.import_file(session=session, data=csv_file, fmt="csv", dry_run=False)
    assert [p.line for p in result.problems] == [3, 4, 5]
    md = b"Intro text\n## \n## Fine?\nYes.\n## No answer?\n\n"
    result = await kb_admin.import_file(session=session, data=md, fmt="md", dry_run=False)
    assert [(p.line, p.message[:10]) for p in result.problems] == [
        (1, "text befor"), (2, "'##' headi"), (5, "empty answ"),
    ]
    for data, fmt, problem in [
        (b"\xff\xfe bad bytes", "jsonl", (1, "not UTF-8 text")),
        (b"line one\nline \xe9 two", "md", (2, "not UTF-8 text")),
        (b"", "jsonl", (0, "the file has no entries")),
        (b"q,a\n", "csv", (1, "header lacks column(s) answer, question")),
        (b"{}", "txt", (0, "unknown format 'txt'")),
    ]:
        result = await kb_admin.import_file(session=session, data=data, fmt=fmt, dry_run=False)
        assert [(p.line, p.message[: len(problem[1])]) for p in result.problems] == [problem]
    assert await knowledge.load_entries(session=session) == before


async def test_import_replaces_everything_and_is_audited(session: AsyncSession) -> None:
    await seed(session)
    good = "id,question,variants,answer\nnew-1,New question?,other way|third way,New answer.\n"
    dry = await kb_admin.import_file(
        session=session, data=good.encode(), fmt="csv", dry_run=True, actor_id=None
    )
    assert (dry.applied, dry.entries, dry.variants, dry.current, dry.problems) == (
        False, 1, 2, 3, []
    )
    assert len(await knowledge.load_entries(session=session)) == 3
    done = await kb_admin.import_file(
        session=session, data=good.encode(), fmt="csv", dry_run=False, ip="10.0.0.9"
    )
    assert done.applied and done.detail == "imported 1 entries, replacing 3"
    assert await knowledge.load_entries(session=session) == [
        Entry("new-1", "New question?", "New answer.", ("other way", "third way"))
    ]
    audited = (
        await session.scalars(
            select(AuditEvent).where(AuditEvent.action == "kb_replaced").order_by(AuditEvent.id)
        )
    ).all()[-1]
    assert audited.ip == "10.0.0.9" and audited.detail == {"entries": 1, "via": "admin"}


async def test_export_in_every_format_imports_back(session: AsyncSession) -> None:
    tricky = [*KB, Entry("multi", "Lists?", "Yes:\n- one\n## not a heading\n- two", ("a, b",))]
    await knowledge.replace_all(session=session, entries=tricky)
    tricky.sort(key=lambda e: e.id)  # stored, and exported, in id order
    for fmt in kb_admin.FORMATS:
        text = await kb_admin.export_file(session=session, fmt=fmt)
        entries, problems = kb_admin.check_file(text.encode(), fmt)
        assert problems == [], (fmt, problems)
        assert [e.id for e in entries] == [e.id for e in tricky], fmt
        assert [e.variants for e in entries] == [e.variants for e in tricky], fmt
        assert [e for e in entries if e.id != "multi"] == sorted(KB, key=lambda e: e.id), fmt
        if fmt != "md":  # Markdown indents an answer line that would read as a heading
            assert entries == tricky, fmt
