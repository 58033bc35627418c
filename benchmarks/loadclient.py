"""Load clients for benchmarks/system.py: visitor and agent websockets spread over processes.

Each phase runs in a few worker processes (one asyncio loop each, with its share of the
sockets), so that the client does not measure itself. A phase is: set up (open sockets,
log in, ...), wait for everyone (`sync`), do the measured work, wait for everyone again,
clean up and report. The caller (`ClientPhase`) takes part in every `sync`, which is where
it samples the server's CPU and memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import queue
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from threading import BrokenBarrierError
from types import TracebackType
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

OPEN_TIMEOUT_S = 30.0  # a server busy accepting thousands of sockets answers slowly
REPLY_TIMEOUT_S = 60.0  # a welcome, ack or bot answer later than this counts as an error
CLOSE_TIMEOUT_S = 5.0  # closing handshake; the socket is dropped after this
PING_S = 25.0  # application ping when the welcome names no heartbeat_s (the widget's 25 s)
SYNC_TIMEOUT_S = 900.0  # the longest one step of a phase may take before the run gives up
RESULT_TIMEOUT_S = 120.0  # from the last sync to every worker's report
MAX_FRAMES_BEFORE_WELCOME = 10  # e.g. an `invalid_token` error comes first
MAX_FRAME_BYTES = 2**22
OPENERS_PER_WORKER = 32  # sockets being opened at once per worker during set-up
ANSWER_SENDERS = ("bot", "system")  # the bot's answer, clarification or escalation


class ServerError(Exception):
    """The server answered a frame with an `error` frame."""


# --- one socket --------------------------------------------------------------------------


class Socket:
    """One chat websocket; a reader task resolves the waits for acks and bot answers."""

    def __init__(self, ws: ClientConnection, welcome: dict[str, Any], keepalive: bool) -> None:
        self.ws = ws
        self.welcome = welcome
        self.max_seq = 0
        self._acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._answer: asyncio.Future[dict[str, Any]] | None = None
        self._reader = asyncio.create_task(self._read())
        self._pinger = asyncio.create_task(self._ping()) if keepalive else None

    @classmethod
    async def open(cls, url: str, hello: dict[str, Any], *, keepalive: bool = True) -> Socket:
        """Connect, say hello and wait for the welcome."""
        ws = await connect(
            url,
            open_timeout=OPEN_TIMEOUT_S,
            close_timeout=CLOSE_TIMEOUT_S,
            ping_interval=None,  # the protocol's heartbeat is the application ping below
            max_size=MAX_FRAME_BYTES,
            proxy=None,  # loopback only, whatever the environment says
        )
        try:
            await ws.send(json.dumps(hello))
            async with asyncio.timeout(REPLY_TIMEOUT_S):
                for _ in range(MAX_FRAMES_BEFORE_WELCOME):
                    frame = json.loads(await ws.recv())
                    if frame.get("type") == "welcome":
                        return cls(ws, frame, keepalive)
            raise ServerError(f"no welcome, last frame: {frame}")
        except BaseException:
            with contextlib.suppress(Exception):
                await ws.close()
            raise

    async def request(self, frame: dict[str, Any]) -> dict[str, Any]:
        """Send a frame with a client_msg_id and wait for its ack."""
        future = asyncio.get_running_loop().create_future()
        self._acks[frame["client_msg_id"]] = future
        await self._send(frame)
        return await asyncio.wait_for(future, REPLY_TIMEOUT_S)

    async def ask(self, text: str) -> dict[str, Any]:
        """Send a visitor message and wait for the bot's (or system's) next message."""
        self._answer = asyncio.get_running_loop().create_future()
        await self._send({"type": "message", "client_msg_id": new_id(), "text": text})
        return await asyncio.wait_for(self._answer, REPLY_TIMEOUT_S)

    async def send(self, frame: dict[str, Any]) -> None:
        """Send a frame that expects no answer."""
        await self._send(frame)

    async def close(self) -> None:
        """Close the socket and stop its tasks."""
        if self._pinger is not None:
            self._pinger.cancel()
        with contextlib.suppress(Exception):
            await self.ws.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._reader

    async def _send(self, frame: dict[str, Any]) -> None:
        if self._reader.done():
            raise ConnectionError("socket closed")
        await self.ws.send(json.dumps(frame))

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                self._dispatch(json.loads(raw))
        except WebSocketException:
            pass
        finally:
            for future in [*self._acks.values(), self._answer]:
                if future is not None and not future.done():
                    future.set_exception(ConnectionError("socket closed"))

    def _dispatch(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "ack":
            self._resolve(self._acks.pop(frame.get("client_msg_id", ""), None), frame)
        elif kind == "message":
            self.max_seq = max(self.max_seq, int(frame.get("seq") or 0))
            # Our own message coming back is its acknowledgement (docs/protocol.md).
            self._resolve(self._acks.pop(frame.get("client_msg_id") or "", None), frame)
            if frame.get("sender") in ANSWER_SENDERS:
                self._resolve(self._answer, frame)
        elif kind == "error":
            future = self._acks.pop(frame.get("ref") or "", None)
            if future is not None and not future.done():
                future.set_exception(ServerError(f"{frame.get('code')}: {frame.get('message')}"))

    @staticmethod
    def _resolve(future: asyncio.Future[dict[str, Any]] | None, frame: dict[str, Any]) -> None:
        if future is not None and not future.done():
            future.set_result(frame)

    async def _ping(self) -> None:
        every = float(self.welcome.get("heartbeat_s") or PING_S)
        with contextlib.suppress(Exception):
            while True:
                await asyncio.sleep(every)
                await self.ws.send('{"type": "ping"}')


def new_id() -> str:
    """A fresh client_msg_id."""
    return uuid.uuid4().hex


# --- what the workers measure ------------------------------------------------------------


@dataclass
class Share:
    """One worker process's part of a phase."""

    host: str  # "127.0.0.1:PORT"
    worker: int = 0
    sockets: int = 0  # visitors (or, for agents, chats per agent)
    messages: int = 0
    rounds: int = 0
    concurrency: int = 1
    questions: list[str] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)  # agent e-mails
    password: str = ""
    bare: bool = False  # the bare app: no REST, no real conversations

    def ws(self, path: str) -> str:
        """The websocket URL of `path` on this share's server."""
        return f"ws://{self.host}{path}"


