"""Canned replies: prepared answers agents search and insert with `/shortcut`."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import audit
from handoff.errors import Conflict, Invalid, NotFound
from handoff.models import CannedReply

SHORTCUT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")  # typed after "/": short, no spaces


def _check(shortcut: str, title: str, text: str) -> str:
    shortcut = shortcut.strip().lstrip("/").lower()
    if not SHORTCUT.match(shortcut):
        raise Invalid("shortcut: 1-40 letters, digits, '-' or '_'")
    if not title.strip() or not text.strip():
        raise Invalid("title and text must not be empty")
    return shortcut


async def search(*, session: AsyncSession, query: str = "") -> Sequence[CannedReply]:
    """Canned replies whose shortcut, title or text contains the query; shortcut order."""
    stmt = select(CannedReply).order_by(CannedReply.shortcut)
    q = query.strip().lstrip("/").lower()
    if q:
        # autoescape: the query's own % _ and / match literally ("50%" is not "50 anything").
        stmt = stmt.where(
            or_(
                func.lower(CannedReply.shortcut).contains(q, autoescape=True),
                func.lower(CannedReply.title).contains(q, autoescape=True),
                func.lower(CannedReply.text).contains(q, autoescape=True),
            )
        )
    return (await session.scalars(stmt)).all()


async def create(
    *,
    session: AsyncSession,
    shortcut: str,
    title: str,
    text: str,
    actor_id: int | None = None,
    ip: str | None = None,
) -> CannedReply:
    """Add a canned reply (admins)."""
    reply = CannedReply(shortcut=_check(shortcut, title, text), title=title.strip(), text=text)
    session.add(reply)
    try:
        await session.flush()
        audit.record(
            session,
            "canned_created",
            agent_id=actor_id,
            ip=ip,
            reply_id=reply.id,
            shortcut=reply.shortcut,
        )
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise Conflict(f"shortcut /{reply.shortcut} exists already") from exc
    return reply


async def update(
    *,
    session: AsyncSession,
    reply_id: int,
    shortcut: str,
    title: str,
    text: str,
    actor_id: int | None = None,
    ip: str | None = None,
) -> CannedReply:
    """Change a canned reply (admins)."""
    reply = await session.get(CannedReply, reply_id)
    if reply is None:
        raise NotFound(f"canned reply {reply_id} not found")
    reply.shortcut, reply.title, reply.text = _check(shortcut, title, text), title.strip(), text
    audit.record(
        session,
        "canned_updated",
        agent_id=actor_id,
        ip=ip,
        reply_id=reply_id,
        shortcut=reply.shortcut,
    )
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise Conflict(f"shortcut /{shortcut} exists already") from exc
    return reply


async def delete(
    *, session: AsyncSession, reply_id: int, actor_id: int | None = None, ip: str | None = None
) -> None:
    """Remove a canned reply (admins)."""
    reply = await session.get(CannedReply, reply_id)
    if reply is None:
        raise NotFound(f"canned reply {reply_id} not found")
    await session.delete(reply)
    audit.record(
        session,
        "canned_deleted",
        agent_id=actor_id,
        ip=ip,
        reply_id=reply_id,
        shortcut=reply.shortcut,
    )
    await session.commit()
