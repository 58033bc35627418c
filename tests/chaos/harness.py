"""Chaos test: replicas on PostgreSQL + Redis, many clients, replicas killed, Redis restarted.

    python -m tests.chaos.harness [--visitors 200 --agents 10 --messages 20000 --kills 3]

Starts `--replicas` separate `chatdesk serve` processes on loopback ports against a fresh
PostgreSQL database and a Redis namespace of their own. Visitors spread over the replicas ask
for a person (`handoff`); agents take the chats (racing each other over REST on any replica)
and both sides exchange messages over real websockets, while the harness SIGKILLs and restarts
replicas at random and restarts Redis once. Clients behave like the widget: reconnect with
jittered backoff to a random replica, resume with their last seq, resend every unacked message
with the same client_msg_id.

Afterwards it checks, against the database and against what every client received:
acknowledged messages all stored (lost = 0), no duplicates stored or received, per-conversation
order kept, every client received every message of its conversation; and prints the delivery
latency. Exits 1 when an invariant fails or the load did not finish in time.
Loopback only; bounded by --deadline; Redis is always left running.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import websockets
from sqlalchemy import text

from app.cli import upgrade_database
from app.db import make_engine, make_sessionmaker
from bot import load_entries
from handoff import agents as agent_service
from handoff import knowledge

ROOT = Path(__file__).resolve().parents[2]
KB = ROOT / "tests" / "data" / "shop_kb.jsonl"
PG_ADMIN_URL = os.environ.get(
    "CHATDESK_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
AGENT_PASSWORD = "chaos-agent-password"  # noqa: S105 - a throw-away test database
SECRET = "chaos-secret-" + "x" * 32  # every replica must share it: tokens cross replicas

READY_TIMEOUT_S = 180  # model load: ~5 s alone, ~30 s when three start on two busy cores
BACKOFF_BASE_S = 0.2  # first reconnect delay; the widget uses 0.5 s, the harness is in a hurry
BACKOFF_MAX_S = 3.0
RESEND_AFTER_S = 8.0  # an unacked frame on a live socket is resent (same client_msg_id)
PING_S = 20.0  # below the server's 60 s idle cut-off
LIST_POLL_S = 3.0  # agents re-read the queue this often (the console does on `resync`)
SETTLE_S = 30.0  # after the load: time for every client to catch up before checking
DOWN_S = (0.5, 2.0)  # a killed replica stays down this long before it is restarted
CLIENT_OPEN_TIMEOUT_S = 10.0
TAKES_AT_ONCE = 2  # a console's agent clicks "take" on one chat, then the next
ARRIVAL_GAP_S = 0.02  # visitors arrive over a few seconds, as on a website, not all at once


def free_port() -> int:
    """A free loopback port, so that concurrent runs (CI, a colleague) never collide."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def now() -> float:
    return time.monotonic()


def backoff(attempt: int) -> float:
    """Exponential backoff with jitter 0.5-1.5, as docs/protocol.md asks of clients."""
    return min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2**attempt) * (0.5 + random.random())


# --- the cluster -------------------------------------------------------------------------


