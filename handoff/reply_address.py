"""Each ticket's secret reply address: `reply+<ticket id>.<token>@<reply domain>`.

The token is an HMAC of the ticket id with a key the server keeps in the database (every
replica and the `chatdesk mail-in` process share it), so an address cannot be guessed or
made up for another ticket: mail-in takes mail only to an address this key signed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from sqlalchemy.ext.asyncio import AsyncSession

from handoff import server_keys

REPLY_KEY = "mail_reply"  # ServerKey.name; independent of the token signing key
TOKEN_CHARS = 24  # base32: 120 bits, beyond guessing even at a mail server's full speed
LOCAL_PREFIX = "reply+"
_ADDRESS = re.compile(r"^reply\+(\d{1,18})\.([a-z2-7]+)@(.+)$")


async def reply_key(*, session: AsyncSession) -> str:
    """The key reply addresses are signed with (made and stored on first use). Commits."""
    return await server_keys.get_or_create(session=session, name=REPLY_KEY)


def token(key: str, ticket_id: int) -> str:
    """The ticket's token: lower-case base32, since mail systems may fold the local part's case."""
    digest = hmac.new(key.encode(), f"ticket:{ticket_id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:TOKEN_CHARS]


def address_for(*, key: str, ticket_id: int, domain: str) -> str:
    """The reply address of ticket `ticket_id`."""
    return f"{LOCAL_PREFIX}{ticket_id}.{token(key, ticket_id)}@{domain}"


def ticket_of(*, key: str, address: str, domain: str) -> int | None:
    """The ticket whose reply address this is; None for any other (or forged) address."""
    found = _ADDRESS.match(address.strip().strip("<>").lower())
    if found is None or found.group(3) != domain.lower():
        return None
    ticket_id = int(found.group(1))
    if not hmac.compare_digest(found.group(2), token(key, ticket_id)):
        return None
    return ticket_id


async def reply_to_for(*, session: AsyncSession, domain: str | None, ticket_id: int) -> str | None:
    """The Reply-To of a mail about ticket `ticket_id`; None when mail-in is not set up."""
    if not domain:
        return None
    return address_for(key=await reply_key(session=session), ticket_id=ticket_id, domain=domain)
