"""The embedding site: which origins may open the visitor socket, and its signed visitor identity.

A site that knows who its logged-in user is can say so to the widget, signed by the site's
server with the per-site secret (`CHATDESK_IDENTITY_SECRET`) so a visitor cannot claim to be
somebody else. The signature is a hex HMAC-SHA256 over the fields joined by newlines:

    user_id "\\n" name "\\n" email "\\n" expires      (missing name/email are empty strings)

`expires` is a Unix time in seconds: a signed identity copied out of a page stops working.
An identity that does not verify (no secret configured, wrong signature, expired) is ignored
entirely: unsigned identity claims never reach the visitor's profile. What verifies is kept
apart from what the visitor types (`Visitor.verified_*` beside `name`/`email`), and binds the
visitor to the site's `user_id` (handoff/visitors.py `resume`).

The agent console's socket is only for pages from chatdesk itself (`agent_origin_allowed`).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

from app.schemas import IdentityClaim
from handoff.visitors import VerifiedIdentity

FIELD_SEPARATOR = "\n"  # cannot occur inside a field (refused), so the joined text is unambiguous


def signed_text(*, user_id: str, name: str | None, email: str | None, expires: int) -> bytes:
    """The exact bytes the site's server signs."""
    return FIELD_SEPARATOR.join([user_id, name or "", email or "", str(expires)]).encode()


def sign_identity(
    *,
    secret: str,
    user_id: str,
    name: str | None = None,
    email: str | None = None,
    expires: int,
) -> str:
    """The hex signature a site's server puts into the widget's `identity` option."""
    text = signed_text(user_id=user_id, name=name, email=email, expires=expires)
    return hmac.new(secret.encode(), text, hashlib.sha256).hexdigest()


def verify_identity(
    claim: IdentityClaim, *, secret: str | None, now: float | None = None
) -> VerifiedIdentity | None:
    """The identity when its signature verifies (in constant time) and it has not expired."""
    if not secret:
        return None
    fields = (claim.user_id, claim.name or "", claim.email or "")
    if any(FIELD_SEPARATOR in f for f in fields):
        return None
    if claim.expires < (time.time() if now is None else now):
        return None
    expected = sign_identity(
        secret=secret,
        user_id=claim.user_id,
        name=claim.name,
        email=claim.email,
        expires=claim.expires,
    )
    if not hmac.compare_digest(expected.encode(), claim.signature.lower().encode()):
        return None
    email = None
    if claim.email:
        try:
            email = validate_email(claim.email, check_deliverability=False).normalized
        except EmailNotValidError:
            email = None  # the site vouched for a malformed address: keep the rest
    return VerifiedIdentity(user_id=claim.user_id, name=claim.name or None, email=email)


def origin_allowed(origin: str | None, allowed: list[str]) -> bool:
    """Whether a page from `origin` may open the visitor socket (an empty list allows all)."""
    if not allowed:
        return True
    if origin is None:
        return False
    parts = urlsplit(origin.lower())
    for entry in (a.rstrip("/").lower() for a in allowed):
        scheme, _, host = entry.partition("://")
        if host.startswith("*."):  # "https://*.example.com": any subdomain, not the apex
            if parts.scheme == scheme and parts.netloc.endswith(host[1:]):
                return True
        elif f"{parts.scheme}://{parts.netloc}" == entry:
            return True
    return False


def agent_origin_allowed(origin: str | None, host: str | None, console_origins: list[str]) -> bool:
    """Whether a page from `origin` may open the agent socket: chatdesk's own pages only.

    A browser always sends Origin on a websocket; a page on another site reaching for an
    agent's socket is refused. Clients that are not browsers send none (they need a token all
    the same). The own origin is the request's Host, whatever the scheme (a TLS proxy in front
    turns https into http); behind a proxy that rewrites Host, list the console's public origin
    in CHATDESK_CONSOLE_ORIGINS.
    """
    if origin is None:
        return True
    parts = urlsplit(origin.lower())
    if host is not None and parts.netloc == host.lower() and parts.scheme in ("http", "https"):
        return True
    return f"{parts.scheme}://{parts.netloc}" in {o.rstrip("/").lower() for o in console_origins}