@dataclass
class Tally:
    """What a worker saw in its measured period: latencies (ms), errors, times."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""
    t0: float = 0.0
    t1: float = 0.0
    cpu_s: float = 0.0
    rounds: list[dict[str, Any]] = field(default_factory=list)
    held: int = 0  # sockets held open (idle phase)

    def fail(self, exc: BaseException) -> None:
        """Count one failed operation."""
        self.errors += 1
        if not self.first_error:
            self.first_error = f"{type(exc).__name__}: {exc or '(no message)'}"[:300]

    def start(self) -> None:
        """Start the measured period."""
        self.t0, self._cpu0 = time.monotonic(), time.process_time()

    def stop(self) -> None:
        """End the measured period."""
        self.t1, self.cpu_s = time.monotonic(), time.process_time() - self._cpu0

    def report(self, setup: Tally | None = None) -> dict[str, Any]:
        """A picklable summary for the caller, with the failures of the set-up apart."""
        report = {k: v for k, v in vars(self).items() if not k.startswith("_")}
        report["setup_errors"] = setup.errors if setup else 0
        report["setup_error"] = setup.first_error if setup else ""
        return report


Sync = Callable[[], Awaitable[None]]
FAILURES = (OSError, TimeoutError, WebSocketException, ServerError, ConnectionError,
            httpx.HTTPError, KeyError, ValueError)


async def bounded(jobs: Iterable[Awaitable[Any]], limit: int) -> list[Any]:
    """Run awaitables with at most `limit` at once; exceptions are returned, not raised."""
    gate = asyncio.Semaphore(limit)

    async def one(job: Awaitable[Any]) -> Any:
        async with gate:
            return await job

    return await asyncio.gather(*(one(j) for j in jobs), return_exceptions=True)


async def open_sockets(url: str, hellos: list[dict[str, Any]], tally: Tally) -> list[Socket]:
    """Open one socket per hello (bounded concurrency); failures are counted and dropped."""
    opened = await bounded((Socket.open(url, h) for h in hellos), OPENERS_PER_WORKER)
    socks = []
    for result in opened:
        if isinstance(result, Socket):
            socks.append(result)
        elif isinstance(result, BaseException):
            tally.fail(result)
    return socks


async def close_all(socks: list[Socket]) -> None:
    """Close every socket (bounded concurrency)."""
    await bounded((s.close() for s in socks), 256)


async def handoff(sock: Socket, tally: Tally) -> None:
    """Ask for a person: a ticket when nobody is online, the queue otherwise."""
    try:
        await sock.request({"type": "handoff", "client_msg_id": new_id()})
    except FAILURES as exc:
        tally.fail(exc)


async def timed_requests(sock: Socket, frames: Iterable[dict[str, Any]], tally: Tally) -> None:
    """Send frames one after another, each after the previous one's ack; record latencies."""
    for frame in frames:
        started = time.perf_counter()
        try:
            await sock.request(frame)
        except FAILURES as exc:
            tally.fail(exc)
            if isinstance(exc, ConnectionError | WebSocketException):
                return  # the socket is gone: its remaining messages are not sent
            continue
        tally.latencies.append((time.perf_counter() - started) * 1000)


