"""Conversations: the visitor's messages, the bot's turn, escalation, take, reply, close.

Every service here commits its own transaction and only then publishes on the bus.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot import Action, Brain, Decision, Reason
from handoff import routing as router
from handoff.agents import online_agents
from handoff.bus import Bus
from handoff.errors import Conflict, Forbidden, Invalid, NotFound
from handoff.events import (
    AGENTS_CHANNEL,
    conversation_channel,
    message_event,
    queue_event,
    state_event,
)
from handoff.messages import append_message, find_by_client_msg_id
from handoff.models import (
    Agent,
    Conversation,
    Message,
    Sender,
    Ticket,
    TicketStatus,
    Visitor,
    utcnow,
)
from handoff.routing import Routing
from handoff.states import ConversationState, check_transition

S = ConversationState
OPEN_STATES = (S.BOT, S.QUEUED, S.ASSIGNED, S.TICKET)
HUMAN_REQUEST_TEXT = "I'd like to talk to a person."
NONE_OF_THESE_TEXT = "None of these."
CLARIFY_TEXT = "I'm not sure I understood. Did you mean one of these?"
TICKET_PROMISE = "within one business day"  # kept in the state frame for older widgets
EMAIL_INSTEAD_TEXT = "Please e-mail me instead."
RATING_REQUEST_TEXT = "How did we do? Rate this conversation from 1 to 5 stars."


@dataclass(frozen=True)
class Posted:
    """A stored message and whether it was a resend of one stored earlier."""

    message: Message
    duplicate: bool


# --- visitors and their conversation ---------------------------------------------------


async def create_visitor(
    *,
    session: AsyncSession,
    name: str | None = None,
    locale: str | None = None,
    page_url: str | None = None,
) -> Visitor:
    """A new anonymous visitor."""
    visitor = Visitor(name=name, locale=locale, page_url=page_url)
    session.add(visitor)
    await session.commit()
    return visitor


async def update_visitor_profile(
    *, session: AsyncSession, visitor_id: int, name: str | None, email: str | None
) -> None:
    """Put a name and e-mail the site vouched for on the visitor's profile (agents see them)."""
    visitor = await session.get(Visitor, visitor_id)
    if visitor is None:
        return
    if name:
        visitor.name = name
    if email:
        visitor.email = email
    await session.commit()


async def current_conversation(*, session: AsyncSession, visitor_id: int) -> Conversation | None:
    """The visitor's most recent conversation, open or closed."""
    return await session.scalar(
        select(Conversation)
        .where(Conversation.visitor_id == visitor_id)
        .order_by(Conversation.id.desc())
        .limit(1)
    )


async def open_conversation(*, session: AsyncSession, visitor_id: int) -> Conversation:
    """The visitor's open conversation, starting a new one if the last was closed."""
    conv = await current_conversation(session=session, visitor_id=visitor_id)
    if conv is None or conv.state == S.CLOSED:
        conv = Conversation(visitor_id=visitor_id, state=S.BOT)
        session.add(conv)
        await session.commit()
    return conv


async def get_conversation(*, session: AsyncSession, conversation_id: int) -> Conversation:
    conv = await session.get(Conversation, conversation_id, populate_existing=True)
    if conv is None:
        raise NotFound(f"conversation {conversation_id} not found")
    return conv


async def queue_position(*, session: AsyncSession, conv: Conversation) -> int | None:
    """1-based place in the queue (arrival order), or None when not queued."""
    if conv.state != S.QUEUED or conv.queued_at is None:
        return None
    ahead = await session.scalar(
        select(func.count())
        .select_from(Conversation)
        .where(
            Conversation.state == S.QUEUED,
            tuple_(Conversation.queued_at, Conversation.id) < (conv.queued_at, conv.id),
        )
    )
    return int(ahead or 0) + 1


