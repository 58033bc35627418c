"""The hot path's SQL: a batch of chat messages (and of new visitors) stored in a few
statements, whatever its size.

SQLAlchemy Core, not the ORM. `handoff/writer.py` gathers the batch (group commit). Messages:

0. on PostgreSQL, one SELECT ... FOR NO KEY UPDATE locks the batch's conversations in id
   order, so two replicas' batches never deadlock (NO KEY: the lock the UPDATE below takes
   anyway; a plain FOR UPDATE would also wait for every transaction that merely inserted a
   row pointing at one of them, e.g. a clock of the SLA sweep);
1. one UPDATE per kind of rule (`Guard`) allocates every conversation's next seqs under its
   row lock, checking the rule in its WHERE: a conversation the rule refuses gets nothing
   (one per rule and number of messages, when a conversation has several in the batch; the
   statements are fixed, with expanding parameters, so they are compiled once);
2. one INSERT ... ON CONFLICT DO NOTHING stores the messages, once per client_msg_id;
3. a hook a service passed runs once for its messages (a ticket reopens).

A resend (a client_msg_id already stored) is rare: the batch is then rolled back and its
messages written one at a time (`store_one`), where a resend gives its seq back and gets the
original. New conversations: one INSERT of the new visitors among them, one of the
conversations.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, cast

from sqlalchemy import BindParameter, Table, bindparam, case, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff.models import Conversation, Message, MessageRow, Sender, Visitor, utcnow
from handoff.states import ConversationState

# Core, not the ORM, on the hot path: the tables themselves.
CONVERSATIONS = cast(Table, Conversation.__table__)
MESSAGES = cast(Table, Message.__table__)
VISITORS = cast(Table, Visitor.__table__)
ROW = CONVERSATIONS.c
S = ConversationState


class Guard(Enum):
    """What must hold of the conversation for the message to be written."""

    OPEN = "open"  # not closed: a visitor writing (after close they get a new conversation)
    HELD_BY_AGENT = "held_by_agent"  # assigned to `agent_id`: an agent replying
    BOT_LAST_WORD = "bot_last_word"  # still with the bot, `answering_seq` still the last word
    NONE = "none"  # the conversation exists: a private note


@dataclass(frozen=True)
class Stored:
    """A stored message (or the original of a resend) and its conversation as it then stood."""

    message: MessageRow
    duplicate: bool
    state: ConversationState
    last_seq: int
    bot_misses: int
    assigned_agent_id: int | None


# Runs inside the transaction, once for all the batch's new messages that named it.
AfterStore = Callable[[AsyncConnection, Sequence[Stored]], Awaitable[None]]


@dataclass(frozen=True)
class NewMessage:
    """A message to store; `guard` says when it may be (see Guard)."""

    conversation_id: int
    sender: Sender
    text: str
    client_msg_id: str | None
    guard: Guard
    agent_id: int | None = None
    meta: dict[str, Any] | None = None
    answering_seq: int | None = None  # with BOT_LAST_WORD
    missed: bool = False  # with BOT_LAST_WORD: a miss (counts up) or an answer (resets)
    after_store: AfterStore | None = None

    def row(self, seq: int) -> dict[str, Any]:
        """The messages row for this message at `seq`."""
        return {
            "conversation_id": self.conversation_id,
            "seq": seq,
            "sender": self.sender,
            "text": self.text,
            "client_msg_id": self.client_msg_id,
            "agent_id": self.agent_id,
            "meta": self.meta,
            "created_at": utcnow(),
        }


class Resend(Exception):
    """A message of the batch was stored before: the caller rolls back and writes the batch
    one message at a time (`store_one`)."""


_INSERTS = {
    name: insert(MESSAGES)
    .on_conflict_do_nothing(index_elements=["conversation_id", "sender", "client_msg_id"])
    .returning(MESSAGES.c.conversation_id, MESSAGES.c.seq, MESSAGES.c.id)
    for name, insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}
_RETURNING = (ROW.id, ROW.last_seq, ROW.state, ROW.bot_misses, ROW.assigned_agent_id)
_IDS: BindParameter[int] = bindparam("ids", expanding=True)  # conversation ids
_KEYS: BindParameter[Any] = bindparam(
    "keys", expanding=True
)  # (conversation id, what the rule expects) pairs
_ADD = {"last_seq": ROW.last_seq + bindparam("n")}  # every run of a statement has n messages
# One statement per rule, the same text whatever the batch: compiled once, then cached.
_ALLOCATE = {
    Guard.OPEN: update(CONVERSATIONS).where(ROW.id.in_(_IDS), ROW.state != S.CLOSED).values(_ADD),
    Guard.NONE: update(CONVERSATIONS).where(ROW.id.in_(_IDS)).values(_ADD),
    Guard.HELD_BY_AGENT: update(CONVERSATIONS)
    .where(tuple_(ROW.id, ROW.assigned_agent_id).in_(_KEYS), ROW.state == S.ASSIGNED)
    .values(_ADD),
    Guard.BOT_LAST_WORD: update(CONVERSATIONS)
    .where(tuple_(ROW.id, ROW.last_seq).in_(_KEYS), ROW.state == S.BOT)
    .values(
        {
            **_ADD,
            # a miss counts up, an answer resets the count
            "bot_misses": case(
                (ROW.id.in_(bindparam("missed", expanding=True)), ROW.bot_misses + 1), else_=0
            ),
        }
    ),
}
_ALLOCATE = {guard: stmt.returning(*_RETURNING) for guard, stmt in _ALLOCATE.items()}
_LOCK = select(ROW.id).where(ROW.id.in_(_IDS)).order_by(ROW.id).with_for_update(key_share=True)


def _rule_values(guard: Guard, firsts: Sequence[NewMessage]) -> dict[str, Any]:
    """The parameters of the guard's statement for the conversations of `firsts`."""
    if guard is Guard.HELD_BY_AGENT:
        return {"keys": [(m.conversation_id, m.agent_id) for m in firsts]}
    if guard is Guard.BOT_LAST_WORD:
        return {
            "keys": [(m.conversation_id, m.answering_seq) for m in firsts],
            "missed": [m.conversation_id for m in firsts if m.missed],
        }
    return {"ids": [m.conversation_id for m in firsts]}