def chat_messages(count: int, conversation_id: int | None = None) -> Iterable[dict[str, Any]]:
    """`count` message frames with fresh client_msg_ids."""
    for n in range(count):
        frame: dict[str, Any] = {"type": "message", "client_msg_id": new_id(),
                                 "text": f"message {n}: my order has not arrived yet"}
        if conversation_id is not None:
            frame["conversation_id"] = conversation_id
        yield frame


async def warm_up(chats: list[tuple[Socket, int | None]]) -> None:
    """One unmeasured message per chat: first-use costs (statement caches, ...) paid before."""
    await bounded((timed_requests(sock, chat_messages(1, cid), Tally()) for sock, cid in chats),
                  OPENERS_PER_WORKER)


async def ticket_messages(share: Share, sync: Sync) -> dict[str, Any]:
    """Visitors in a ticket send `messages` each, waiting for every ack."""
    tally, setup = Tally(), Tally()
    socks = await open_sockets(share.ws("/ws/visitor"), [{"type": "hello"}] * share.sockets, setup)
    await bounded((handoff(s, setup) for s in socks), OPENERS_PER_WORKER)
    await warm_up([(s, None) for s in socks])
    await sync()
    tally.start()
    await asyncio.gather(*(timed_requests(s, chat_messages(share.messages), tally)
                           for s in socks))
    tally.stop()
    await sync()
    await close_all(socks)
    return tally.report(setup)


async def timed_ask(sock: Socket, text: str, tally: Tally, latencies: list[float]) -> None:
    """Ask one question and record the time to the bot's answer."""
    started = time.perf_counter()
    try:
        await sock.ask(text)
    except FAILURES as exc:
        tally.fail(exc)
        return
    latencies.append((time.perf_counter() - started) * 1000)


async def ask_bot(share: Share, sync: Sync) -> dict[str, Any]:
    """Connected visitors all ask a question at once, `rounds` times; time to the answer."""
    tally, setup = Tally(), Tally()
    socks = await open_sockets(share.ws("/ws/visitor"), [{"type": "hello"}] * share.sockets, setup)
    questions = share.questions
    if socks:  # one unmeasured question: the bot's first batch is not part of any round
        await timed_ask(socks[0], questions[0], Tally(), [])
    await sync()
    tally.start()
    for round_ in range(share.rounds):
        if round_:
            await sync()  # every worker's askers start each round together
        latencies: list[float] = []
        t0 = time.monotonic()
        await asyncio.gather(*(
            timed_ask(s, questions[(share.worker * 997 + n + round_ * 31) % len(questions)],
                      tally, latencies)
            for n, s in enumerate(socks)
        ))
        tally.rounds.append({"t0": t0, "t1": time.monotonic(), "answered": len(latencies)})
        tally.latencies += latencies
    tally.stop()
    await sync()
    await close_all(socks)
    return tally.report(setup)