async def visitor_state(*, session: AsyncSession, conv: Conversation) -> dict[str, Any]:
    """The `state` frame for the visitor, with queue position, agent and ticket."""
    position = await queue_position(session=session, conv=conv)
    extra: dict[str, Any] = {"queue_position": position}
    if position is not None:
        extra["estimated_wait_s"] = router.estimated_wait_s(
            await router.recent_wait_s(session=session), position
        )
    if conv.assigned_agent_id is not None and conv.state == S.ASSIGNED:
        agent = await session.get(Agent, conv.assigned_agent_id)
        if agent is not None:
            extra["agent"] = {"name": agent.name, "avatar_url": agent.avatar_url}
    if conv.state == S.TICKET:
        ticket = await session.scalar(select(Ticket).where(Ticket.conversation_id == conv.id))
        if ticket is not None:
            extra["ticket"] = {
                "id": ticket.id,
                "email": ticket.email,
                "reply_within": TICKET_PROMISE,
                "reply_by": ticket.reply_by.isoformat() if ticket.reply_by else None,
                "status": str(ticket.status),
            }
    return state_event(conv, **extra)


# --- storing messages ------------------------------------------------------------------


async def _post(
    *,
    session: AsyncSession,
    bus: Bus,
    conv: Conversation,
    sender: Sender,
    text: str,
    client_msg_id: str | None,
    agent_id: int | None = None,
    meta: dict[str, Any] | None = None,
) -> Posted:
    """Store a client's message once per client_msg_id, commit, then publish."""
    if client_msg_id is not None:
        existing = await find_by_client_msg_id(
            session=session, conversation_id=conv.id, sender=sender, client_msg_id=client_msg_id
        )
        if existing is not None:
            return Posted(existing, duplicate=True)
    try:
        msg = await append_message(
            session=session,
            conversation_id=conv.id,
            sender=sender,
            text=text,
            client_msg_id=client_msg_id,
            agent_id=agent_id,
            meta=meta,
        )
        await session.commit()
    except IntegrityError:
        # The same resend raced us on another connection: theirs won, ours is the duplicate.
        await session.rollback()
        await session.refresh(conv)
        if client_msg_id is None:
            raise
        existing = await find_by_client_msg_id(
            session=session, conversation_id=conv.id, sender=sender, client_msg_id=client_msg_id
        )
        if existing is None:
            raise
        return Posted(existing, duplicate=True)
    await bus.publish_after_commit(conversation_channel(conv.id), message_event(msg))
    return Posted(msg, duplicate=False)


async def post_visitor_message(
    *, session: AsyncSession, bus: Bus, conversation_id: int, client_msg_id: str, text: str
) -> Posted:
    """Store what the visitor typed (idempotent on client_msg_id)."""
    conv = await get_conversation(session=session, conversation_id=conversation_id)
    posted = await _post(
        session=session,
        bus=bus,
        conv=conv,
        sender=Sender.VISITOR,
        text=text,
        client_msg_id=client_msg_id,
    )
    if not posted.duplicate and conv.state == S.TICKET:
        ticket = await session.scalar(select(Ticket).where(Ticket.conversation_id == conv.id))
        if ticket is not None and ticket.status != TicketStatus.OPEN:
            ticket.status = TicketStatus.OPEN  # the customer answered: the ball is ours again
            await session.commit()
    if not posted.duplicate and conv.state in (S.QUEUED, S.ASSIGNED, S.TICKET):
        await bus.publish_after_commit(AGENTS_CHANNEL, queue_event(conv))
    return posted


async def visitor_typing(
    *, session: AsyncSession, bus: Bus, conversation_id: int, draft: str | None
) -> None:
    """Tell agents the visitor is typing; the draft itself only once a person holds the chat."""
    conv = await get_conversation(session=session, conversation_id=conversation_id)
    shown = draft if conv.state == S.ASSIGNED else None
    await bus.publish_after_commit(
        conversation_channel(conv.id),
        {"type": "typing", "conversation_id": conv.id, "sender": "visitor", "draft": shown},
    )


async def agent_typing(*, bus: Bus, conversation_id: int, agent: Agent) -> None:
    """Tell the visitor (and other agents watching) that this agent is typing."""
    await bus.publish_after_commit(
        conversation_channel(conversation_id),
        {
            "type": "typing",
            "conversation_id": conversation_id,
            "sender": "agent",
            "name": agent.name,
        },
    )


# --- the bot's turn --------------------------------------------------------------------


