"""System benchmark: chatdesk over real websockets, each figure beside this machine's limit.

    .venv/bin/python benchmarks/system.py [--db URL ...] [--only SCENARIO,...] [--json]
        [--visitors 200 --messages 25 --askers 500 --rounds 3 --idle 5000 --hellos 1000
         --agents 10 --concurrency 50 --workers 3] [--chaos]

Starts the real server (`chatdesk serve`: migrated, the demo FAQ loaded, bot improvement
off, manual routing, always open) on a free loopback port, and a bare FastAPI/uvicorn
websocket app (defined below, same uvicorn settings) that answers each hello with a
welcome-shaped frame and each frame carrying a client_msg_id with an ack-shaped frame.
Load clients run in worker processes (benchmarks/loadclient.py). Each scenario measures
chatdesk, then its limit in the same run, and samples the server process's CPU
(/proc/PID/stat) and memory (/proc/PID/status) and the client processes' CPU.

Scenarios (`--only`): idle, tickets, bot, hello, returning, agents (run in that order:
idle first, on fresh server processes). `--db` may be given more than once (e.g. `--db
sqlite --db postgresql+asyncpg://postgres@127.0.0.1:5432/test`): every scenario runs on
each; a PostgreSQL URL names the admin database, beside which a throw-away database is
created and dropped. `--chaos` also runs `python -m tests.chaos.harness` at its default size
(PostgreSQL + Redis) and reports its throughput. Loopback only; every wait is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import json
import math
import multiprocessing
import os
import queue
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fastapi import FastAPI, WebSocket, WebSocketDisconnect  # noqa: E402 - the bare app

from benchmarks.loadclient import ClientPhase, Share  # noqa: E402

KB = ROOT / "app" / "data" / "demo_faq.jsonl"  # the demo FAQ: 54 entries, 332 phrasings
AGENT_PASSWORD = "system-benchmark-password"  # noqa: S105 - a throw-away database
SCENARIOS = ("idle", "tickets", "bot", "hello", "returning", "agents")
READY_TIMEOUT_S = 180  # model load: seconds alone, much longer on two busy cores
STOP_TIMEOUT_S = 30  # graceful shutdown is 10 s (uvicorn) plus closing sockets
SETUP_TIMEOUT_S = 300  # one `chatdesk` command (migrate, import, create an agent)
# The encoder alone is fastest in large batches (fewer calls); the server batches smaller so
# answers go out while the next batch encodes. The limit is the encoder at its fastest.
LIMIT_BATCH = 256
BOT_LIMIT_TIMEOUT_S = 600  # the in-process brain: model load plus every round
CHAOS_TIMEOUT_S = 1800  # the chaos harness's own deadline is 900 s, plus start and checks
IDLE_SETTLE_S = 3.0  # after the last welcome: catch-up reads and buffers settle
WARM_UP_HELLOS = 100  # before the memory baseline: lazy imports, pools and caches filled
AGENT_CREATORS = 4  # `chatdesk agent create` commands at once (each loads the app)
# as in app/cli.py
UVICORN = {"log_level": "info", "timeout_graceful_shutdown": 10, "ws_per_message_deflate": False}
QUIET_TIMEOUT_S = 60.0  # for leftover work (e.g. closing thousands of sockets) to finish
QUIET_SAMPLE_S = 0.5
QUIET_CPU_PCT = 10.0  # below this a server is idle (heartbeats, the delivery sweep)
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- servers -----------------------------------------------------------------------------


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A server process on a loopback port; its CPU time and memory read from /proc."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.argv, self.env, self.log = name, argv, env, log
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self._log_seen = 0

    @property
    def host(self) -> str:
        """host:port for clients."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> Server:
        """Start the process and wait until /readyz answers 200."""
        import httpx

        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [*self.argv, "--port", str(self.port)],
                env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + READY_TIMEOUT_S
        with httpx.Client(timeout=2, trust_env=False) as http:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited at start-up; see {self.log}")
                with contextlib.suppress(httpx.HTTPError):
                    if http.get(f"http://{self.host}/readyz").status_code == 200:
                        return self
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready in {READY_TIMEOUT_S} s; see {self.log}")

    def stop(self) -> None:
        """SIGTERM (graceful), then SIGKILL if it does not exit in time."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(STOP_TIMEOUT_S)

    @property
    def pid(self) -> int:
        """The server's process id."""
        assert self.proc is not None
        return self.proc.pid

    def cpu_s(self) -> float:
        """User + system CPU seconds of the process so far (every thread)."""
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()  # the name may contain spaces
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime

    def rss_kib(self) -> int:
        """Resident memory (VmRSS) in KiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def new_problems(self) -> list[str]:
        """Error and traceback lines the server logged since the last call."""
        text = self.log.read_text(errors="replace")
        new, self._log_seen = text[self._log_seen :], len(text)
        return [line for line in new.splitlines()
                if re.search(r"Traceback|ERROR|CRITICAL|Exception", line)]


def chatdesk_bin() -> str:
    """The `chatdesk` console script of the Python running this script."""
    beside = Path(sys.executable).parent / "chatdesk"
    return str(beside if beside.exists() else ROOT / ".venv" / "bin" / "chatdesk")


def chatdesk_env(database_url: str) -> dict[str, str]:
    """Environment for `chatdesk` commands: this database, no bot training, manual routing."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATDESK_")}
    return env | {
        "CHATDESK_DATABASE_URL": database_url,
        "CHATDESK_BUS_URL": "memory://",
        "CHATDESK_BOT_IMPROVE": "false",
        "CHATDESK_BOT_FINE_TUNE": "false",
        "CHATDESK_ROUTING_MODE": "manual",  # handoffs wait in the queue (or become tickets)
        "CHATDESK_RATE_LIMITS": "false",  # every load client is one loopback address
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        **({"CHATDESK_MODEL": os.environ["CHATDESK_MODEL"]}
           if "CHATDESK_MODEL" in os.environ else {}),
    }