@dataclass
class Replica:
    port: int
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    up: bool = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(  # noqa: ASYNC220 - start only; waited on below
            [sys.executable, "-m", "app.cli", "serve", "--port", str(self.port)],
            env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = now() + READY_TIMEOUT_S
        async with httpx.AsyncClient(timeout=2) as http:
            while now() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"replica :{self.port} exited; see {self.log_path}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(self.url + "/readyz")).status_code == 200:
                        self.up = True
                        return
                await asyncio.sleep(0.2)
        raise RuntimeError(f"replica :{self.port} not ready in {READY_TIMEOUT_S}s")

    def kill(self) -> None:
        self.up = False
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        self.up = False
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def redis_up() -> bool:
    return subprocess.run(
        ["redis-cli", "-h", REDIS_HOST, "-p", str(REDIS_PORT), "ping"],
        capture_output=True, text=True, check=False,
    ).stdout.strip() == "PONG"


def start_redis() -> None:
    subprocess.run(
        ["redis-server", "--daemonize", "yes", "--bind", REDIS_HOST, "--port", str(REDIS_PORT),
         "--save", "", "--appendonly", "no"],
        check=True, capture_output=True,
    )
    for _ in range(50):
        if redis_up():
            return
        time.sleep(0.1)
    raise RuntimeError("redis did not come back")


async def restart_redis(down_s: float) -> None:
    """Shut Redis down (dropping every connection) and start it again, whatever happens."""
    try:
        await asyncio.to_thread(
            subprocess.run,
            ["redis-cli", "-h", REDIS_HOST, "-p", str(REDIS_PORT), "shutdown", "nosave"],
            capture_output=True, check=False,
        )
        await asyncio.sleep(down_s)
    finally:
        if not redis_up():
            await asyncio.to_thread(start_redis)


@contextlib.asynccontextmanager
async def fresh_database() -> AsyncIterator[str]:
    """A new PostgreSQL database for this run, migrated and seeded; dropped afterwards."""
    name = f"chatdesk_chaos_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_ADMIN_URL).execution_options(isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        await asyncio.to_thread(upgrade_database, url)
        yield url
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def seed(url: str, agents: int, capacity: int) -> list[str]:
    engine = make_engine(url)
    emails = [f"agent{i}@chaos.test" for i in range(agents)]
    try:
        async with make_sessionmaker(engine)() as s:
            await knowledge.replace_all(session=s, entries=load_entries(KB))
            for i, email in enumerate(emails):
                await agent_service.create_agent(
                    session=s, email=email, name=f"Agent {i}", password=AGENT_PASSWORD,
                    capacity=capacity,
                )
    finally:
        await engine.dispose()
    return emails


# --- clients -----------------------------------------------------------------------------


@dataclass
class Stats:
    """What the clients saw, for the checks at the end."""

    acked: dict[tuple[int, str, str], int] = field(default_factory=dict)  # (cid, sender, cmid)
    sent_at: dict[str, float] = field(default_factory=dict)  # cmid -> first send
    latencies: list[float] = field(default_factory=list)
    received_dups: int = 0
    order_violations: int = 0
    reconnects: int = 0
    errors: int = 0
    client_faults: list[str] = field(default_factory=list)
    acks_total: int = 0


class Client:
    """One resilient chat socket: reconnects anywhere, resumes by seq, resends unacked frames."""

    path = ""

    def __init__(self, cluster: Cluster, stats: Stats, name: str) -> None:
        self.cluster, self.stats, self.name = cluster, stats, name
        self.ws: Any = None
        self.pending: dict[str, tuple[dict[str, Any], float]] = {}  # cmid -> (frame, sent)
        self.acks: dict[str, asyncio.Future[int]] = {}
        self.seen: dict[int, list[int]] = {}  # conversation -> seqs received, raw, in order
        self.connected = asyncio.Event()
        self.stopping = False

    def hello(self) -> dict[str, Any]:
        raise NotImplementedError

    async def on_welcome(self, frame: dict[str, Any]) -> None:
        return None

    async def on_frame(self, frame: dict[str, Any]) -> None:
        return None

    async def run(self) -> None:
        attempt = 0
        while not self.stopping:
            replica = random.choice(self.cluster.replicas)
            try:
                async with websockets.connect(
                    f"ws://127.0.0.1:{replica.port}{self.path}",
                    open_timeout=CLIENT_OPEN_TIMEOUT_S, max_size=2**22, ping_interval=None,
                ) as ws:
                    await ws.send(json.dumps(self.hello()))
                    welcome = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    if welcome.get("type") != "welcome":
                        raise ConnectionError(f"no welcome: {welcome}")
                    self.ws = ws
                    attempt = 0
                    await self.on_welcome(welcome)
                    for frame, _ in list(self.pending.values()):
                        await ws.send(json.dumps(frame))
                    self.connected.set()
                    pinger = asyncio.create_task(self._pings(ws))
                    try:
                        async for raw in ws:
                            await self._dispatch(json.loads(raw))
                    finally:
                        pinger.cancel()
            except (OSError, TimeoutError, websockets.WebSocketException, ConnectionError):
                pass
            except Exception as exc:  # noqa: BLE001 - a harness bug must show, not hang a client
                self.stats.client_faults.append(f"{self.name}: {exc!r}")
            self.connected.clear()
            self.ws = None
            if self.stopping:
                return
            self.stats.reconnects += 1
            await asyncio.sleep(backoff(attempt))
            attempt += 1

    async def _pings(self, ws: Any) -> None:
        while True:
            await asyncio.sleep(PING_S)
            await ws.send('{"type": "ping"}')
            # A frame that got neither ack nor error (lost with a dying replica's handler).
            for cmid, (frame, sent) in list(self.pending.items()):
                if now() - sent > RESEND_AFTER_S:
                    self.pending[cmid] = (frame, now())
                    await ws.send(json.dumps(frame))

    async def _dispatch(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        # Our own message coming back is its acknowledgement, as an `ack` is (docs/protocol.md).
        own = kind == "message" and frame["sender"] == self.sender and (
            frame.get("client_msg_id") in self.acks
        )
        if kind == "ack" or own:
            self.stats.acks_total += 1
            cmid = frame["client_msg_id"]
            self.pending.pop(cmid, None)
            key = (frame["conversation_id"], self.sender, cmid)
            self.stats.acked[key] = frame["seq"]
            fut = self.acks.get(cmid)
            if fut is not None and not fut.done():
                fut.set_result(frame["seq"])
        if kind == "message":
            cid, seq = frame["conversation_id"], frame["seq"]
            seqs = self.seen.setdefault(cid, [])
            if seq in seqs:
                self.stats.received_dups += 1
                return
            if seqs and seq < seqs[-1]:
                self.stats.order_violations += 1
            seqs.append(seq)
            cmid = frame.get("client_msg_id")
            chat = frame["text"].startswith(("v:", "re "))  # not the queue wait of a handoff
            if chat and frame["sender"] != self.sender and cmid in self.stats.sent_at:
                self.stats.latencies.append(now() - self.stats.sent_at[cmid])
        elif kind == "error" and frame.get("ref") in self.pending:
            # e.g. internal_error while the database is busy: retry the same frame soon.
            self.stats.errors += 1
            task = asyncio.create_task(self._resend_soon(frame["ref"]))
            self.cluster.background.add(task)
            task.add_done_callback(self.cluster.background.discard)
        await self.on_frame(frame)

    async def _resend_soon(self, cmid: str) -> None:
        await asyncio.sleep(0.5)
        if cmid in self.pending and self.ws is not None:
            self.pending[cmid] = (self.pending[cmid][0], now())
            with contextlib.suppress(websockets.WebSocketException):
                await self.ws.send(json.dumps(self.pending[cmid][0]))

    sender = ""

    async def send_reliably(self, frame: dict[str, Any]) -> asyncio.Future[int]:
        """Send a frame with a client_msg_id; it is resent until acked. Returns the ack future."""
        cmid = frame["client_msg_id"]
        self.stats.sent_at.setdefault(cmid, now())
        fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.acks[cmid] = fut
        self.pending[cmid] = (frame, now())
        if self.ws is not None:
            with contextlib.suppress(websockets.WebSocketException):
                await self.ws.send(json.dumps(frame))
        return fut


class Visitor(Client):
    path = "/ws/visitor"
    sender = "visitor"

    def __init__(self, cluster: Cluster, stats: Stats, name: str, messages: int,
                 think_s: float) -> None:
        super().__init__(cluster, stats, name)
        self.messages, self.think_s = messages, think_s
        self.token: str | None = None
        self.cid: int | None = None
        self.assigned = asyncio.Event()
        self.replies = 0
        self.done = asyncio.Event()

    def hello(self) -> dict[str, Any]:
        last = max(self.seen.get(self.cid, [0])) if self.cid else 0
        return {"type": "hello", "token": self.token, "conversation_id": self.cid,
                "last_seq": last}

    async def on_welcome(self, frame: dict[str, Any]) -> None:
        if self.cid is not None and frame["conversation_id"] != self.cid:
            raise AssertionError(f"{self.name}: conversation changed on resume")
        self.token, self.cid = frame["token"], frame["conversation_id"]
        if frame["state"]["state"] == "assigned":
            self.assigned.set()

    async def on_frame(self, frame: dict[str, Any]) -> None:
        if frame.get("type") == "state" and frame.get("state") == "assigned":
            self.assigned.set()
        elif frame.get("type") == "message":
            if (frame.get("meta") or {}).get("kind") == "assigned":
                self.assigned.set()
            if frame["sender"] == "agent":
                self.replies += 1
                if self.replies >= self.messages:
                    self.done.set()

    async def script(self) -> None:
        await self.connected.wait()
        handoff = {"type": "handoff", "client_msg_id": f"{self.name}-handoff"}
        await (await self.send_reliably(handoff))
        await self.assigned.wait()
        for i in range(self.messages):
            cmid = f"{self.name}-m{i}"
            frame = {"type": "message", "client_msg_id": cmid, "text": f"v:{cmid} hello"}
            await (await self.send_reliably(frame))
            await asyncio.sleep(random.uniform(0, 2 * self.think_s))
        await self.done.wait()


class AgentClient(Client):
    path = "/ws/agent"
    sender = "agent"

    def __init__(self, cluster: Cluster, stats: Stats, name: str, email: str) -> None:
        super().__init__(cluster, stats, name)
        self.email = email
        self.token = ""
        self.agent_id = 0
        self.mine: set[int] = set()
        self.taking: set[int] = set()
        self.taken: set[int] = set()  # chats the lists said somebody has (not worth a click)
        self.clicks = asyncio.Semaphore(TAKES_AT_ONCE)
        self.take_conflicts = 0

    async def login(self) -> None:
        attempt = 0
        while True:
            replica = random.choice(self.cluster.replicas)
            try:
                r = await self.cluster.http(replica).post(
                    "/api/agent/login", json={"email": self.email, "password": AGENT_PASSWORD}
                )
                r.raise_for_status()
                self.token, self.agent_id = r.json()["token"], r.json()["agent"]["id"]
                return
            except httpx.HTTPError:
                await asyncio.sleep(backoff(attempt))
                attempt += 1

    def hello(self) -> dict[str, Any]:
        return {"type": "hello", "token": self.token}

    async def on_welcome(self, frame: dict[str, Any]) -> None:
        for cid in self.mine:
            last = max(self.seen.get(cid, [0]))
            await self.ws.send(json.dumps({"type": "watch", "conversation_id": cid,
                                           "last_seq": last}))

    async def on_frame(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "conversation" and frame.get("state") in ("queued", "ticket"):
            self.taken.discard(frame["conversation_id"])
            self._try_take(frame["conversation_id"])
        elif kind == "conversation" and frame.get("assigned_agent_id") is not None:
            self.taken.add(frame["conversation_id"])
            if frame["assigned_agent_id"] == self.agent_id:
                await self._own(frame["conversation_id"])  # routed to us by auto-assignment
        elif kind == "message" and frame["conversation_id"] in self.mine:
            if frame["sender"] == "visitor" and frame["text"].startswith("v:"):
                cid, seq = frame["conversation_id"], frame["seq"]
                reply = {"type": "message", "conversation_id": cid,
                         "client_msg_id": f"a{cid}-{seq}", "text": f"re {seq}: on it"}
                await self.send_reliably(reply)

    def _try_take(self, cid: int) -> None:
        if cid not in self.mine and cid not in self.taking:
            self.taking.add(cid)
            task = asyncio.create_task(self._take(cid))
            self.cluster.background.add(task)
            task.add_done_callback(self.cluster.background.discard)

    async def _take(self, cid: int) -> None:
        try:
            async with self.clicks:
                if cid not in self.taken and await self._won(cid):
                    await self._own(cid)
        finally:
            self.taking.discard(cid)

    async def _won(self, cid: int) -> bool:
        """Take `cid` over REST on any replica: True if it is ours (now or already)."""
        for attempt in range(20):
            replica = random.choice(self.cluster.replicas)
            headers = {"Authorization": f"Bearer {self.token}"}
            http = self.cluster.http(replica)
            try:
                r = await http.post(f"/api/agent/conversations/{cid}/take", headers=headers)
                if r.status_code != 409:
                    r.raise_for_status()
                    return True
                # Lost the race, or won it and lost the response: ask the database.
                got = await http.get(f"/api/agent/conversations/{cid}", headers=headers)
                got.raise_for_status()
                if got.json()["conversation"]["assigned_agent_id"] == self.agent_id:
                    return True
                self.take_conflicts += 1
                return False
            except httpx.HTTPError:
                await asyncio.sleep(backoff(attempt))
        return False

    async def _own(self, cid: int) -> None:
        if cid in self.mine:
            return
        self.mine.add(cid)
        if self.ws is not None:
            with contextlib.suppress(websockets.WebSocketException):
                await self.ws.send(json.dumps({"type": "watch", "conversation_id": cid,
                                               "last_seq": 0}))

    async def poll_queue(self) -> None:
        """What a console does on (re)connect and on `resync`: re-read the waiting lists."""
        while not self.stopping:
            replica = random.choice(self.cluster.replicas)
            headers = {"Authorization": f"Bearer {self.token}"}
            with contextlib.suppress(httpx.HTTPError, ValueError):
                http = self.cluster.http(replica)
                for which in ("queued", "tickets", "mine"):
                    r = await http.get(
                        "/api/agent/conversations", params={"filter": which}, headers=headers
                    )
                    r.raise_for_status()
                    for conv in r.json():
                        if which == "mine":
                            await self._own(conv["id"])
                        else:
                            self._try_take(conv["id"])
            await asyncio.sleep(LIST_POLL_S * (0.5 + random.random()))


# --- the run -----------------------------------------------------------------------------


@dataclass
class Config:
    visitors: int = 200
    agents: int = 10
    messages: int = 20_000
    kills: int = 3
    replicas: int = 3
    redis_restarts: int = 1
    think_s: float = 0.2
    deadline_s: float = 900.0
    base_port: int = 0  # 0: free ports picked at start
    verbose: bool = False


@dataclass
class Cluster:
    replicas: list[Replica]
    background: set[asyncio.Task[Any]] = field(default_factory=set)
    _http: dict[int, httpx.AsyncClient] = field(default_factory=dict)

    def http(self, replica: Replica) -> httpx.AsyncClient:
        """One pooled HTTP client per replica (a client per request costs ~10 ms of CPU)."""
        if replica.port not in self._http:
            limits = httpx.Limits(max_connections=50)
            self._http[replica.port] = httpx.AsyncClient(
                base_url=replica.url, timeout=5, limits=limits
            )
        return self._http[replica.port]

    async def aclose(self) -> None:
        for client in self._http.values():
            await client.aclose()


@dataclass
class Report:
    lines: list[str]
    ok: bool


def percentile(values: list[float], p: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def report_progress(visitors: list[Visitor], agents: list[AgentClient],
                          stats: Stats) -> None:
    while True:
        await asyncio.sleep(5)
        print(f"t={now() - T0:6.1f}s acked={len(stats.acked)} "
              f"connected={sum(v.connected.is_set() for v in visitors)}/{len(visitors)} "
              f"assigned={sum(v.assigned.is_set() for v in visitors)} "
              f"done={sum(v.done.is_set() for v in visitors)} "
              f"agents_connected={sum(a.connected.is_set() for a in agents)} "
              f"owned={sum(len(a.mine) for a in agents)} "
              f"pending={sum(len(c.pending) for c in [*visitors, *agents])} "
              f"reconnects={stats.reconnects} faults={len(stats.client_faults)} "
              f"{stats.client_faults[-1:] if stats.client_faults else ''}", flush=True)


async def chaos(
    cfg: Config, cluster: Cluster, progress: Any, log: list[str], done: dict[str, int]
) -> None:
    """Kill replicas and restart Redis at evenly spread points of the load's progress."""
    events = [("kill", (i + 1) / (cfg.kills + 2)) for i in range(cfg.kills)]
    events += [("redis", (i + 1.5) / (cfg.kills + 2)) for i in range(cfg.redis_restarts)]
    restarts: list[asyncio.Task[None]] = []

    async def restart(victim: Replica, down: float) -> None:
        await asyncio.sleep(down)
        try:
            await victim.start()
        except RuntimeError as exc:  # e.g. /readyz still 503 (pool busy): keep going
            log.append(f"  t={now() - T0:6.1f}s  restart of :{victim.port} incomplete: {exc}")
            return
        log.append(f"  t={now() - T0:6.1f}s  replica :{victim.port} back and ready")

    for what, at in sorted(events, key=lambda e: e[1]):
        while progress() < at:  # noqa: ASYNC110 - polling a counter the clients bump
            await asyncio.sleep(0.2)
        if what == "kill":
            while sum(r.up for r in cluster.replicas) < 2:  # noqa: ASYNC110 - keep one up
                await asyncio.sleep(0.2)
            victim = random.choice([r for r in cluster.replicas if r.up])
            victim.kill()
            done["kills"] += 1
            down = random.uniform(*DOWN_S)
            log.append(f"  t={now() - T0:6.1f}s  SIGKILL replica :{victim.port} "
                       f"(progress {progress():.0%}), down {down:.1f}s")
            restarts.append(asyncio.create_task(restart(victim, down)))
        else:
            log.append(f"  t={now() - T0:6.1f}s  Redis shutdown (progress {progress():.0%})")
            await restart_redis(random.uniform(1.0, 2.0))
            done["redis"] += 1
            log.append(f"  t={now() - T0:6.1f}s  Redis back")
    await asyncio.gather(*restarts)


T0 = now()


async def check(url: str, stats: Stats, visitors: list[Visitor],
                agents: list[AgentClient]) -> tuple[list[str], bool]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(text(
                "SELECT conversation_id, seq, sender, client_msg_id, text FROM messages "
                "ORDER BY conversation_id, seq"))).all()
            dup_cmid = int(await conn.scalar(text(
                "SELECT count(*) FROM (SELECT 1 FROM messages WHERE client_msg_id IS NOT NULL "
                "GROUP BY conversation_id, sender, client_msg_id HAVING count(*) > 1) d")) or 0)
            dup_text = int(await conn.scalar(text(
                "SELECT count(*) FROM (SELECT 1 FROM messages WHERE sender IN "
                "('visitor', 'agent') GROUP BY conversation_id, text HAVING count(*) > 1) d"))
                or 0)
            holders = {cid: agent_id for cid, agent_id in (await conn.execute(text(
                "SELECT id, assigned_agent_id FROM conversations"))).all()}
    finally:
        await engine.dispose()
    stored = {(r.conversation_id, r.sender, r.client_msg_id): r.seq for r in rows
              if r.client_msg_id}
    lost = [k for k, seq in stats.acked.items() if stored.get(k) != seq]
    by_conv: dict[int, list[tuple[int, str]]] = {}
    for r in rows:
        by_conv.setdefault(r.conversation_id, []).append((r.seq, r.sender))
    missing_v = missing_a = 0
    for v in visitors:
        want = [seq for seq, sender in by_conv.get(v.cid or -1, []) if sender != "note"]
        missing_v += len(set(want) - set(v.seen.get(v.cid or -1, [])))
    agent_by_id = {a.agent_id: a for a in agents}
    for cid, msgs in by_conv.items():
        holder = agent_by_id.get(holders.get(cid) or -1)
        if holder is not None:
            missing_a += len({seq for seq, _ in msgs} - set(holder.seen.get(cid, [])))
    stored_chat = sum(1 for r in rows if r.sender in ("visitor", "agent"))
    lines = [
        f"messages acknowledged:         {len(stats.acked)}",
        f"  of which chat messages:      {sum(1 for k in stats.acked if k[2].find('handoff') < 0)}",
        f"messages stored (all senders): {len(rows)}  (visitor+agent: {stored_chat})",
        f"acked but not stored (lost):   {len(lost)}",
        f"duplicates stored:             {dup_cmid} by client_msg_id, {dup_text} by text",
        f"duplicates received:           {stats.received_dups}",
        f"order violations received:     {stats.order_violations}",
        f"stored but never received:     {missing_v} by visitors, {missing_a} by agents",
        f"acks received (incl. resends): {stats.acks_total}",
        f"reconnects:                    {stats.reconnects}",
        f"error frames (then resent):    {stats.errors}",
        f"client faults:                 {len(stats.client_faults)} "
        f"{stats.client_faults[:3] if stats.client_faults else ''}",
        f"delivery latency:              p50 {percentile(stats.latencies, 50) * 1000:.0f} ms, "
        f"p99 {percentile(stats.latencies, 99) * 1000:.0f} ms, "
        f"max {max(stats.latencies, default=math.nan) * 1000:.0f} ms "
        f"over {len(stats.latencies)} deliveries",
    ]
    ok = not lost and not dup_cmid and not dup_text and not stats.received_dups \
        and not stats.order_violations and not missing_v and not missing_a
    return lines, ok


async def run(cfg: Config) -> Report:
    global T0
    random.seed(os.environ.get("CHAOS_SEED"))
    per_visitor = max(1, math.ceil(cfg.messages / (2 * cfg.visitors)))
    if not redis_up():
        await asyncio.to_thread(start_redis)
    log: list[str] = []
    workdir = Path(tempfile.mkdtemp(prefix="chatdesk-chaos-"))
    async with fresh_database() as url:
        # Room for every chat: the load is on delivery, not on waiting in the queue.
        emails = await seed(url, cfg.agents, capacity=2 * math.ceil(cfg.visitors / cfg.agents))
        env = dict(os.environ, CHATDESK_DATABASE_URL=url, CHATDESK_ENV="test",
                   CHATDESK_SECRET_KEY=SECRET, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
                   CHATDESK_BUS_URL=f"redis://{REDIS_HOST}:{REDIS_PORT}/0#{workdir.name}",
                   # Every simulated visitor comes from loopback: no per-IP abuse limits.
                   CHATDESK_RATE_LIMITS="false",
                   # The bot is not on this path (every visitor asks for a person); its
                   # background training would only compete with the replicas for the CPU.
                   CHATDESK_BOT_IMPROVE="false", CHATDESK_BOT_FINE_TUNE="false")
        ports = [cfg.base_port + i if cfg.base_port else free_port()
                 for i in range(cfg.replicas)]
        replicas = [Replica(port, env, workdir / f"replica-{i}.log")
                    for i, port in enumerate(ports)]
        cluster = Cluster(replicas)
        stats = Stats()
        visitors = [Visitor(cluster, stats, f"v{i}", per_visitor, cfg.think_s)
                    for i in range(cfg.visitors)]
        agents = [AgentClient(cluster, stats, f"a{i}", e) for i, e in enumerate(emails)]
        tasks: list[asyncio.Task[Any]] = []
        try:
            t_start = now()
            await asyncio.gather(*(r.start() for r in replicas))
            log.append(f"{cfg.replicas} replicas ready in {now() - t_start:.1f}s "
                       f"(logs in {workdir})")
            await asyncio.gather(*(a.login() for a in agents))
            for a in agents:
                tasks += [asyncio.create_task(a.run()), asyncio.create_task(a.poll_queue())]
            await asyncio.gather(*(a.connected.wait() for a in agents))
            T0 = now()
            target = per_visitor * cfg.visitors * 2

            def progress() -> float:
                return len(stats.acked) / target

            for v in visitors:
                tasks.append(asyncio.create_task(v.run()))
                await asyncio.sleep(ARRIVAL_GAP_S)
            scripts = [asyncio.create_task(v.script()) for v in visitors]
            chaos_done = {"kills": 0, "redis": 0}
            chaos_task = asyncio.create_task(chaos(cfg, cluster, progress, log, chaos_done))
            if cfg.verbose:
                tasks.append(asyncio.create_task(report_progress(visitors, agents, stats)))
            done, _ = await asyncio.wait(scripts, timeout=cfg.deadline_s)
            elapsed = now() - T0
            finished = len(done) == len(scripts) and all(not t.exception() for t in done)
            # Replicas still restarting come back before the checks (bounded by the deadline).
            await asyncio.wait({chaos_task}, timeout=max(1.0, cfg.deadline_s - elapsed))
            chaos_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await chaos_task
            kills, redis_restarts = chaos_done["kills"], chaos_done["redis"]
            # Let every client catch up (the sweep runs every 3 s), then compare.
            settle_until = now() + SETTLE_S
            while now() < settle_until and any(  # noqa: ASYNC110 - polling client state
                c.pending or not c.connected.is_set() for c in [*visitors, *agents]
            ):
                await asyncio.sleep(0.5)
            await asyncio.sleep(4)
            lines, ok = await check(url, stats, visitors, agents)
            chat_msgs = sum(1 for k in stats.acked if "handoff" not in k[2])
            lines = [
                f"load: {cfg.replicas} replicas, {cfg.visitors} visitors, {cfg.agents} agents, "
                f"{per_visitor} messages per visitor + one reply each "
                f"(target {target}), think time {cfg.think_s}s",
                f"chaos: {kills} replica SIGKILLs, {redis_restarts} Redis restarts",
                *log,
                f"load finished: {finished} in {elapsed:.1f}s "
                f"({chat_msgs / max(elapsed, 1e-9):.0f} acked chat messages/s)",
                *lines,
            ]
            ok = ok and finished and kills >= cfg.kills and redis_restarts >= cfg.redis_restarts
            lines.append("RESULT: " + ("PASS" if ok else "FAIL"))
            return Report(lines, ok)
        finally:
            for c in [*visitors, *agents]:
                c.stopping = True
            for t in [*tasks, *cluster.background]:
                t.cancel()
            await asyncio.gather(*tasks, *cluster.background, return_exceptions=True)
            await cluster.aclose()
            for r in replicas:
                r.stop()
            if not redis_up():
                await asyncio.to_thread(start_redis)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visitors", type=int, default=200)
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument("--messages", type=int, default=20_000,
                        help="chat messages in total (visitor messages + agent replies)")
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--redis-restarts", type=int, default=1)
    parser.add_argument("--think", type=float, default=0.2,
                        help="mean pause between a visitor's messages (s)")
    parser.add_argument("--deadline", type=float, default=900.0, help="give up after (s)")
    parser.add_argument("--base-port", type=int, default=0, help="0: any free ports")
    parser.add_argument("--verbose", action="store_true", help="print progress every 5 s")
    args = parser.parse_args(argv)
    cfg = Config(visitors=args.visitors, agents=args.agents, messages=args.messages,
                 kills=args.kills, replicas=args.replicas, redis_restarts=args.redis_restarts,
                 think_s=args.think, deadline_s=args.deadline, base_port=args.base_port,
                 verbose=args.verbose)
    report = asyncio.run(run(cfg))
    print("\n".join(report.lines), flush=True)
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