def _candidates(decision: Decision, brain: Brain) -> list[dict[str, Any]]:
    out = []
    for cand in decision.candidates:
        entry = brain.entry(cand.entry_id)
        out.append(
            {
                "entry_id": cand.entry_id,
                "question": entry.question if entry else None,
                "score": round(cand.score, 4),
            }
        )
    return out


async def bot_turn(
    *,
    session: AsyncSession,
    bus: Bus,
    brain: Brain,
    conversation_id: int,
    text: str,
    routing: Routing,
    answering_seq: int,
) -> Decision | None:
    """Let the bot answer the visitor message `answering_seq`, if it is still the last word.

    Also right for a resend: if the first attempt was stored by a replica that died before
    the bot answered, the message is still the last word and gets its answer now.
    """
    conv = await get_conversation(session=session, conversation_id=conversation_id)
    if conv.state != S.BOT or conv.last_seq != answering_seq:
        return None
    # The model runs off the event loop inside the brain; no transaction is open meanwhile.
    await session.commit()
    decision = await brain.decide(text, misses=conv.bot_misses)
    await apply_decision(
        session=session,
        bus=bus,
        brain=brain,
        conversation_id=conversation_id,
        decision=decision,
        routing=routing,
        answering_seq=answering_seq,
    )
    return decision


async def apply_decision(
    *,
    session: AsyncSession,
    bus: Bus,
    brain: Brain,
    conversation_id: int,
    decision: Decision,
    routing: Routing,
    answering_seq: int,
) -> None:
    """Store the bot's answer, clarification or escalation, and publish it."""
    # Row lock (PostgreSQL; SQLite's IMMEDIATE transaction already serialises): of two
    # deliveries of one message racing (a resend on another socket), one answer is stored.
    conv = await session.get(
        Conversation, conversation_id, with_for_update=True, populate_existing=True
    )
    if conv is None or conv.state != S.BOT or conv.last_seq != answering_seq:
        return  # a person took over, or the message was answered, while the model thought
    candidates = _candidates(decision, brain)
    if decision.action == Action.ANSWER and decision.entry_id is not None:
        entry = brain.entry(decision.entry_id)
        if entry is not None:
            conv.bot_misses = 0
            meta = {
                "kind": "answer",
                "entry_id": entry.id,
                "question": entry.question,
                "score": round(decision.score, 4),
                "candidates": candidates,
            }
            await _bot_says(session=session, bus=bus, conv=conv, text=entry.answer, meta=meta)
            return
    if decision.action == Action.CLARIFY:
        conv.bot_misses += 1
        options = [c for c in candidates[: max(2, min(3, len(candidates)))]]
        meta = {
            "kind": "clarify",
            "options": options,
            "candidates": candidates,
            "score": round(decision.score, 4),
        }
        await _bot_says(session=session, bus=bus, conv=conv, text=CLARIFY_TEXT, meta=meta)
        return
    reason = decision.reason or Reason.LOW_CONFIDENCE
    await escalate(
        session=session,
        bus=bus,
        conv=conv,
        reason=str(reason),
        routing=routing,
        bot_meta={
            "kind": "escalate",
            "reason": str(reason),
            "candidates": candidates,
            "score": round(decision.score, 4),
        },
    )


async def _bot_says(
    *, session: AsyncSession, bus: Bus, conv: Conversation, text: str, meta: dict[str, Any]
) -> None:
    msg = await append_message(
        session=session, conversation_id=conv.id, sender=Sender.BOT, text=text, meta=meta
    )
    await session.commit()
    await bus.publish_after_commit(conversation_channel(conv.id), message_event(msg))


