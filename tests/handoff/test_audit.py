"""The audit log keeps what happened, newest first, and commits with the change it describes."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from handoff import audit


async def test_events_come_back_newest_first_and_page_back(session: AsyncSession) -> None:
    for n in range(5):
        audit.record(session, "login_failed", ip="203.0.113.9", email=f"a{n}@example.com")
    audit.record(session, "login", agent_id=1, ip="203.0.113.9")
    await session.commit()

    newest = await audit.recent(session=session, limit=3)
    assert [e.action for e in newest] == ["login", "login_failed", "login_failed"]
    assert newest[1].detail == {"email": "a4@example.com"}
    older = await audit.recent(session=session, limit=10, before_id=newest[-1].id)
    assert [e.detail["email"] for e in older if e.detail] == [
        "a2@example.com",
        "a1@example.com",
        "a0@example.com",
    ]
    failed = await audit.recent(session=session, action="login_failed")
    assert len(failed) == 5


async def test_an_event_rolled_back_with_its_change_is_not_kept(session: AsyncSession) -> None:
    audit.record(session, "kb_entry_deleted", agent_id=1, entry_id="refunds")
    await session.rollback()
    assert await audit.recent(session=session) == []