async def _allocate(
    conn: AsyncConnection, guard: Guard, runs: Sequence[Sequence[NewMessage]]
) -> dict[int, tuple[int, S, int, int | None]]:
    """Allocate each run's seqs (one run per conversation, all of one length) where the
    guard holds.

    Returns conversation id -> (last seq after the run, state, bot misses, assigned agent).
    """
    params = _rule_values(guard, [run[0] for run in runs])
    rows = await conn.execute(_ALLOCATE[guard], {**params, "n": len(runs[0])})
    return {cid: (seq, S(state), misses, agent) for cid, seq, state, misses, agent in rows}


def _runs(batch: Sequence[NewMessage]) -> list[list[list[NewMessage]]]:
    """The batch as rounds; a round holds at most one run per conversation.

    A run is consecutive messages of one conversation under the same rule (the bot's answers
    always alone: each names the seq it answers). Round k holds each conversation's k-th run,
    so a conversation's messages keep their order.
    """
    per_conversation: dict[int, list[list[NewMessage]]] = {}
    for new in batch:
        runs = per_conversation.setdefault(new.conversation_id, [])
        last = runs[-1][-1] if runs else None
        same_rule = (
            last is not None
            and last.guard is new.guard
            and last.agent_id == new.agent_id
            and new.guard is not Guard.BOT_LAST_WORD
        )
        if same_rule:
            runs[-1].append(new)
        else:
            runs.append([new])
    rounds: list[list[list[NewMessage]]] = []
    for runs in per_conversation.values():
        for k, run in enumerate(runs):
            if k == len(rounds):
                rounds.append([])
            rounds[k].append(run)
    return rounds


async def store_many(conn: AsyncConnection, batch: Sequence[NewMessage]) -> list[Stored | None]:
    """Store a batch in the connection's transaction; None for each message its rule refused.

    Raises Resend when a message was stored before (nothing is then left written: the
    caller rolls back). The caller commits.
    """
    placed: dict[int, tuple[NewMessage, int, tuple[int, S, int, int | None]]] = {}
    conversations = sorted({new.conversation_id for new in batch})
    if conn.dialect.name == "postgresql" and len(conversations) > 1:
        # Every batch locks its conversations in one order, id order, before the rules'
        # UPDATEs (one per kind of rule) touch them: two replicas' batches never deadlock.
        await conn.execute(_LOCK, {"ids": conversations})
    for round_ in _runs(batch):
        by_rule: dict[tuple[Guard, int], list[list[NewMessage]]] = {}
        for run in round_:
            by_rule.setdefault((run[0].guard, len(run)), []).append(run)
        for (guard, _), runs in by_rule.items():
            allocated = await _allocate(conn, guard, runs)
            for run in runs:
                conv = allocated.get(run[0].conversation_id)
                if conv is None:
                    continue  # the rule refused this conversation
                first_seq = conv[0] - len(run) + 1
                for offset, new in enumerate(run):
                    placed[id(new)] = (new, first_seq + offset, conv)
    rows = {id(new): new.row(seq) for new, seq, _ in placed.values()}
    inserted: dict[tuple[int, int], int] = {}
    if rows:
        result = await conn.execute(_INSERTS[conn.dialect.name], list(rows.values()))
        inserted = {(cid, seq): msg_id for cid, seq, msg_id in result}
    if len(inserted) < len(rows):
        raise Resend
    out: list[Stored | None] = []
    for new in batch:
        if id(new) not in placed:
            out.append(None)
            continue
        _, seq, (last_seq, state, misses, agent) = placed[id(new)]
        row = rows[id(new)]
        message = MessageRow(id=inserted[(new.conversation_id, seq)], **row)
        out.append(Stored(message, False, state, last_seq, misses, agent))
    await _after_store(conn, batch, out)
    return out