async def choose_option(
    *,
    session: AsyncSession,
    bus: Bus,
    brain: Brain,
    conversation_id: int,
    client_msg_id: str,
    entry_id: str | None,
    routing: Routing,
) -> Posted:
    """The visitor clicked a "Did you mean" button (entry_id) or "None of these" (None)."""
    entry = brain.entry(entry_id) if entry_id is not None else None
    if entry_id is not None and entry is None:
        raise Invalid(f"unknown entry {entry_id!r}")
    text = entry.question if entry is not None else NONE_OF_THESE_TEXT
    conv = await get_conversation(session=session, conversation_id=conversation_id)
    posted = await _post(
        session=session,
        bus=bus,
        conv=conv,
        sender=Sender.VISITOR,
        text=text,
        client_msg_id=client_msg_id,
        meta={"kind": "choice", "entry_id": entry_id},
    )
    if posted.duplicate or conv.state != S.BOT:
        return posted
    if entry is not None:
        conv.bot_misses = 0
        meta = {
            "kind": "answer",
            "entry_id": entry.id,
            "question": entry.question,
            "score": 1.0,
            "candidates": [],
            "chosen": True,
        }
        await _bot_says(session=session, bus=bus, conv=conv, text=entry.answer, meta=meta)
    else:
        await escalate(
            session=session,
            bus=bus,
            conv=conv,
            reason=str(Reason.NONE_OF_THESE),
            routing=routing,
        )
    return posted


async def request_human(
    *,
    session: AsyncSession,
    bus: Bus,
    conversation_id: int,
    client_msg_id: str,
    routing: Routing,
) -> Posted:
    """The visitor pressed "Talk to a person"."""
    conv = await get_conversation(session=session, conversation_id=conversation_id)
    posted = await _post(
        session=session,
        bus=bus,
        conv=conv,
        sender=Sender.VISITOR,
        text=HUMAN_REQUEST_TEXT,
        client_msg_id=client_msg_id,
        meta={"kind": "handoff"},
    )
    # Also on a resend: the first attempt may have been stored by a replica that died (or
    # hit a deadlock) before escalating; the request is still with the bot until we do.
    if conv.state == S.BOT:
        await escalate(
            session=session,
            bus=bus,
            conv=conv,
            reason=str(Reason.ASKED_FOR_HUMAN),
            routing=routing,
        )
    return posted


# --- escalation, queue and tickets -----------------------------------------------------


async def escalate(
    *,
    session: AsyncSession,
    bus: Bus,
    conv: Conversation,
    reason: str,
    routing: Routing,
    bot_meta: dict[str, Any] | None = None,
) -> None:
    """Hand the chat to the agent queue (and maybe an agent), or open a ticket.

    A ticket when we are closed (business hours, holidays) or nobody is online; the visitor
    is told when to expect a reply.
    """
    now = utcnow()
    is_open = routing.hours.is_open(now)
    agents = (
        await online_agents(session=session, presence_timeout_s=routing.presence_timeout_s)
        if is_open
        else []
    )
    conv.escalation_reason = reason
    ticket: Ticket | None = None
    if agents:
        conv.move_to(S.QUEUED)
        conv.queued_at = now
    else:
        conv.move_to(S.TICKET)
        visitor = await session.get(Visitor, conv.visitor_id)
        ticket = Ticket(
            conversation_id=conv.id,
            email=visitor.email if visitor else None,
            reply_by=promised_reply(routing=routing, now=now),
        )
        session.add(ticket)
    await session.flush()
    if conv.state == S.QUEUED:
        position = await queue_position(session=session, conv=conv)
        text = (
            "I'm connecting you with a person. "
            f"You are number {position} in the queue; please stay here."
        )
    else:
        assert ticket is not None
        why = NOBODY_ONLINE if is_open else CLOSED_NOW
        text = ticket_text(routing=routing, ticket=ticket, why=why)
    meta = dict(bot_meta or {}, kind="escalate", reason=reason)
    msg = await append_message(
        session=session, conversation_id=conv.id, sender=Sender.SYSTEM, text=text, meta=meta
    )
    await session.commit()
    await bus.publish_after_commit(conversation_channel(conv.id), message_event(msg))
    await bus.publish_after_commit(
        conversation_channel(conv.id), await visitor_state(session=session, conv=conv)
    )
    await bus.publish_after_commit(AGENTS_CHANNEL, queue_event(conv))
    if conv.state == S.QUEUED:
        await drain_queue(session=session, bus=bus, routing=routing)


def promised_reply(*, routing: Routing, now: datetime) -> datetime:
    """When a new ticket will be answered: the next opening, or soon if we are open now."""
    opening = routing.hours.next_opening(now)
    if opening is None:  # never open (e.g. every day closed): promise the usual delay
        return now + timedelta(seconds=routing.ticket_reply_within_s)
    if opening == now:
        return now + timedelta(seconds=routing.ticket_reply_within_s)
    return opening


