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
from handoff.logins import LoginPolicy
from handoff.mail import MailConfig
from handoff.routing import Routing

MIN_SECRET_LEN = 32  # 256 bits of hex/urlsafe text; shorter keys are guessable offline
_LOGIN = LoginPolicy()  # the login throttle's defaults


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
    # Signs agent and visitor tokens; the SAME value on every replica. Unset (not allowed in
    # production): the first start stores a random key in the database and everyone uses it.
    secret_key: str | None = None
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
    agent_token_ttl_s: int = Field(default=12 * 3600, ge=60)  # a shift; then log in again
    # A visitor's token (their chat history on this browser) lapses this long after their last
    # visit; every visit renews it.
    visitor_token_ttl_s: int = Field(default=90 * 86400, ge=60)
    # Failed logins (handoff/logins.py): this many per account / per IP in the window are free,
    # then each attempt waits first_delay * 2^n seconds after the last failure, up to max_delay.
    login_window_s: int = Field(default=_LOGIN.window_s, ge=1)
    login_free_failures_per_account: int = Field(default=_LOGIN.free_per_account, ge=1)
    login_free_failures_per_ip: int = Field(default=_LOGIN.free_per_ip, ge=1)
    login_first_delay_s: int = Field(default=_LOGIN.first_delay_s, ge=1)
    login_max_delay_s: int = Field(default=_LOGIN.max_delay_s, ge=1)
    # Password checks at once per process: argon2 takes a core and 64 MiB for ~0.1 s each.
    login_hash_concurrency: int = Field(default=2, ge=1)
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

    def login_policy(self) -> LoginPolicy:
        """How failed logins are throttled; production refuses the demo accounts."""
        return LoginPolicy(
            window_s=self.login_window_s,
            free_per_account=self.login_free_failures_per_account,
            free_per_ip=self.login_free_failures_per_ip,
            first_delay_s=self.login_first_delay_s,
            max_delay_s=self.login_max_delay_s,
            refuse_demo_accounts=self.env is Environment.PRODUCTION,
        )

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.secret_key is not None and len(self.secret_key) < MIN_SECRET_LEN:
            raise ValueError(
                f"CHATDESK_SECRET_KEY must be at least {MIN_SECRET_LEN} random characters "
                "(or unset outside production: a random key is kept in the database)"
            )
        if self.env is Environment.PRODUCTION:
            if self.secret_key is None:
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