async def hello_loop(url: str, hellos: list[dict[str, Any]], tally: Tally) -> None:
    """Open, say hello, wait for the welcome, close: one hello after another."""
    for hello in hellos:
        started = time.perf_counter()
        try:
            sock = await Socket.open(url, hello, keepalive=False)
        except FAILURES as exc:
            tally.fail(exc)
            continue
        tally.latencies.append((time.perf_counter() - started) * 1000)
        if hello.get("conversation_id") not in (None, sock.welcome.get("conversation_id")):
            tally.fail(ServerError("resumed a different conversation"))
        await sock.close()


async def hellos(url: str, hello_frames: list[dict[str, Any]], share: Share, sync: Sync,
                 setup: Tally | None = None) -> dict[str, Any]:
    """Say every hello in `hello_frames`, `share.concurrency` at a time, between two syncs."""
    tally = Tally()
    lanes = [hello_frames[i :: share.concurrency] for i in range(share.concurrency)]
    await sync()
    tally.start()
    await asyncio.gather(*(hello_loop(url, lane, tally) for lane in lanes if lane))
    tally.stop()
    await sync()
    return tally.report(setup)


async def new_hellos(share: Share, sync: Sync) -> dict[str, Any]:
    """New visitors: socket open + hello (no token) + welcome."""
    return await hellos(share.ws("/ws/visitor"), [{"type": "hello"}] * share.sockets, share, sync)


async def returning_hellos(share: Share, sync: Sync) -> dict[str, Any]:
    """Returning visitors: hello with their token, conversation and last seq."""
    url = share.ws("/ws/visitor")

    async def earlier_visit() -> dict[str, Any]:
        # A first visit that left something behind: a ticket, then the socket closed.
        sock = await Socket.open(url, {"type": "hello"}, keepalive=False)
        try:
            ack = await sock.request({"type": "handoff", "client_msg_id": new_id()})
        finally:
            await sock.close()
        return {"type": "hello", "token": sock.welcome["token"],
                "conversation_id": sock.welcome["conversation_id"],
                "last_seq": max(int(ack["seq"]), sock.max_seq)}

    visits = await bounded((earlier_visit() for _ in range(share.sockets)), OPENERS_PER_WORKER)
    setup = Tally()
    for visit in visits:
        if isinstance(visit, BaseException):
            setup.fail(visit)
    return await hellos(url, [v for v in visits if isinstance(v, dict)], share, sync, setup)


async def idle_sockets(share: Share, sync: Sync) -> dict[str, Any]:
    """Open `sockets` visitor sockets (hello + welcome) and hold them until the second sync."""
    tally = Tally()
    tally.start()
    socks = await open_sockets(share.ws("/ws/visitor"), [{"type": "hello"}] * share.sockets, tally)
    tally.held = len(socks)
    tally.stop()
    await sync()  # all open: the caller measures the server's memory now
    await sync()  # measured: let go
    await close_all(socks)
    return tally.report()