NOBODY_ONLINE = "No one from our team is available right now"
CLOSED_NOW = "We're closed at the moment"
AS_ASKED = "As you asked"


def ticket_text(*, routing: Routing, ticket: Ticket, why: str) -> str:
    """The honest promise the visitor reads when their chat becomes a ticket."""
    assert ticket.reply_by is not None
    local = ticket.reply_by.astimezone(routing.hours.timezone)
    when = f"{local:%A %d %B, %H:%M} ({routing.hours.timezone.key})"
    return (
        f"{why}, so I've opened ticket #{ticket.id} for you. A person will reply by {when}: "
        "you'll see the reply here when you come back, and by e-mail if you leave your address."
    )


async def drain_queue(*, session: AsyncSession, bus: Bus, routing: Routing) -> list[int]:
    """Auto-assign waiting chats in arrival order while an online agent has a free slot."""
    if not routing.auto_assign:
        return []
    assigned: list[int] = []
    while True:
        first = await session.scalar(
            select(Conversation.id)
            .where(Conversation.state == S.QUEUED)
            .order_by(Conversation.queued_at, Conversation.id)
            .limit(1)
        )
        if first is None:
            break
        agent = await router.pick_agent(
            session=session, presence_timeout_s=routing.presence_timeout_s
        )
        if agent is None:
            await session.commit()  # nothing written: just release the agent row locks
            break
        try:
            await take(session=session, bus=bus, conversation_id=first, agent=agent)
        except Conflict:
            continue  # another replica or agent got it first: look at the queue again
        assigned.append(first)
    return assigned


async def publish_queue_positions(*, session: AsyncSession, bus: Bus) -> None:
    """Tell every queued visitor their (new) place in the queue."""
    queued = (
        await session.scalars(
            select(Conversation)
            .where(Conversation.state == S.QUEUED)
            .order_by(Conversation.queued_at, Conversation.id)
        )
    ).all()
    median = await router.recent_wait_s(session=session) if queued else None
    for position, conv in enumerate(queued, start=1):
        await bus.publish_after_commit(
            conversation_channel(conv.id),
            state_event(
                conv,
                queue_position=position,
                estimated_wait_s=router.estimated_wait_s(median, position),
            ),
        )


async def leave_email(
    *, session: AsyncSession, bus: Bus, visitor_id: int, conversation_id: int, email: str
) -> str:
    """Remember the visitor's e-mail (and on their open ticket); returns it normalised."""
    try:
        normalised = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise Invalid(f"invalid e-mail address: {exc}") from exc
    visitor = await session.get(Visitor, visitor_id)
    if visitor is None:
        raise NotFound("visitor not found")
    visitor.email = normalised
    ticket = await session.scalar(select(Ticket).where(Ticket.conversation_id == conversation_id))
    if ticket is not None:
        ticket.email = normalised
    conv = await get_conversation(session=session, conversation_id=conversation_id)
    msg = await append_message(
        session=session,
        conversation_id=conversation_id,
        sender=Sender.SYSTEM,
        text=f"Thanks! We'll also reply to {normalised}.",
        meta={"kind": "email"},
    )
    await session.commit()
    await bus.publish_after_commit(conversation_channel(conv.id), message_event(msg))
    await bus.publish_after_commit(
        conversation_channel(conv.id), await visitor_state(session=session, conv=conv)
    )
    return normalised


# --- the agent's side ------------------------------------------------------------------


