"""API keys for server-to-server integrations: create (shown once), list, revoke, check, usage.

A key is `ck_` and 32 random bytes (URL-safe base64). Only its SHA-256 is stored: the secret
is 256 random bits, so nobody can guess it from the hash, and a fast hash lets every request
find its key with one indexed lookup. A password hash (argon2) exists to slow down guessing
*low-entropy* secrets; here it would only add tens of milliseconds of CPU to every API call.

Every request checks its key in the database (no cache), so a revoked or expired key is
refused at once on every replica. Every call made with a key is in the audit log
(`api_key_used`: key id, method, route, status), see `record_use`.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import audit
from handoff.api_key_models import ApiKey
from handoff.errors import Invalid, NotFound
from handoff.models import utcnow

PREFIX = "ck_"  # tells a key from a login token at a glance (and to secret scanners)
SECRET_BYTES = 32  # 256 random bits: a plain SHA-256 of it is safe to store
SHOWN_CHARS = len(PREFIX) + 8  # the part kept in clear to tell keys apart in lists and logs
NAME_MAX = 100


class Scope(StrEnum):
    """What a key may do; each REST route that accepts keys names the one it needs."""

    CONVERSATIONS_READ = "conversations:read"  # list and read conversations, tickets
    MESSAGES_WRITE = "messages:write"  # post a message (as the bot, or a ticket reply)
    KB_MANAGE = "kb:manage"  # the /api/admin/kb routes


class Refused(StrEnum):
    """Why a presented key does not authenticate."""

    UNKNOWN = "unknown"
    REVOKED = "revoked"
    EXPIRED = "expired"


@dataclass(frozen=True)
class NewKey:
    """A key just created: `secret` is the only time the key itself is known."""

    key: ApiKey
    secret: str


@dataclass(frozen=True)
class Check:
    """The key a request presented (if it exists) and, unless it may be used, why not."""

    key: ApiKey | None
    refused: Refused | None


def hash_secret(secret: str) -> str:
    """The stored form of a key: SHA-256, hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


def looks_like_key(token: str | None) -> bool:
    """A bearer token in the key format (anything else is tried as a login token)."""
    return bool(token) and str(token).startswith(PREFIX)


def check_scopes(scopes: Iterable[str]) -> list[str]:
    """The scopes, known ones only, at least one, in a fixed order."""
    wanted = set(scopes)
    unknown = wanted - {s.value for s in Scope}
    if unknown:
        raise Invalid(f"scopes: unknown {', '.join(sorted(unknown))}")
    if not wanted:
        raise Invalid("scopes: give at least one")
    return [s.value for s in Scope if s.value in wanted]


async def create_key(
    *,
    session: AsyncSession,
    name: str,
    scopes: Iterable[str],
    expires_at: datetime | None,
    actor_id: int | None,
    ip: str | None,
) -> NewKey:
    """A new key with these scopes (until `expires_at`, if given); audited; committed."""
    name = name.strip()
    if not 1 <= len(name) <= NAME_MAX:
        raise Invalid(f"name must be 1 to {NAME_MAX} characters")
    scope_list = check_scopes(scopes)
    if expires_at is not None and expires_at.tzinfo is None:
        raise Invalid("expires_at: give a time zone")
    if expires_at is not None and expires_at <= utcnow():
        raise Invalid("expires_at: must be in the future")
    secret = PREFIX + secrets.token_urlsafe(SECRET_BYTES)
    key = ApiKey(
        name=name,
        prefix=secret[:SHOWN_CHARS],
        secret_hash=hash_secret(secret),
        scopes=scope_list,
        created_by=actor_id,
        expires_at=expires_at,
    )
    session.add(key)
    await session.flush()
    audit.record(
        session,
        "api_key_created",
        agent_id=actor_id,
        ip=ip,
        key_id=key.id,
        name=name,
        prefix=key.prefix,
        scopes=scope_list,
        expires_at=expires_at.isoformat() if expires_at else None,
    )
    await session.commit()
    return NewKey(key=key, secret=secret)


async def list_keys(*, session: AsyncSession) -> Sequence[ApiKey]:
    """Every key, newest first, revoked and expired ones too."""
    return (await session.scalars(select(ApiKey).order_by(ApiKey.id.desc()))).all()


async def revoke_key(
    *, session: AsyncSession, key_id: int, actor_id: int | None, ip: str | None
) -> ApiKey:
    """Refuse the key from now on, everywhere (revoking twice changes nothing); audited."""
    key = await session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(f"API key {key_id} not found")
    if key.revoked_at is None:
        key.revoked_at, key.revoked_by = utcnow(), actor_id
        audit.record(
            session, "api_key_revoked", agent_id=actor_id, ip=ip, key_id=key.id, name=key.name,
            prefix=key.prefix,
        )
        await session.commit()
    return key


async def check_key(*, session: AsyncSession, secret: str) -> Check:
    """The key named by `secret`, looked up now (no cache: a revocation counts at once)."""
    key = await session.scalar(select(ApiKey).where(ApiKey.secret_hash == hash_secret(secret)))
    if key is None:
        return Check(None, Refused.UNKNOWN)
    if key.revoked_at is not None:
        return Check(key, Refused.REVOKED)
    if key.expires_at is not None and key.expires_at <= utcnow():
        return Check(key, Refused.EXPIRED)
    return Check(key, None)


def allows(key: ApiKey, scope: Scope) -> bool:
    return scope.value in (key.scopes or [])


async def key_id_for(*, session: AsyncSession, secret: str) -> int | None:
    """The id of the key a secret names (revoked or not): for the usage record of a call to
    a route that takes no keys."""
    return await session.scalar(
        select(ApiKey.id).where(ApiKey.secret_hash == hash_secret(secret))
    )


async def record_use(
    *,
    session: AsyncSession,
    key_id: int,
    method: str,
    route: str,
    status: int,
    ip: str | None,
) -> None:
    """One call made with a key, in the audit log, and the key's last use; committed.

    Per call, not aggregated: integrations call at server pace, not at chat pace, and an
    admin asking "what did this key do" wants each call. Calls refused because the key was
    revoked or expired are recorded too (with their 401); unknown keys are not (anyone can
    make one up, and the audit log is no place for their noise).
    """
    audit.record(
        session, "api_key_used", ip=ip, key_id=key_id, method=method, route=route, status=status
    )
    if status < 400:
        used = update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=utcnow())
        await session.execute(used)
    await session.commit()
