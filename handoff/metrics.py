"""The service's Prometheus metrics, defined once; the code that does the thing counts it.

Served at `/metrics` (app/routes/metrics.py). With `chatdesk serve --workers N` each worker
writes its values to files in PROMETHEUS_MULTIPROC_DIR (set by the CLI before the workers
start) and a scrape sums them: the modes below say how each gauge combines across workers.
Figures that live in the database (queue, agents online) are read when scraped, not counted.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

OPEN_SOCKETS = Gauge(
    "chatdesk_open_sockets", "Websockets open now", ["kind"], multiprocess_mode="livesum"
)
MESSAGES_STORED = Counter(
    "chatdesk_messages_stored", "Chat messages committed to the database", ["sender"]
)
BOT_DECISIONS = Counter(
    "chatdesk_bot_decisions", "The bot's decisions on visitors' questions", ["outcome"]
)
BOT_DECISION_SECONDS = Histogram(
    "chatdesk_bot_decision_seconds",
    "Time from a question to the bot's decision (batching included)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
BUS_RECONNECTS = Counter("chatdesk_bus_reconnects", "Times the Redis bus was lost and resubscribed")
# Read from the database at each scrape: the same for every worker, so the latest one wins.
QUEUE_LENGTH = Gauge(
    "chatdesk_queue_length", "Conversations waiting for a person", multiprocess_mode="mostrecent"
)
QUEUE_OLDEST_WAIT_SECONDS = Gauge(
    "chatdesk_queue_oldest_wait_seconds",
    "How long the longest-waiting queued conversation has waited",
    multiprocess_mode="mostrecent",
)
QUEUE_RECENT_WAIT_SECONDS = Gauge(
    "chatdesk_queue_recent_wait_seconds",
    "Median wait from queued to assigned of recent pickups (what visitors are told to expect)",
    multiprocess_mode="mostrecent",
)
AGENTS_ONLINE = Gauge(
    "chatdesk_agents_online", "Agents online with a live console", multiprocess_mode="mostrecent"
)
# E-mail replies (handoff/mail_in.py): stored, duplicate, bounce, auto_reply, own_mail, empty,
# refused_address (not a reply address of ours), refused_ticket (unknown or closed ticket).
MAIL_IN = Counter(
    "chatdesk_mail_in", "E-mails received at reply addresses, by outcome", ["outcome"]
)