async def take(
    *, session: AsyncSession, bus: Bus, conversation_id: int, agent: Agent
) -> Conversation:
    """Assign a queued conversation (or a ticket) to the agent; exactly one agent wins a race."""
    conv = await get_conversation(session=session, conversation_id=conversation_id)
    if conv.state not in (S.QUEUED, S.TICKET):
        raise Conflict(f"conversation {conversation_id} is {conv.state}, not waiting")
    check_transition(conv.state, S.ASSIGNED)
    now = utcnow()
    # Compare-and-set on the state we saw: of two agents racing, one UPDATE matches no row.
    won = await session.scalar(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.state == conv.state)
        .values(state=S.ASSIGNED, assigned_agent_id=agent.id, assigned_at=now)
        .returning(Conversation.id)
    )
    if won is None:
        await session.rollback()
        raise Conflict(f"conversation {conversation_id} was taken by someone else")
    msg = await append_message(
        session=session,
        conversation_id=conversation_id,
        sender=Sender.SYSTEM,
        text=f"{agent.name} joined the conversation.",
        meta={"kind": "assigned", "author": {"name": agent.name, "avatar_url": agent.avatar_url}},
    )
    await session.commit()
    conv = await get_conversation(session=session, conversation_id=conversation_id)
    await bus.publish_after_commit(conversation_channel(conv.id), message_event(msg))
    await bus.publish_after_commit(
        conversation_channel(conv.id), await visitor_state(session=session, conv=conv)
    )
    await bus.publish_after_commit(AGENTS_CHANNEL, queue_event(conv))
    await publish_queue_positions(session=session, bus=bus)
    return conv


async def post_agent_message(
    *,
    session: AsyncSession,
    bus: Bus,
    conversation_id: int,
    agent: Agent,
    client_msg_id: str,
    text: str,
    note: bool = False,
) -> Posted:
    """An agent's reply (or private note) in a conversation they hold."""
    conv = await get_conversation(session=session, conversation_id=conversation_id)
    if not note and (conv.state != S.ASSIGNED or conv.assigned_agent_id != agent.id):
        raise Forbidden("take the conversation before replying")
    author = {"name": agent.name, "avatar_url": agent.avatar_url}
    return await _post(
        session=session,
        bus=bus,
        conv=conv,
        sender=Sender.NOTE if note else Sender.AGENT,
        text=text,
        client_msg_id=client_msg_id,
        agent_id=agent.id,
        meta={"author": author},
    )


async def transfer(
    *,
    session: AsyncSession,
    bus: Bus,
    conversation_id: int,
    agent: Agent,
    to_agent_id: int,
    note: str | None,
    routing: Routing,
) -> Conversation:
    """Hand a chat you hold to another agent, with a private note for them."""
    conv = await get_conversation(session=session, conversation_id=conversation_id)
    if conv.state != S.ASSIGNED or conv.assigned_agent_id != agent.id:
        raise Forbidden("only the agent holding a conversation can transfer it")
    if to_agent_id == agent.id:
        raise Invalid("pick another agent to transfer to")
    target = await session.get(Agent, to_agent_id)
    if target is None:
        raise NotFound(f"agent {to_agent_id} not found")
    check_transition(conv.state, S.ASSIGNED)
    moved = await session.scalar(
        update(Conversation)
        .where(
            Conversation.id == conv.id,
            Conversation.state == S.ASSIGNED,
            Conversation.assigned_agent_id == agent.id,
        )
        .values(assigned_agent_id=target.id)
        .returning(Conversation.id)
    )
    if moved is None:
        await session.rollback()
        raise Conflict(f"conversation {conversation_id} changed meanwhile")
    author = {"name": agent.name, "avatar_url": agent.avatar_url}
    messages = []
    if note and note.strip():
        messages.append(
            await append_message(
                session=session,
                conversation_id=conv.id,
                sender=Sender.NOTE,
                text=note.strip(),
                agent_id=agent.id,
                meta={"author": author, "kind": "transfer", "to_agent_id": target.id},
            )
        )
    messages.append(
        await append_message(
            session=session,
            conversation_id=conv.id,
            sender=Sender.SYSTEM,
            text=f"{agent.name} transferred the conversation to {target.name}.",
            meta={
                "kind": "transferred",
                "from_agent_id": agent.id,
                "to_agent_id": target.id,
                "author": {"name": target.name, "avatar_url": target.avatar_url},
            },
        )
    )
    await session.commit()
    conv = await get_conversation(session=session, conversation_id=conversation_id)
    for msg in messages:
        await bus.publish_after_commit(conversation_channel(conv.id), message_event(msg))
    await bus.publish_after_commit(
        conversation_channel(conv.id), await visitor_state(session=session, conv=conv)
    )
    await bus.publish_after_commit(AGENTS_CHANNEL, queue_event(conv))
    await drain_queue(session=session, bus=bus, routing=routing)  # a slot freed up
    return await get_conversation(session=session, conversation_id=conversation_id)


