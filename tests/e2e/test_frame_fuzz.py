"""Property-based fuzzing of every client frame type on both sockets of a real server.

Hypothesis makes frames of each type from its schema (app/ws/frames.py), each field either
valid or junk (wrong types, huge numbers, odd text, nesting), plus frames that are no JSON
at all. For every frame: no `internal_error`, a refused frame stores nothing, and the socket
still answers afterwards. Runs are derandomised and bounded (see EXAMPLES).
"""

from __future__ import annotations

import asyncio
import json
import typing
import uuid
from collections.abc import Coroutine
from typing import Any

import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import make_engine, make_sessionmaker
from app.ws.frames import (
    MAX_FRAME_BYTES,
    AgentFrame,
    Hello,
    VisitorFrame,
    agent_frames,
    parse_frame,
)
from handoff.models import AuditEvent, Base, Conversation, Visitor
from tests.client import ChatClient, agent, visitor
from tests.conftest import Server
from tests.e2e.test_authorization_matrix import settled

EXAMPLES = 150  # per socket: enough to reach every handler with odd input, well under a minute
HELLO_EXAMPLES = 30  # each one is a new connection
STEP_TIMEOUT_S = 60
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

JUNK: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.sampled_from([-1, 0, 2**31, 2**63, 2**64, -(2**63) - 1])  # where columns overflow
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.sampled_from(["", " ", "\u0000", "\u202e", "<script>", "💥" * 20, "9" * 30]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


def from_schema(schema: dict[str, Any], defs: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid for a (pydantic) JSON schema; the handful of forms frames use."""
    if "$ref" in schema:
        return from_schema(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    if "anyOf" in schema:
        return st.one_of([from_schema(s, defs) for s in schema["anyOf"]])
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "string":
        return st.text(
            min_size=schema.get("minLength", 0), max_size=min(schema.get("maxLength", 64), 64)
        )
    if kind == "integer":
        low, high = schema.get("minimum", -(2**70)), schema.get("maximum", 2**70)
        edges = [n for n in (low, high, 0, 1, 2, 3, 2**31, 2**63) if low <= n <= high]
        return st.sampled_from(edges) | st.integers(min_value=low, max_value=high)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "object":
        return model_frames(schema, defs, junk=False)
    return JUNK


def model_frames(
    schema: dict[str, Any], defs: dict[str, Any], *, junk: bool = True, ids: tuple[int, ...] = ()
) -> st.SearchStrategy[dict[str, Any]]:
    """Objects of this schema: required fields present, each field valid or (if `junk`) not."""
    required = set(schema.get("required", []))
    fields = {}
    for name, sub in schema["properties"].items():
        valid = from_schema(sub, defs)
        if name == "conversation_id" and ids:  # often a conversation that exists
            valid = st.sampled_from(ids) | valid
        # Mostly valid, so that frames get past parsing into their handlers.
        fields[name] = st.one_of(valid, valid, valid, JUNK) if junk and name != "type" else valid
    return st.fixed_dictionaries(
        {k: v for k, v in fields.items() if k in required},
        optional={k: v for k, v in fields.items() if k not in required},
    )


def frames_of(union: Any, ids: tuple[int, ...] = ()) -> st.SearchStrategy[str]:
    """Text frames of every type of a socket, and some that are not frames at all."""
    members = []
    for model in typing.get_args(typing.get_args(union)[0]):  # every frame type of the socket
        schema = model.model_json_schema()
        members.append(model_frames(schema, schema.get("$defs", {}), ids=ids))
    as_json = st.one_of(members).map(json.dumps)
    odd = ["{", "[]", "null", '{"type": 5}', "{}", '{"type": "message", "type": "ping"}']
    # JSON may spell a lone surrogate, which no UTF-8 text (nor PostgreSQL) can hold.
    odd += [
        '{"type": "message", "client_msg_id": "s1", "text": "\\ud800", "conversation_id": 1}',
        '{"type": "email", "email": "\\udfff@example.com"}',
        '{"type": "hello", "name": "\\ud800"}',
        '{"type": "note", "client_msg_id": "n\\u0000", "text": "a\\u0000b", "conversation_id": 1}',
    ]
    raw = st.text(max_size=60) | st.sampled_from(odd)
    near_limit = st.text(alphabet="ab", min_size=8193, max_size=8300).map(
        lambda t: json.dumps({"type": "message", "client_msg_id": "x", "text": t})
    )
    return st.one_of(as_json, as_json, as_json, as_json, raw, near_limit).filter(
        lambda f: len(f.encode()) < MAX_FRAME_BYTES - 64
    )


SWEPT = ("sla_clocks", "sla_breaches")


async def stored(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    """Every table's row count, the conversations' seqs and the visitors' profiles."""
    async with sessions() as s:
        out: dict[str, Any] = {}
        for table in Base.metadata.sorted_tables:
            # The SLA sweep writes its clocks on a timer, whatever the frames do.
            if table.name not in (AuditEvent.__tablename__, "agent_presence", *SWEPT):
                out[table.name] = await s.scalar(select(func.count()).select_from(table))
        out["seqs"] = await s.scalar(select(func.sum(Conversation.last_seq)))
        out["profiles"] = (
            await s.execute(select(Visitor.name, Visitor.email).order_by(Visitor.id))
        ).all()
        return out


class Driver:
    """Runs the server-side coroutines of a Hypothesis example (which runs in a thread)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def __call__(self, work: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(STEP_TIMEOUT_S)


async def send_and_check(
    client: ChatClient, raw: str, sessions: async_sessionmaker[AsyncSession], *, agent_side: bool
) -> None:
    """One fuzzed frame: no internal error, nothing stored if refused, the socket answers."""
    before = await stored(sessions)
    await client.send(raw)
    seen = await settled(client)
    ref = _pending_ref(raw) if agent_side else None

    def answers(f: dict[str, Any]) -> bool:
        # our reply coming back is its acknowledgement, as an ack is
        return f.get("type") in ("ack", "error", "message") and ref in (
            f.get("client_msg_id"), f.get("ref")
        )

    if ref is not None and not any(answers(f) for f in seen):
        seen.append(await client.expect(answers))  # an agent's reply: acked after its commit
    assert not [f for f in seen if f.get("code") == "internal_error"], (raw, seen)
    if any(f.get("type") == "error" for f in seen):
        assert await stored(sessions) == before, f"a refused frame stored something: {raw} {seen}"


def _pending_ref(raw: str) -> str | None:
    try:
        parsed = parse_frame(raw, agent_frames)
    except Exception:  # noqa: BLE001 - refused at once: nothing pending
        return None
    return getattr(parsed, "client_msg_id", None) if parsed.type in ("message", "note") else None


async def _sessions(server: Server) -> tuple[Any, async_sessionmaker[AsyncSession]]:
    engine = make_engine(server.settings.database_url)
    return engine, make_sessionmaker(engine)


async def test_visitor_frames(server: Server) -> None:
    engine, sessions = await _sessions(server)
    run = Driver(asyncio.get_running_loop())
    client, welcome = await visitor(server)
    await client.say("How much does shipping cost?")
    await client.expect(lambda f: f.get("type") == "message" and f["sender"] == "bot")

    @FUZZ
    @given(raw=frames_of(VisitorFrame, ids=(welcome["conversation_id"],)))
    def check(raw: str) -> None:
        run(send_and_check(client, raw, sessions, agent_side=False))

    try:
        await asyncio.to_thread(check)
        cmid = await client.say("Still there?")
        ack = await client.expect_ack(cmid)
        assert ack["seq"] > 0
    finally:
        await client.close()
        await engine.dispose()


async def test_agent_frames(server: Server) -> None:
    engine, sessions = await _sessions(server)
    run = Driver(asyncio.get_running_loop())
    token = await server.create_agent()
    guest, welcome = await visitor(server)
    await guest.say("How much does shipping cost?")
    await guest.expect(lambda f: f.get("type") == "message" and f["sender"] == "bot")
    console = await agent(server, token)
    cid = welcome["conversation_id"]

    @FUZZ
    @given(raw=frames_of(AgentFrame, ids=(cid,)))
    def check(raw: str) -> None:
        run(send_and_check(console, raw, sessions, agent_side=True))

    try:
        await asyncio.to_thread(check)
        note = {"type": "note", "conversation_id": cid, "client_msg_id": uuid.uuid4().hex}
        await console.send(note | {"text": "still usable"})
        await console.expect_ack(note["client_msg_id"])
    finally:
        await console.close()
        await guest.close()
        await engine.dispose()


async def test_hello_frames(server: Server) -> None:
    """The first frame of a visitor socket: a welcome, or an error and the socket closed."""
    engine, sessions = await _sessions(server)
    run = Driver(asyncio.get_running_loop())
    schema = Hello.model_json_schema()
    hello = model_frames(schema, schema.get("$defs", {})).map(json.dumps)

    async def one(raw: str) -> None:
        before = await stored(sessions)
        client = await ChatClient.connect(server.ws_url + "/ws/visitor")
        try:
            await client.send(raw)
            first = await client.expect(lambda f: f.get("type") in ("welcome", "error"))
            while first.get("code") in ("invalid_token", "invalid_identity", "forbidden"):
                first = await client.expect(lambda f: f.get("type") in ("welcome", "error"))
            assert first.get("code") != "internal_error", (raw, first)
            if first["type"] == "welcome":
                await settled(client)
            else:
                assert await stored(sessions) == before, f"a refused hello stored something: {raw}"
        finally:
            await client.close()

    @settings(FUZZ, max_examples=HELLO_EXAMPLES)
    @given(raw=hello)
    def check(raw: str) -> None:
        run(one(raw))

    try:
        await asyncio.to_thread(check)
    finally:
        await engine.dispose()
