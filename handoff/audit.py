"""The audit log: admin and security events, readable by admins (docs/security.md).

`record` adds the event to the caller's transaction, so the event and the change it
describes are committed together (or not at all). A failed login has no change of its
own: its caller commits the event alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.models import AuditEvent


def record(
    session: AsyncSession,
    action: str,
    *,
    agent_id: int | None = None,
    ip: str | None = None,
    **detail: Any,
) -> AuditEvent:
    """Add one event (e.g. "login", "login_failed", "kb_entry_deleted") to the session."""
    event = AuditEvent(action=action, agent_id=agent_id, ip=ip, detail=detail or None)
    session.add(event)
    return event


async def recent(
    *, session: AsyncSession, limit: int = 100, before_id: int | None = None, action: str = ""
) -> Sequence[AuditEvent]:
    """The newest events first; `before_id` pages back, `action` filters."""
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if before_id is not None:
        stmt = stmt.where(AuditEvent.id < before_id)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    return (await session.scalars(stmt)).all()