async def reopen(
    *, session: AsyncSession, bus: Bus, conversation_id: int, agent: Agent
) -> Conversation:
    """Take a closed conversation back (only the visitor's latest one)."""
    conv = await get_conversation(session=session, conversation_id=conversation_id)
    check_transition(conv.state, S.ASSIGNED)
    latest = await current_conversation(session=session, visitor_id=conv.visitor_id)
    if latest is None or latest.id != conv.id:
        raise Conflict("the visitor has started a newer conversation; answer there")
    won = await session.scalar(
        update(Conversation)
        .where(Conversation.id == conv.id, Conversation.state == S.CLOSED)
        .values(state=S.ASSIGNED, assigned_agent_id=agent.id, closed_at=None)
        .returning(Conversation.id)
    )
    if won is None:
        await session.rollback()
        raise Conflict(f"conversation {conversation_id} was reopened by someone else")
    msg = await append_message(
        session=session,
        conversation_id=conv.id,
        sender=Sender.SYSTEM,
        text=f"{agent.name} reopened the conversation.",
        meta={"kind": "reopened", "author": {"name": agent.name, "avatar_url": agent.avatar_url}},
    )
    await session.commit()
    conv = await get_conversation(session=session, conversation_id=conversation_id)
    await bus.publish_after_commit(conversation_channel(conv.id), message_event(msg))
    await bus.publish_after_commit(
        conversation_channel(conv.id), await visitor_state(session=session, conv=conv)
    )
    await bus.publish_after_commit(AGENTS_CHANNEL, queue_event(conv))
    return conv


async def close(
    *,
    session: AsyncSession,
    bus: Bus,
    conversation_id: int,
    agent: Agent,
    routing: Routing | None = None,
) -> Conversation:
    """Close the conversation and ask for a rating; the next message starts a new one."""
    conv = await get_conversation(session=session, conversation_id=conversation_id)
    if conv.state == S.ASSIGNED and conv.assigned_agent_id != agent.id:
        raise Forbidden("only the assigned agent can close this conversation")
    was_queued = conv.state == S.QUEUED
    was_assigned = conv.state == S.ASSIGNED
    conv.move_to(S.CLOSED)
    conv.closed_at = utcnow()
    ticket = await session.scalar(select(Ticket).where(Ticket.conversation_id == conv.id))
    if ticket is not None:
        ticket.status = TicketStatus.SOLVED
    msg = await append_message(
        session=session,
        conversation_id=conv.id,
        sender=Sender.SYSTEM,
        text=f"{agent.name} closed the conversation.",
        meta={"kind": "closed"},
    )
    rating_request = await append_message(
        session=session,
        conversation_id=conv.id,
        sender=Sender.SYSTEM,
        text=RATING_REQUEST_TEXT,
        meta={"kind": "rating_request"},
    )
    await session.commit()
    await bus.publish_after_commit(conversation_channel(conv.id), message_event(msg))
    await bus.publish_after_commit(conversation_channel(conv.id), message_event(rating_request))
    await bus.publish_after_commit(
        conversation_channel(conv.id), await visitor_state(session=session, conv=conv)
    )
    await bus.publish_after_commit(AGENTS_CHANNEL, queue_event(conv))
    if was_queued:
        await publish_queue_positions(session=session, bus=bus)
    if was_assigned and routing is not None:
        await drain_queue(session=session, bus=bus, routing=routing)  # a slot freed up
        conv = await get_conversation(session=session, conversation_id=conversation_id)
    return conv


async def list_conversations(
    *, session: AsyncSession, states: Sequence[ConversationState], agent_id: int | None = None
) -> Sequence[Conversation]:
    """Conversations in the given states (optionally only one agent's), oldest first."""
    query = select(Conversation).where(Conversation.state.in_(states))
    if agent_id is not None:
        query = query.where(Conversation.assigned_agent_id == agent_id)
    return (await session.scalars(query.order_by(Conversation.queued_at, Conversation.id))).all()
