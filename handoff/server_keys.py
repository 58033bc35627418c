"""Keys the server makes itself: random on first start, then kept in the database.

The database is what every replica shares, so all of them (and every restart) sign with the
same key. Two replicas starting together both try to insert; the first insert wins and both
read the winner back.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.models import ServerKey, utcnow

SIGNING_KEY = "token_signing"  # signs agent and visitor tokens when no secret is configured
KEY_BYTES = 32  # 256 bits: beyond offline guessing


async def get_or_create(*, session: AsyncSession, name: str) -> str:
    """The stored key `name`; a random one is stored first if there is none yet. Commits."""
    found = await session.scalar(select(ServerKey.value).where(ServerKey.name == name))
    if found is not None:
        await session.commit()  # end the read: on SQLite it holds the write lock
        return found
    dialect = (await session.connection()).dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    await session.execute(
        insert(ServerKey)
        .values(name=name, value=secrets.token_urlsafe(KEY_BYTES), created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["name"])
    )
    await session.commit()
    value = await session.scalar(select(ServerKey.value).where(ServerKey.name == name))
    await session.commit()
    if value is None:  # pragma: no cover - the insert above or a concurrent one stored it
        raise RuntimeError(f"server key {name!r} could not be stored")
    return value