def run_chatdesk(env: dict[str, str], *args: str) -> None:
    """Run one `chatdesk` command to completion (bounded); fail loudly."""
    done = subprocess.run([chatdesk_bin(), *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=SETUP_TIMEOUT_S, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"chatdesk {' '.join(args)} failed:\n{done.stdout}{done.stderr}")


def bare_app() -> FastAPI:
    """A minimal FastAPI websocket app: a welcome for each hello, an ack for each message."""
    app = FastAPI()
    token = "MQ." + "x" * 27  # as long as a chatdesk visitor token

    async def serve(ws: WebSocket) -> None:
        await ws.accept()
        seq = 0
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                frame = json.loads(await ws.receive_text())
                kind, cid = frame.get("type"), frame.get("conversation_id") or 1
                if kind == "hello":
                    state = {"type": "state", "conversation_id": cid, "state": "bot",
                             "escalation_reason": None, "queue_position": None}
                    reply = {"type": "welcome", "token": token, "visitor_id": 1,
                             "conversation_id": cid, "heartbeat_s": 25, "state": state}
                elif "client_msg_id" in frame:
                    seq += 1
                    reply = {"type": "ack", "conversation_id": cid,
                             "client_msg_id": frame["client_msg_id"], "seq": seq,
                             "duplicate": False}
                elif kind == "ping":
                    reply = {"type": "pong"}
                else:
                    continue
                await ws.send_text(json.dumps(reply))

    app.add_api_websocket_route("/ws/visitor", serve)
    app.add_api_websocket_route("/ws/agent", serve)
    app.add_api_route("/readyz", lambda: {"status": "ready"})
    return app


def serve_bare(port: int) -> None:
    """Serve the bare app with the uvicorn settings of `chatdesk serve`."""
    import uvicorn

    uvicorn.run(bare_app(), host="127.0.0.1", port=port, workers=1, **UVICORN)


@contextlib.contextmanager
def servers(database_url: str, workdir: Path, tag: str,
            notes: list[str]) -> Iterator[tuple[Server, Server]]:
    """chatdesk and the bare app, both started fresh; stopped afterwards (problems to notes)."""
    chatdesk = Server("chatdesk", [chatdesk_bin(), "serve", "--host", "127.0.0.1"],
                      chatdesk_env(database_url), workdir / f"chatdesk-{tag}.log")
    bare = Server("bare app", [sys.executable, str(Path(__file__).resolve()), "--serve-bare"],
                  chatdesk_env(database_url), workdir / f"bare-{tag}.log")
    try:
        chatdesk.start()
        bare.start()
        yield chatdesk, bare
    finally:
        for server in (bare, chatdesk):
            server.stop()
            if server.log.exists():
                notes += [f"{server.name} ({tag}), at shutdown: {line[:200]}"
                          for line in server.new_problems()]


# --- databases ---------------------------------------------------------------------------


@contextlib.contextmanager
def database(spec: str, workdir: Path, agents: int) -> Iterator[tuple[str, str]]:
    """A fresh database (SQLite file, or a throw-away PostgreSQL one), migrated and seeded."""
    if spec == "sqlite" or spec.startswith("sqlite"):
        url, label, drop = f"sqlite+aiosqlite:///{workdir}/chatdesk.db", "SQLite", None
    elif spec.startswith("postgresql"):
        url, drop = create_pg_database(spec)
        label = "PostgreSQL"
    else:
        raise SystemExit(f"--db: not sqlite or postgresql+asyncpg://...: {spec}")
    try:
        env = chatdesk_env(url)
        run_chatdesk(env, "db", "upgrade")
        run_chatdesk(env, "kb", "import", str(KB), "--no-check")
        with concurrent.futures.ThreadPoolExecutor(AGENT_CREATORS) as pool:
            list(pool.map(lambda n: run_chatdesk(
                env, "agent", "create", "--email", agent_email(n), "--name", f"Agent {n}",
                "--password", AGENT_PASSWORD, "--capacity", "1000"), range(agents)))
        yield url, label
    finally:
        if drop is not None:
            drop()


def create_pg_database(admin_url: str) -> tuple[str, Callable[[], None]]:
    """Create a throw-away database beside `admin_url`'s; return its URL and its dropper."""
    from sqlalchemy import make_url, text
    from sqlalchemy.ext.asyncio import create_async_engine

    name = f"chatdesk_system_{uuid.uuid4().hex[:10]}"

    async def execute(sql: str) -> None:
        engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            async with asyncio.timeout(60), engine.connect() as conn:
                await conn.execute(text(sql))
        finally:
            await engine.dispose()

    asyncio.run(execute(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    return url, lambda: asyncio.run(execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def agent_email(n: int) -> str:
    """The e-mail of benchmark agent `n`."""
    return f"agent{n}@system.bench"


# --- measuring ---------------------------------------------------------------------------


@dataclass
class Side:
    """One measured side of a row: chatdesk, or its limit."""

    rate: float  # operations per second
    p50: float | None = None  # ms
    p99: float | None = None  # ms
    count: int = 0
    errors: int = 0
    first_error: str = ""
    setup_errors: int = 0  # failures before the measured part (opening sockets, handoffs)
    setup_error: str = ""
    server_cpu: float | None = None  # % of one core
    client_cpu: float | None = None  # % of one core, all load processes together
    extra: dict[str, Any] = field(default_factory=dict)


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def split(total: int, parts: int) -> list[int]:
    """`total` as `parts` near-equal counts."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def side(reports: list[dict[str, Any]], server_cpu: float, *, rounds: bool = False) -> Side:
    """Merge the workers' reports: rate over the measured wall time, latency percentiles."""
    latencies = [x for r in reports for x in r["latencies"]]
    if rounds:  # the time every round took, from its first send to its last answer
        n_rounds = max(len(r["rounds"]) for r in reports)
        wall = sum(
            max(r["rounds"][i]["t1"] for r in reports if len(r["rounds"]) > i)
            - min(r["rounds"][i]["t0"] for r in reports if len(r["rounds"]) > i)
            for i in range(n_rounds)
        )
    else:
        wall = max(r["t1"] for r in reports) - min(r["t0"] for r in reports)
    wall = max(wall, 1e-9)
    return Side(
        rate=len(latencies) / wall,
        p50=percentile(latencies, 50),
        p99=percentile(latencies, 99),
        count=len(latencies),
        errors=sum(r["errors"] for r in reports),
        first_error=next((r["first_error"] for r in reports if r["first_error"]), ""),
        setup_errors=sum(r["setup_errors"] for r in reports),
        setup_error=next((r["setup_error"] for r in reports if r["setup_error"]), ""),
        server_cpu=server_cpu,
        client_cpu=100 * sum(r["cpu_s"] for r in reports) / wall,
        extra={"wall_s": round(wall, 3)},
    )


@dataclass
class Row:
    """One line of the table: a scenario, chatdesk beside its limit."""

    scenario: str
    chatdesk: Side
    limit: Side
    unit: str  # "msg/s", "hellos/s", ...
    limit_name: str
    ratio: str = ""
    notes: list[str] = field(default_factory=list)
    load_average: float | None = None  # the machine's 1-minute load average, after the row

    def __post_init__(self) -> None:
        if not self.ratio:
            self.ratio = f"{100 * self.chatdesk.rate / self.limit.rate:.0f}%" \
                if self.limit.rate else "n/a"


@dataclass
class Run:
    """What every scenario needs: sizes, the two servers, the database's name."""

    args: argparse.Namespace
    chatdesk: Server
    bare: Server
    db: str

    def quiet(self) -> None:
        """Wait (bounded) until both servers use almost no CPU: no leftover work meanwhile."""
        deadline = time.monotonic() + QUIET_TIMEOUT_S
        for server in (self.chatdesk, self.bare):
            while True:
                cpu0 = server.cpu_s()
                time.sleep(QUIET_SAMPLE_S)
                busy = 100 * (server.cpu_s() - cpu0) / QUIET_SAMPLE_S
                if busy < QUIET_CPU_PCT:
                    break
                if time.monotonic() > deadline:
                    print(f"    ({server.name} still busy: {busy:.0f}% CPU; measuring anyway)",
                          flush=True)
                    break

    def phase(self, server: Server, phase: str, shares: list[Share], *, middle_syncs: int = 0,
              at_peak: Callable[[], Any] | None = None) -> tuple[list[dict[str, Any]], float, Any]:
        """Run a load phase; return the reports, server CPU % of the measured part, at_peak()."""
        self.quiet()
        with ClientPhase(phase, shares) as clients:
            clients.sync()  # every worker set up
            cpu0, t0 = server.cpu_s(), time.monotonic()
            for _ in range(middle_syncs):
                clients.sync()
            peak = at_peak() if at_peak is not None else None
            clients.sync()  # every worker done
            cpu = 100 * (server.cpu_s() - cpu0) / max(time.monotonic() - t0, 1e-9)
            return clients.reports(), cpu, peak

    def shares(self, server: Server, total: int, **fields: Any) -> list[Share]:
        """`total` sockets spread over the load workers (workers with none are left out)."""
        counts = split(total, self.args.workers)
        conc = split(self.args.concurrency, self.args.workers)
        return [Share(host=server.host, worker=i, sockets=n, concurrency=max(1, conc[i]),
                      **fields) for i, n in enumerate(counts) if n > 0]

    def checked(self, row: Row) -> Row:
        """Add the server errors logged meanwhile to the row's notes, and print the row."""
        for server in (self.chatdesk, self.bare):
            problems = server.new_problems()
            if problems:
                row.notes.append(f"{server.name} logged {len(problems)} error lines, "
                                 f"first: {problems[0][:200]}")
        for name, s in (("chatdesk", row.chatdesk), (row.limit_name, row.limit)):
            if s.errors:
                row.notes.append(f"{name}: {s.errors} failed operations, first: {s.first_error}")
            if s.setup_errors:
                row.notes.append(f"{name}: {s.setup_errors} failed in the set-up, first: "
                                 f"{s.setup_error}")
        row.load_average = os.getloadavg()[0]
        print(f"  {row.scenario} (load average {row.load_average:.1f})\n"
              f"    chatdesk: {cell(row.chatdesk, row.unit)}; "
              f"{cpu_cell(row.chatdesk)}\n    {row.limit_name}: {cell(row.limit, row.unit)}; "
              f"{cpu_cell(row.limit)}\n    ratio {row.ratio}", flush=True)
        for note in row.notes:
            print(f"    note: {note}", flush=True)
        return row


# --- the scenarios -----------------------------------------------------------------------


def faq_questions() -> list[str]:
    """The demo FAQ's questions (the bot answers these)."""
    lines = KB.read_text().splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


def idle(run: Run) -> Row:
    """Idle visitor sockets after their welcome: server memory growth per socket."""
    n = run.args.idle

    def per_socket(server: Server) -> Side:
        run.phase(server, "new_hellos", run.shares(server, WARM_UP_HELLOS))
        time.sleep(1)
        before = server.rss_kib()

        def peak() -> int:
            time.sleep(IDLE_SETTLE_S)
            return server.rss_kib()

        reports, cpu, after = run.phase(server, "idle_sockets", run.shares(server, n),
                                        at_peak=peak)
        held = sum(r["held"] for r in reports)
        growth = (after - before) / max(held, 1)
        opened = side(reports, cpu)
        return Side(rate=growth, count=held, errors=opened.errors,
                    first_error=opened.first_error, server_cpu=None,
                    client_cpu=None, extra={"rss_before_kib": before, "rss_after_kib": after})

    mine, bare = per_socket(run.chatdesk), per_socket(run.bare)
    return run.checked(Row(
        f"{n:,} idle visitor sockets (after welcome): server RSS growth per socket",
        mine, bare, "KiB/socket", "bare app, same count",
        ratio=f"{mine.rate / bare.rate:.1f}x" if bare.rate > 0 else "n/a",
    ))


def tickets(run: Run) -> Row:
    """Visitors in a ticket send messages, each after the last one's ack."""
    a = run.args

    def measure(server: Server) -> Side:
        shares = run.shares(server, a.visitors, messages=a.messages)
        return side(*run.phase(server, "ticket_messages", shares)[:2])

    return run.checked(Row(
        f"{a.visitors} visitors in a ticket, {a.messages} messages each, "
        f"waiting for each ack ({run.db})",
        measure(run.chatdesk), measure(run.bare), "acked msg/s",
        "bare app answering each frame",
    ))


def bot_limit(questions: list[str], askers: int, rounds: int) -> dict[str, Any]:
    """In a fresh process: the project's brain on the demo FAQ, `askers` questions at once,
    encoded in batches of LIMIT_BATCH (the encoder's most efficient size, whatever size the
    server batches in)."""
    from bot import Brain, batcher, load_entries
    from bot.runtime import DEFAULT_MODEL

    batcher.MAX_BATCH = LIMIT_BATCH

    async def measure() -> dict[str, Any]:
        brain = await Brain.create(
            load_entries(KB), model=os.environ.get("CHATDESK_MODEL", DEFAULT_MODEL),
            improve=False, fine_tune=False,
        )
        latencies, wall = [], 0.0
        async with brain:
            await brain.decide("warm up")
            cpu0 = time.process_time()
            for round_ in range(rounds):
                batch = [questions[(n + round_ * 31) % len(questions)] for n in range(askers)]
                started = time.perf_counter()

                async def one(text: str, started: float = started) -> None:
                    await brain.decide(text)
                    latencies.append((time.perf_counter() - started) * 1000)

                await asyncio.gather(*(one(t) for t in batch))
                wall += time.perf_counter() - started
            cpu = time.process_time() - cpu0
        return {"latencies": latencies, "wall": wall, "cpu": cpu,
                "runtime": brain.status["runtime"]}

    return asyncio.run(measure())


def _call_and_put(results: Any, func: Callable[..., Any], args: tuple[Any, ...]) -> None:
    results.put(func(*args))


def in_fresh_process(func: Callable[..., Any], *args: Any) -> Any:
    """`func(*args)` in a freshly spawned process (bounded by BOT_LIMIT_TIMEOUT_S)."""
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    proc = ctx.Process(target=_call_and_put, args=(results, func, args), daemon=True)
    proc.start()
    try:
        return results.get(timeout=BOT_LIMIT_TIMEOUT_S)
    except queue.Empty:
        raise RuntimeError(f"{func.__name__} gave no result in {BOT_LIMIT_TIMEOUT_S} s") from None
    finally:
        proc.join(timeout=30)
        if proc.is_alive():
            proc.terminate()
            proc.join(timeout=5)


def bot(run: Run) -> Row:
    """Connected visitors all ask an FAQ question at once; time to the bot's answer."""
    a, questions = run.args, faq_questions()
    shares = run.shares(run.chatdesk, a.askers, rounds=a.rounds, questions=questions)
    mine = side(*run.phase(run.chatdesk, "ask_bot", shares, middle_syncs=a.rounds - 1)[:2],
                rounds=True)
    run.quiet()
    got = in_fresh_process(bot_limit, questions, a.askers, a.rounds)
    limit = Side(rate=len(got["latencies"]) / got["wall"], p50=percentile(got["latencies"], 50),
                 p99=percentile(got["latencies"], 99), count=len(got["latencies"]),
                 server_cpu=100 * got["cpu"] / got["wall"], extra={"runtime": got["runtime"]})
    return run.checked(Row(
        f"{a.askers} connected visitors all asking an FAQ question at once, {a.rounds} rounds "
        "(send to the bot's answer frame)",
        mine, limit, "decisions/s",
        f"the bot's own encoder, batched, in process ({got['runtime']})",
    ))


def hello(run: Run) -> Row:
    """New visitors: socket open, hello, welcome, close."""
    a = run.args

    def measure(server: Server) -> Side:
        return side(*run.phase(server, "new_hellos", run.shares(server, a.hellos))[:2])

    return run.checked(Row(
        f"new visitors saying hello (socket open + hello + welcome), {a.hellos}, "
        f"{a.concurrency} at a time",
        measure(run.chatdesk), measure(run.bare), "hellos/s", "bare app: open + frame + reply",
    ))


def returning(run: Run) -> Row:
    """Returning visitors: hello with token, conversation_id and last_seq."""
    a = run.args

    def measure(server: Server) -> Side:
        return side(*run.phase(server, "returning_hellos", run.shares(server, a.hellos))[:2])

    return run.checked(Row(
        f"returning visitors saying hello (token + conversation_id + last_seq), {a.hellos}, "
        f"{a.concurrency} at a time",
        measure(run.chatdesk), measure(run.bare), "hellos/s", "bare app: open + frame + reply",
    ))


def agents(run: Run) -> Row:
    """Agents reply in their assigned chats, waiting for each ack."""
    a = run.args
    per_agent = max(1, a.visitors // a.agents)
    emails = [agent_email(n) for n in range(a.agents)]

    def measure(server: Server, bare: bool) -> Side:
        shares = [
            Share(host=server.host, worker=w, sockets=per_agent, messages=a.messages,
                  agents=emails[w :: a.workers], password=AGENT_PASSWORD, bare=bare)
            for w in range(min(a.workers, a.agents))
        ]
        return side(*run.phase(server, "agent_replies", shares)[:2])

    return run.checked(Row(
        f"{a.agents} agents replying in {a.agents * per_agent} assigned chats, "
        f"{a.messages} messages per chat, waiting for each ack ({run.db})",
        measure(run.chatdesk, False), measure(run.bare, True), "acked msg/s",
        "bare app answering each frame",
    ))


SCENARIO_FUNCTIONS: dict[str, Callable[[Run], Row]] = {
    "idle": idle, "tickets": tickets, "bot": bot, "hello": hello, "returning": returning,
    "agents": agents,
}


def chaos() -> Row | None:
    """Run the chaos harness at its default size and read its throughput line."""
    print("chaos harness (3 replicas, PostgreSQL + Redis, replica kills)...", flush=True)
    try:
        done = subprocess.run([sys.executable, "-m", "tests.chaos.harness"], cwd=ROOT,
                              capture_output=True, text=True, timeout=CHAOS_TIMEOUT_S,
                              check=False)
    except subprocess.TimeoutExpired:
        print("  chaos harness did not finish in time", flush=True)
        return None
    found = re.search(r"load finished: (\w+) in ([\d.]+)s \((\d+) acked chat messages/s\)",
                      done.stdout)
    verdict = re.search(r"RESULT: (\w+)", done.stdout)
    if found is None:
        print(f"  no throughput line in the chaos output:\n{done.stdout[-2000:]}"
              f"{done.stderr[-2000:]}", flush=True)
        return None
    rate = float(found.group(3))
    row = Row("chaos harness at its default size (3 replicas, PostgreSQL + Redis, kills)",
              Side(rate=rate, extra={"finished": found.group(1) == "True",
                                     "load_s": float(found.group(2)),
                                     "result": verdict.group(1) if verdict else None}),
              Side(rate=0.0), "acked chat msg/s", "-", ratio="-")
    print(f"  {rate:.0f} acked chat messages/s, {verdict.group(0) if verdict else ''}",
          flush=True)
    return row


# --- the table ---------------------------------------------------------------------------


def ms(value: float | None) -> str:
    """Milliseconds, readably."""
    if value is None:
        return "-"
    return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"


def cell(s: Side, unit: str) -> str:
    """One side's figures for the table."""
    if unit == "KiB/socket":
        before, after = s.extra["rss_before_kib"] / 1024, s.extra["rss_after_kib"] / 1024
        text = f"{s.rate:.1f} KiB/socket ({s.count:,} sockets; RSS {before:.0f} -> {after:.0f} MiB)"
    else:
        text = f"{s.rate:,.0f} {unit}"
        if s.p50 is not None:
            text += f", p50 {ms(s.p50)}"
        if s.p99 is not None:
            text += f", p99 {ms(s.p99)}"
    if s.errors:
        text += f" ({s.errors} failed)"
    if s.setup_errors:
        text += f" ({s.setup_errors} failed in set-up)"
    return text


def cpu_cell(s: Side) -> str:
    """Server and client CPU as % of one core."""
    def pct(x: float | None) -> str:
        return "-" if x is None else f"{x:.0f}%"
    return f"server CPU {pct(s.server_cpu)}, clients {pct(s.client_cpu)}"


def table(rows: list[Row]) -> str:
    """The markdown table of every row, with CPU figures."""
    lines = [
        "| scenario | chatdesk | the same machine's limit, same run | ratio "
        "| server CPU (chatdesk / limit) | client CPU (chatdesk / limit) |",
        "|---|---|---|---|---|---|",
    ]

    def pct(x: float | None) -> str:
        return "-" if x is None else f"{x:.0f}%"

    for r in rows:
        limit = "-" if r.limit_name == "-" else f"{r.limit_name}: {cell(r.limit, r.unit)}"
        lines.append(
            f"| {r.scenario} | {cell(r.chatdesk, r.unit)} | {limit} | {r.ratio} "
            f"| {pct(r.chatdesk.server_cpu)} / {pct(r.limit.server_cpu)} "
            f"| {pct(r.chatdesk.client_cpu)} / {pct(r.limit.client_cpu)} |"
        )
    return "\n".join(lines)


def as_json(rows: list[Row]) -> list[dict[str, Any]]:
    """Every figure, for --json."""
    def figures(s: Side) -> dict[str, Any]:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in vars(s).items()}
    return [{"scenario": r.scenario, "unit": r.unit, "ratio": r.ratio, "limit": r.limit_name,
             "chatdesk": figures(r.chatdesk), "limit_figures": figures(r.limit),
             "load_average": r.load_average, "notes": r.notes} for r in rows]


# --- main --------------------------------------------------------------------------------


def raise_open_files_limit(needed: int) -> None:
    """Raise RLIMIT_NOFILE to the hard limit (inherited by the servers and the clients)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, needed)
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    if target < needed:
        print(f"warning: open-files limit {target} is below the {needed} this run needs",
              flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", action="append", metavar="URL",
                   help="sqlite (a temp file, the default) or postgresql+asyncpg://...; repeatable")
    p.add_argument("--only", default=",".join(SCENARIOS),
                   help=f"comma-separated scenarios: {','.join(SCENARIOS)}")
    p.add_argument("--visitors", type=int, default=200)
    p.add_argument("--messages", type=int, default=25)
    p.add_argument("--askers", type=int, default=500)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--idle", type=int, default=5000)
    p.add_argument("--hellos", type=int, default=1000)
    p.add_argument("--agents", type=int, default=10)
    p.add_argument("--concurrency", type=int, default=50, help="hellos in flight at once")
    p.add_argument("--workers", type=int, default=3, help="load client processes")
    p.add_argument("--json", action="store_true", help="also print every figure as JSON")
    p.add_argument("--chaos", action="store_true", help="also run the chaos harness")
    p.add_argument("--serve-bare", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    unknown = set(args.only.split(",")) - set(SCENARIOS)
    if unknown:
        p.error(f"--only: unknown scenario(s) {', '.join(sorted(unknown))}")
    sizes = (args.visitors, args.messages, args.askers, args.rounds, args.idle, args.hellos,
             args.agents, args.concurrency, args.workers)
    if min(sizes) < 1:
        p.error("every size must be at least 1")
    return args


def main() -> int:
    """Measure every selected scenario on every database; print the table."""
    args = parse_args()
    if args.serve_bare:
        serve_bare(args.port)
        return 0
    selected = [s for s in SCENARIOS if s in args.only.split(",")]
    raise_open_files_limit(2 * args.idle + 1000)
    workdir = Path(tempfile.mkdtemp(prefix="chatdesk-system-"))
    print(f"chatdesk system benchmark: {', '.join(selected)}; {args.workers} load processes; "
          f"logs in {workdir}", flush=True)
    rows: list[Row] = []
    run_notes: list[str] = []
    started_load = os.getloadavg()[0]
    ok = False
    try:
        for n, spec in enumerate(args.db or ["sqlite"]):
            agents_needed = args.agents if "agents" in selected else 0
            with database(spec, workdir, agents_needed) as (url, label), \
                    servers(url, workdir, f"{n}-{label.lower()}", run_notes) as (chatdesk, bare):
                print(f"{label}: chatdesk pid {chatdesk.pid} on {chatdesk.host}, "
                      f"bare app pid {bare.pid} on {bare.host}", flush=True)
                run = Run(args, chatdesk, bare, label)
                for name in selected:
                    rows.append(SCENARIO_FUNCTIONS[name](run))
        if args.chaos:
            row = chaos()
            if row is not None:
                rows.append(row)
        ok = True
    finally:
        if rows:
            print(f"\n{os.cpu_count()} cores; 1-minute load average {started_load:.1f} at the "
                  f"start, {os.getloadavg()[0]:.1f} at the end (other work on the machine "
                  "shows up as noise)\n")
            print(table(rows))
            if args.json:
                print(json.dumps(as_json(rows)))
        notes = [f"- {r.scenario}: {note}" for r in rows for note in r.notes]
        notes += [f"- {note}" for note in run_notes]
        if notes:
            print("\nnotes:\n" + "\n".join(notes))
        if ok and not notes:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"server logs kept in {workdir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