async def _after_store(
    conn: AsyncConnection, batch: Sequence[NewMessage], out: Sequence[Stored | None]
) -> None:
    hooks: dict[AfterStore, list[Stored]] = {}
    for new, stored in zip(batch, out, strict=True):
        if new.after_store is not None and stored is not None and not stored.duplicate:
            hooks.setdefault(new.after_store, []).append(stored)
    for hook, stored_list in hooks.items():
        await hook(conn, stored_list)


_GIVE_BACK = (
    update(CONVERSATIONS)
    .where(ROW.id == bindparam("w_conversation_id"))
    .values(last_seq=ROW.last_seq - 1)
)


async def store_one(conn: AsyncConnection, new: NewMessage) -> Stored | None:
    """Store one message; a resend gives its seq back and returns the original (duplicate)."""
    allocated = (await _allocate(conn, new.guard, [[new]])).get(new.conversation_id)
    if allocated is None:
        return None
    seq, state, misses, agent = allocated
    row = new.row(seq)
    inserted = (await conn.execute(_INSERTS[conn.dialect.name], row)).first()
    if inserted is not None:
        stored = Stored(MessageRow(id=inserted[2], **row), False, state, seq, misses, agent)
        await _after_store(conn, [new], [stored])
        return stored
    # A resend: give the seq back (we still hold the row lock) and answer with the original.
    await conn.execute(_GIVE_BACK, {"w_conversation_id": new.conversation_id})
    original = (
        await conn.execute(
            select(MESSAGES).where(
                MESSAGES.c.conversation_id == new.conversation_id,
                MESSAGES.c.sender == new.sender,
                MESSAGES.c.client_msg_id == new.client_msg_id,
            )
        )
    ).one()  # the conflict was with it; messages are never deleted
    return Stored(MessageRow(**original._asdict()), True, state, seq - 1, misses, agent)


# Multi-row INSERTs whose RETURNING keeps the order of the rows given.
_NEW_VISITORS = VISITORS.insert().returning(VISITORS.c.id, sort_by_parameter_order=True)
_NEW_CONVERSATIONS = CONVERSATIONS.insert().returning(ROW.id, sort_by_parameter_order=True)


@dataclass(frozen=True)
class NewConversation:
    """A conversation with the bot: a returning visitor's next one (`visitor_id`), or a first
    visit's, with the new visitor's row (`visitor`: name, locale, page_url, ...)."""

    visitor_id: int | None = None
    visitor: dict[str, Any] | None = None


async def store_conversations(
    conn: AsyncConnection, batch: Sequence[NewConversation]
) -> list[tuple[int, int]]:
    """Insert the new visitors, then one open conversation each: (visitor id, conversation id)."""
    if not batch:
        return []
    now = utcnow()
    first_visits = [new.visitor or {} for new in batch if new.visitor_id is None]
    columns = sorted({key for values in first_visits for key in values})  # one shape for all
    rows = [{**{c: values.get(c) for c in columns}, "created_at": now} for values in first_visits]
    new_ids = iter((await conn.execute(_NEW_VISITORS, rows)).scalars().all() if rows else [])
    visitor_ids = [new.visitor_id or next(new_ids) for new in batch]
    conversations = [
        {"visitor_id": vid, "state": S.BOT, "last_seq": 0, "bot_misses": 0, "created_at": now}
        for vid in visitor_ids
    ]
    conversation_ids = (await conn.execute(_NEW_CONVERSATIONS, conversations)).scalars().all()
    return list(zip(visitor_ids, conversation_ids, strict=True))
