"""The API keys table (handoff/api_keys.py); apart from handoff/models.py to keep it short."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from handoff.models import Base, UTCDateTime, utcnow


class ApiKey(Base):
    """A named key an integration sends as `Authorization: Bearer ck_...`; only its hash is kept.

    `prefix` (the key's first characters) names it in lists and the audit log; revoked and
    expired keys stay, so the log's key ids keep meaning something.
    """

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256, hex
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(Integer)  # a plain id: outlives the account
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[int | None] = mapped_column(Integer)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