async def agent_replies(share: Share, sync: Sync) -> dict[str, Any]:
    """Agents reply in their assigned chats, `messages` per chat, each after the last ack."""
    tally, setup = Tally(), Tally()
    chats: list[tuple[Socket, int]] = []
    agents: list[Socket] = []
    visitors: list[Socket] = []
    async with httpx.AsyncClient(
        base_url=f"http://{share.host}", timeout=REPLY_TIMEOUT_S, trust_env=False
    ) as http:
        for n, email in enumerate(share.agents):
            token = "bare"
            if not share.bare:
                login = await http.post(
                    "/api/agent/login", json={"email": email, "password": share.password}
                )
                login.raise_for_status()
                token = login.json()["token"]
            agent = await Socket.open(share.ws("/ws/agent"), {"type": "hello", "token": token})
            agents.append(agent)
            visitors_of_agent = [] if share.bare else await open_sockets(
                share.ws("/ws/visitor"), [{"type": "hello"}] * share.sockets, setup
            )
            visitors += visitors_of_agent
            if share.bare:
                chats += [(agent, 1000 * n + c) for c in range(share.sockets)]
                continue
            await bounded((handoff(v, setup) for v in visitors_of_agent), OPENERS_PER_WORKER)
            headers = {"Authorization": f"Bearer {token}"}
            for visitor in visitors_of_agent:
                cid = int(visitor.welcome["conversation_id"])
                taken = await http.post(f"/api/agent/conversations/{cid}/take", headers=headers)
                if taken.status_code != 200:
                    setup.fail(ServerError(f"take {cid}: HTTP {taken.status_code}"))
                    continue
                await agent.send({"type": "watch", "conversation_id": cid, "last_seq": 0})
                chats.append((agent, cid))
    await warm_up(list(chats))
    await sync()
    tally.start()
    await asyncio.gather(*(timed_requests(agent, chat_messages(share.messages, cid), tally)
                           for agent, cid in chats))
    tally.stop()
    await sync()
    await close_all(agents + visitors)
    return tally.report(setup)


PHASES: dict[str, Callable[[Share, Sync], Awaitable[dict[str, Any]]]] = {
    "ticket_messages": ticket_messages,
    "ask_bot": ask_bot,
    "new_hellos": new_hellos,
    "returning_hellos": returning_hellos,
    "idle_sockets": idle_sockets,
    "agent_replies": agent_replies,
}


# --- the processes -----------------------------------------------------------------------


def _worker(phase: str, share: Share, barrier: Any, results: Any) -> None:
    """A worker process: run one phase on its own event loop, report, exit."""

    async def sync() -> None:
        await asyncio.to_thread(barrier.wait, SYNC_TIMEOUT_S)  # the loop keeps serving sockets

    try:
        results.put((share.worker, asyncio.run(PHASES[phase](share, sync)), ""))
    except BaseException:  # noqa: BLE001 - report it, and let nobody wait for us
        barrier.abort()
        results.put((share.worker, None, traceback.format_exc()))


class ClientPhase:
    """One phase in one process per share; the caller steps with them through `sync`."""

    def __init__(self, phase: str, shares: list[Share]) -> None:
        ctx = multiprocessing.get_context("spawn")  # no inherited loops, sockets or threads
        self._barrier = ctx.Barrier(len(shares) + 1)
        self._results = ctx.Queue()
        self._procs = [
            ctx.Process(target=_worker, args=(phase, s, self._barrier, self._results),
                        name=f"load-{phase}-{s.worker}", daemon=True)
            for s in shares
        ]
        self.pids: list[int] = []

    def __enter__(self) -> ClientPhase:
        for proc in self._procs:
            proc.start()
        self.pids = [p.pid for p in self._procs if p.pid is not None]
        return self

    def sync(self) -> None:
        """Wait until every worker reaches the same step."""
        try:
            self._barrier.wait(SYNC_TIMEOUT_S)
        except BrokenBarrierError:
            raise RuntimeError("a load worker failed:\n" + self._failures()) from None

    def reports(self) -> list[dict[str, Any]]:
        """Every worker's report, in worker order."""
        got = {}
        deadline = time.monotonic() + RESULT_TIMEOUT_S
        while len(got) < len(self._procs):
            try:
                worker, report, error = self._results.get(
                    timeout=max(0.1, deadline - time.monotonic())
                )
            except queue.Empty:
                raise RuntimeError("load workers did not report in time") from None
            if error:
                raise RuntimeError(f"load worker {worker} failed:\n{error}")
            got[worker] = report
        return [got[w] for w in sorted(got)]

    def _failures(self) -> str:
        errors = []
        with contextlib.suppress(queue.Empty):
            for _ in self._procs:
                _, _, error = self._results.get(timeout=5)
                errors.append(error)
        return "\n".join(e for e in errors if e) or "(no report)"

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for proc in self._procs:
            proc.join(timeout=30 if exc is None else 1)
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=5)
