"""One validated settings object, read from CHATDESK_* environment variables."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from handoff.agents import PRESENCE_TIMEOUT_S
from handoff.hours import BusinessHours
from handoff.mail import MailConfig
from handoff.routing import Routing

DEV_SECRET = "dev-insecure-secret-change-me"  # noqa: S105 - refused in production below
MIN_SECRET_LEN = 32  # 256 bits of hex/urlsafe text; shorter keys are guessable offline


class RoutingMode(StrEnum):
    AUTO = "auto"
    MANUAL = "manual"


class Environment(StrEnum):
    DEV = "dev"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Everything configurable about a chatdesk process."""

    model_config = SettingsConfigDict(env_prefix="CHATDESK_", env_file=".env", extra="ignore")

    env: Environment = Environment.DEV
    database_url: str = "sqlite+aiosqlite:///./chatdesk.db"
    bus_url: str = "memory://"
    secret_key: str = DEV_SECRET
    host: str = "127.0.0.1"
    port: int = 8000

    # The bot
    model: str = "all-MiniLM-L6-v2"
    # After start-up and every KB change the bot keeps answering while it trains a head over
    # the embeddings and then fine-tunes the encoder on the KB's own phrasings (minutes of
    # CPU, in a background thread); each stage is swapped in when it is ready.
    bot_improve: bool = True
    bot_fine_tune: bool = True
    answer_threshold: float | None = Field(
        default=None, description="Override the calibrated answer threshold (cosine score)."
    )
    clarify_margin: float | None = Field(
        default=None, description="Override the calibrated top-2 margin below which we clarify."
    )
    demo_kb: Path = Path(__file__).parent / "data" / "demo_faq.jsonl"

    # Agents
    agent_token_ttl_s: int = 12 * 3600  # one working day; agents log in again each shift
    presence_timeout_s: int = PRESENCE_TIMEOUT_S  # two missed console heartbeats and a bit

    # The embedding site (the chat bubble, app/identity.py). Origins allowed to open the visitor
    # socket, e.g. ["https://shop.example.com", "https://*.example.com"]; empty allows any.
    allowed_origins: list[str] = Field(default_factory=list)
    # The site's server signs its logged-in user with this; unset ignores every identity.
    identity_secret: str | None = None

    # Routing: "auto" assigns queued chats to the online agent with the most free capacity;
    # "manual" leaves them in the queue for agents to pick up.
    routing_mode: RoutingMode = RoutingMode.AUTO

    # Business hours: {"mon": "09:00-17:00", ..., "sat": ""}; unset means around the clock.
    business_hours: dict[str, str] | None = None
    business_timezone: str = "UTC"
    holidays: list[date] = Field(default_factory=list)
    # Promise for a ticket opened while we are open but nobody is online.
    ticket_reply_within_s: int = 4 * 3600

    # Outgoing mail (ticket replies, transcripts). No host: mail is not sent, only logged.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_tls: bool = False  # STARTTLS before logging in
    smtp_user: str | None = None
    smtp_password: str | None = None
    mail_from: str = "chatdesk@localhost"

    # Privacy (handoff/privacy.py). Conversations closed (or left with the bot) more than this
    # many days ago are purged, with visitors left with none; unset keeps everything.
    retention_days: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _check_business_hours(self) -> Settings:
        self.hours()  # fail at start-up, not on the first after-hours visitor
        return self

    def hours(self) -> BusinessHours:
        """The business hours these settings describe."""
        return BusinessHours.parse(self.business_hours, self.business_timezone, self.holidays)

    def routing(self) -> Routing:
        """How escalations are routed: presence, auto/manual, hours, ticket promise."""
        return Routing(
            presence_timeout_s=self.presence_timeout_s,
            auto_assign=self.routing_mode is RoutingMode.AUTO,
            hours=self.hours(),
            ticket_reply_within_s=self.ticket_reply_within_s,
        )

    def bot_thresholds(self) -> dict[str, float]:
        """Threshold overrides; the bot's calibrated values are used for the rest."""
        overrides = {"answer": self.answer_threshold, "margin": self.clarify_margin}
        return {k: v for k, v in overrides.items() if v is not None}

    def mail(self) -> MailConfig:
        """The SMTP server outgoing mail goes through."""
        return MailConfig(
            host=self.smtp_host,
            port=self.smtp_port,
            tls=self.smtp_tls,
            user=self.smtp_user,
            password=self.smtp_password,
            sender=self.mail_from,
        )

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.env is Environment.PRODUCTION:
            if self.secret_key == DEV_SECRET or len(self.secret_key) < MIN_SECRET_LEN:
                raise ValueError(
                    "CHATDESK_SECRET_KEY must be set to a random value of at least "
                    f"{MIN_SECRET_LEN} characters in production "
                    "(python -c 'import secrets; print(secrets.token_urlsafe(32))')"
                )
            if self.identity_secret is not None and len(self.identity_secret) < MIN_SECRET_LEN:
                raise ValueError(
                    f"CHATDESK_IDENTITY_SECRET must be at least {MIN_SECRET_LEN} characters"
                )
        return self


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
