"""The settings of who answers a visitor and when: routing, business hours, queue timeouts,
re-routing, SLA targets, canned-reply automation. Part of the one `Settings` (app/settings.py).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings

from handoff.agents import PRESENCE_TIMEOUT_S
from handoff.hours import BusinessHours
from handoff.queue_timeout import QueueTimeouts
from handoff.reroute import Reroute
from handoff.routing import Routing
from handoff.sla import SlaTargets

REROUTE = Reroute()  # re-routing's defaults


class RoutingMode(StrEnum):
    AUTO = "auto"
    MANUAL = "manual"


class RoutingSettings(BaseSettings):
    """Routing, hours, queue and SLA settings (CHATDESK_* like the rest)."""

    presence_timeout_s: int = PRESENCE_TIMEOUT_S  # two missed console heartbeats and a bit

    # Routing: "auto" assigns queued chats to the online agent with the most free capacity;
    # "manual" leaves them in the queue for agents to pick up.
    routing_mode: RoutingMode = RoutingMode.AUTO
    # Teams (handoff/team_routing.py): a chat for a team (the bot's topic, the visitor's pick,
    # a transfer) goes to that team's agents only for this long, then to anyone.
    team_fallback_s: float = Field(default=120.0, gt=0, le=86400)
    # The widget offers the teams' topics as buttons before the handover (welcome `topics`).
    topic_choice: bool = False

    # Business hours: {"mon": "09:00-17:00", ..., "sat": ""}; unset means around the clock.
    business_hours: dict[str, str] | None = None
    business_timezone: str = "UTC"
    holidays: list[date] = Field(default_factory=list)
    # Promise for a ticket opened while we are open but nobody is online.
    ticket_reply_within_s: int = 4 * 3600
    # Queue timeouts (handoff/queue_timeout.py; 0 turns either off): offer a queued visitor a
    # ticket after this long in the queue (or when the expected wait is longer), and turn the
    # chat into one after the second time with no agent free; each replica looks this often.
    queue_offer_ticket_after_s: float = Field(default=300.0, ge=0)
    queue_ticket_after_s: float = Field(default=1200.0, ge=0)
    queue_timeout_sweep_s: float = Field(default=5.0, gt=0)

    # Re-routing (handoff/reroute.py, issue 16): an agent who has not answered their visitor
    # for agent_silent_warn_s gets a warning in the console; agent_silent_reroute_s later the
    # chat goes to the head of the queue for a colleague (0: never). Every replica looks every
    # reroute_sweep_s, also for chats of agents whose console is gone (presence_timeout_s).
    agent_silent_warn_s: float = Field(default=REROUTE.warn_s, gt=0)
    agent_silent_reroute_s: float = Field(default=REROUTE.reroute_s, ge=0)
    reroute_sweep_s: float = Field(default=REROUTE.sweep_s, gt=0, le=300)

    # Canned replies that earn automation (handoff/canned_stats.py): a reply whose uses ended
    # well (closed, the visitor did not ask again, rated 4-5 or not rated) at least this often
    # over at least this many uses is offered to admins as a new FAQ entry.
    canned_automation_min_uses: int = Field(default=10, ge=1)
    canned_automation_success_percent: int = Field(default=80, ge=1, le=100)
    # SLA timers (handoff/sla.py, handoff/sla_clocks.py): how many business seconds (the hours
    # above, holidays left out, a pending ticket's time too) a first reply and each next reply
    # may take, for live chats and for tickets; 0: that clock has no target. Every replica
    # checks the clocks every sla_sweep_s seconds (a breach is seen at most that late).
    sla_chat_first_response_s: int = Field(default=2 * 60, ge=0)
    sla_chat_next_response_s: int = Field(default=5 * 60, ge=0)
    sla_ticket_first_response_s: int = Field(default=4 * 3600, ge=0)
    sla_ticket_next_response_s: int = Field(default=8 * 3600, ge=0)
    sla_sweep_s: float = Field(default=10.0, gt=0, le=3600)

    @model_validator(mode="after")
    def _check_business_hours(self) -> Self:
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
            team_fallback_s=self.team_fallback_s,
        )

    @model_validator(mode="after")
    def _check_queue_timeouts(self) -> Self:
        offer, ticket = self.queue_offer_ticket_after_s, self.queue_ticket_after_s
        if offer and ticket and ticket <= offer:
            raise ValueError(
                f"CHATDESK_QUEUE_TICKET_AFTER_S ({ticket}) must be longer than "
                f"CHATDESK_QUEUE_OFFER_TICKET_AFTER_S ({offer}): the offer comes first"
            )
        return self

    def queue_timeouts(self) -> QueueTimeouts:
        """When a queued visitor is offered a ticket, and when the chat becomes one."""
        return QueueTimeouts(
            offer_after_s=self.queue_offer_ticket_after_s or None,
            ticket_after_s=self.queue_ticket_after_s or None,
            sweep_s=self.queue_timeout_sweep_s,
        )

    def reroute(self) -> Reroute:
        """When silent agents are warned and their chats re-routed."""
        return Reroute(
            warn_s=self.agent_silent_warn_s,
            reroute_s=self.agent_silent_reroute_s,
            sweep_s=self.reroute_sweep_s,
        )

    def sla_targets(self) -> SlaTargets:
        """The SLA clocks' targets (None: that clock has none)."""
        return SlaTargets(
            chat_first_response_s=self.sla_chat_first_response_s or None,
            chat_next_response_s=self.sla_chat_next_response_s or None,
            ticket_first_response_s=self.sla_ticket_first_response_s or None,
            ticket_next_response_s=self.sla_ticket_next_response_s or None,
        )
