"""The visitor socket (`/ws/visitor`): hello, then one handler per frame type."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, WebSocket
from sqlalchemy.ext.asyncio import AsyncSession

from app import logs
from app.identity import origin_allowed, verify_identity
from app.limits import Action, Limiter, RateLimited
from app.ws.connection import CLOSE_POLICY, CLOSE_RESTART, HEARTBEAT_S, Connection
from app.ws.frames import (
    Choice,
    Feedback,
    Frame,
    Handoff,
    Hello,
    LeaveEmail,
    Nps,
    Rate,
    RequestTicket,
    SendMessage,
    Transcript,
    Typing,
    ref_of,
    visitor_frames,
)
from app.ws.handlers import in_session, receive_hello
from handoff import bot_turn, escalation, feedback, team_routing, tickets, transcripts, visitors
from handoff.conversations import get_conversation, remember_locale
from handoff.errors import Conflict
from handoff.routing import Routing
from handoff.states import ConversationState
from handoff.writer import MessageWriter, Stored

router = APIRouter()


class VisitorSocket:
    """One visitor's socket after hello: who they are and the conversation they are in."""

    def __init__(self, conn: Connection, visitor_id: int, locale: str | None = None) -> None:
        self.conn = conn
        self.visitor_id = visitor_id
        self.locale = locale  # the hello's: the bot's own sentences are written in it
        self.conversation_id = 0  # set by the first welcome
        self.settings = conn.app.state.settings
        self.routing: Routing = conn.app.state.routing
        self.bus = conn.bus
        self.writer: MessageWriter = conn.app.state.writer
        self.limiter: Limiter = conn.app.state.limiter
        self.ip = client_ip(conn)

    async def welcome(
        self,
        conversation_id: int,
        after_seq: int,
        state: dict[str, Any],
        *,
        caught_up: bool = False,
    ) -> None:
        """Tell the client its token and conversation, then stream it from `after_seq`."""
        self.conn.unwatch_all()
        frame: dict[str, Any] = {
            "type": "welcome",
            "token": self.conn.app.state.tokens.for_visitor(self.visitor_id),
            "visitor_id": self.visitor_id,
            "conversation_id": conversation_id,
            "heartbeat_s": HEARTBEAT_S,
            "state": state,
        }
        if self.settings.topic_choice:  # one read more per hello, only when it is on
            async with self.conn.read_session() as session:
                frame["topics"] = await team_routing.topics(session=session)
        await self.conn.send(frame)
        self.conn.state = state
        self.conn.watch(conversation_id, after_seq, caught_up=caught_up)
        self.conversation_id = conversation_id

    async def handle(self, frame: Frame) -> None:
        """Dispatch one parsed frame to its handler (in a database session if it uses one),
        within limits.

        A frame over a limit gets `rate_limited` and is not handled: nothing is stored.
        """
        handler = HANDLERS.get(type(frame))
        if handler is None:
            return
        logs.conversation_id.set(self.conversation_id)
        try:
            await self._spend(limited_actions(frame))
            await handler(self, frame)
        except RateLimited as refused:
            await self.conn.send(refused.frame(ref_of(frame)))

    async def _spend(self, actions: tuple[Action, ...]) -> None:
        await self.limiter.check(actions, ip=self.ip, visitor_id=self.visitor_id)

    async def _open_conversation(self, session: AsyncSession) -> int:
        """A message after close starts a new conversation, announced with a fresh welcome."""
        current = await get_conversation(session=session, conversation_id=self.conversation_id)
        if current.state == ConversationState.CLOSED:  # this frame starts a new conversation
            await self._spend((Action.NEW_CONVERSATION,))
        conv, new_state = await visitors.conversation_for_message(
            session=session, visitor_id=self.visitor_id, current_id=self.conversation_id
        )
        if new_state is not None:
            await self.welcome(conv.id, 0, new_state)
        return conv.id

    async def _post(self, frame: SendMessage) -> Stored | None:
        return await visitors.post_visitor_message(
            writer=self.writer,
            bus=self.bus,
            conversation_id=self.conversation_id,
            client_msg_id=frame.client_msg_id,
            text=frame.text.strip(),
        )

    async def on_message(self, frame: SendMessage) -> None:
        """Store, confirm, let the bot answer; a session only for what needs one (not a ticket's
        or an agent's chat: the hot path).

        In a chat with the bot, the bot starts on the question as it arrives: the model and
        the database work side by side, and its decision is dropped if, once stored, the
        message is not the bot's to answer (a person took over meanwhile, or a resend).
        """
        brain = self.conn.app.state.brain
        with_bot = self.conn.state is not None and self.conn.state.get("state") == "bot"
        thinking = asyncio.ensure_future(brain.decide(frame.text)) if with_bot else None
        try:
            stored = await self._post(frame)
            if stored is None:  # the conversation was closed meanwhile: this starts a new one
                async with self.conn.session() as session:
                    await self._open_conversation(session)
                stored = await self._post(frame)
                if stored is None:
                    raise Conflict("the conversation was closed; send the message again")
            await self.conn.confirm(stored)
            if not bot_turn.bot_answers(stored):
                return
            async with self.conn.session() as session:
                await bot_turn.bot_turn(
                    session=session,
                    writer=self.writer,
                    bus=self.bus,
                    brain=brain,
                    stored=stored,
                    text=frame.text,
                    routing=self.routing,
                    locale=self.locale,
                    thinking=thinking,
                )
        finally:
            # Not needed after all (or the handler failed): stop it; if it had finished, its
            # error (if any) is taken here rather than logged as never retrieved.
            if thinking is not None and not thinking.cancel() and not thinking.cancelled():
                thinking.exception()

    async def on_choice(self, session: AsyncSession, frame: Choice) -> None:
        cid = await self._open_conversation(session)
        posted = await bot_turn.choose_option(
            session=session,
            bus=self.bus,
            brain=self.conn.app.state.brain,
            conversation_id=cid,
            client_msg_id=frame.client_msg_id,
            entry_id=frame.entry_id,
            routing=self.routing,
        )
        await self.conn.confirm(posted)

    async def on_handoff(self, session: AsyncSession, frame: Handoff) -> None:
        cid = await self._open_conversation(session)
        posted = await escalation.request_human(
            session=session,
            bus=self.bus,
            conversation_id=cid,
            client_msg_id=frame.client_msg_id,
            routing=self.routing,
            team_id=frame.team_id,
        )
        await self.conn.confirm(posted)

    async def on_email(self, session: AsyncSession, frame: LeaveEmail) -> None:
        await visitors.leave_email(
            session=session,
            bus=self.bus,
            visitor_id=self.visitor_id,
            conversation_id=self.conversation_id,
            email=frame.email,
        )

    async def on_feedback(self, session: AsyncSession, frame: Feedback) -> None:
        await feedback.record_helpful(
            session=session,
            conversation_id=self.conversation_id,
            seq=frame.seq,
            helpful=frame.helpful,
        )
        await self.conn.send({"type": "feedback_saved", "seq": frame.seq})

    async def on_rating(self, session: AsyncSession, frame: Rate) -> None:
        await feedback.rate(
            session=session, visitor_id=self.visitor_id, stars=frame.stars, comment=frame.comment
        )
        # The second question comes after the stars, only when it is switched on (issue 15).
        await self.conn.send({"type": "rating_saved", "nps": self.settings.nps_question})

    async def on_nps(self, session: AsyncSession, frame: Nps) -> None:
        await feedback.answer_nps(
            session=session, visitor_id=self.visitor_id, score=frame.score,
            enabled=self.settings.nps_question,
        )
        await self.conn.send({"type": "nps_saved"})

    async def on_request_ticket(self, session: AsyncSession, frame: RequestTicket) -> None:
        posted = await tickets.request_ticket(
            session=session,
            bus=self.bus,
            conversation_id=self.conversation_id,
            client_msg_id=frame.client_msg_id,
            routing=self.routing,
        )
        await self.conn.confirm(posted)

    async def on_transcript(self, session: AsyncSession, frame: Transcript) -> None:
        email = await transcripts.email_transcript(
            session=session,
            mail=self.settings.mail(),
            limits=self.settings.transcript_limits(),
            visitor_id=self.visitor_id,
            conversation_id=self.conversation_id,
            email=frame.email,
        )
        await self.conn.send({"type": "transcript_sent", "email": email})

    async def on_typing(self, session: AsyncSession, frame: Typing) -> None:
        await visitors.visitor_typing(
            session=session, bus=self.bus, conversation_id=self.conversation_id, draft=frame.draft
        )


Handler = Callable[[VisitorSocket, Any], Awaitable[None]]
# What each frame spends of the abuse limits (app/limits.py), counted before it is handled.
LIMITS: dict[type[Frame], tuple[Action, ...]] = {
    SendMessage: (Action.MESSAGE,),
    Choice: (Action.MESSAGE,),
    Handoff: (Action.HANDOFF,),
    RequestTicket: (Action.HANDOFF,),
    LeaveEmail: (Action.EMAIL,),
    Typing: (Action.TYPING,),
    Feedback: (Action.OTHER,),
    Rate: (Action.OTHER,),
    Nps: (Action.OTHER,),
    Transcript: (Action.OTHER,),
}
# Ping is answered by the connection itself; a second hello is refused there.
HANDLERS: dict[type[Frame], Handler] = {
    SendMessage: VisitorSocket.on_message,
    Choice: in_session(VisitorSocket.on_choice),
    Handoff: in_session(VisitorSocket.on_handoff),
    LeaveEmail: in_session(VisitorSocket.on_email),
    Feedback: in_session(VisitorSocket.on_feedback),
    Rate: in_session(VisitorSocket.on_rating),
    Nps: in_session(VisitorSocket.on_nps),
    RequestTicket: in_session(VisitorSocket.on_request_ticket),
    Transcript: in_session(VisitorSocket.on_transcript),
    Typing: in_session(VisitorSocket.on_typing),
}


def limited_actions(frame: Frame) -> tuple[Action, ...]:
    """The limits a frame counts against ("none of these" also asks for a person)."""
    if isinstance(frame, Choice) and frame.entry_id is None:
        return (Action.MESSAGE, Action.HANDOFF)
    return LIMITS.get(type(frame), (Action.OTHER,))


def client_ip(conn: Connection) -> str | None:
    """The visitor's IP: the socket's peer, or whom a trusted proxy forwarded (app/cli.py)."""
    return conn.ws.client.host if conn.ws.client else None


@router.websocket("/ws/visitor")
async def visitor_socket(ws: WebSocket) -> None:
    """A visitor's chat: refused while draining or from a foreign origin, then served."""
    if ws.app.state.hub.draining:
        await ws.close(CLOSE_RESTART, "server restarting")
        return
    if not origin_allowed(ws.headers.get("origin"), ws.app.state.settings.allowed_origins):
        await ws.close(CLOSE_POLICY, "origin not allowed")  # before accept: HTTP 403
        return
    await ws.accept()
    conn = Connection(ws, for_agent=False)
    await ws.app.state.hub.run(conn, lambda: _serve_visitor(conn))


async def _serve_visitor(conn: Connection) -> None:
    socket = await _say_hello(conn)
    if socket is not None:
        await conn.serve(socket.handle, visitor_frames)


async def _hello_within_limits(conn: Connection) -> tuple[Hello, int | None] | None:
    """The hello and the visitor its token names; a hello over the limits is refused, and the
    client may say hello again. None if it never said one."""
    while True:
        hello = await receive_hello(conn, visitor_frames)
        if hello is None:
            return None
        tokens = conn.app.state.tokens
        visitor_id = tokens.visitor_id(hello.token) if hello.token else None
        if hello.token and visitor_id is None:
            await conn.send_error("invalid_token", "unknown visitor token; starting a new visitor")
        # A first visit stores a visitor and a conversation.
        first = (Action.NEW_VISITOR, Action.NEW_CONVERSATION) if visitor_id is None else ()
        try:
            await conn.app.state.limiter.check(
                (Action.HELLO, *first), ip=client_ip(conn), visitor_id=visitor_id
            )
        except RateLimited as refused:
            await conn.send(refused.frame(None))
            continue
        return hello, visitor_id


async def _say_hello(conn: Connection) -> VisitorSocket | None:
    """Hello -> welcome; the socket, or None if the client never said hello.

    Apart from serving, so that nothing of the hello (frame, rows) stays alive with the socket.
    """
    received = await _hello_within_limits(conn)
    if received is None:
        return None
    hello, visitor_id = received
    app = conn.app
    site = None
    if hello.identity is not None:
        site = verify_identity(hello.identity, secret=app.state.settings.identity_secret)
        if site is None:
            await conn.send_error("invalid_identity", "identity did not verify; ignored")
    named = hello.conversation_id
    if named is not None:
        # Heard from before it is read: if the read finds nothing after the client's last seq,
        # there is nothing to catch up (whatever comes later arrives on the bus).
        conn.subscribe(named)
    # An anonymous hello only reads (new rows go through the writer): on SQLite it then
    # takes no write lock. A signed identity may update its visitor: a writing session.
    async with conn.session() if site else conn.read_session() as session:
        resumed = await visitors.resume(
            session=session,
            writer=app.state.writer,
            reader=app.state.visitor_reader,
            visitor_id=visitor_id,
            name=hello.name,
            locale=hello.locale,
            page_url=hello.page_url,
            verified=site,
            conversation_id=hello.conversation_id,
            last_seq=hello.last_seq,
            keep_page_query=app.state.settings.keep_page_query,
        )
    if resumed.new_locale is not None:
        async with conn.session() as session:
            await remember_locale(
                session=session, visitor_id=resumed.visitor_id, locale=resumed.new_locale
            )
    if resumed.refused_conversation:
        await conn.send_error("forbidden", "that conversation is not yours")
    conv = resumed.conversation
    if named is not None and named != conv.id:
        conn.unsubscribe(named)
    caught_up = resumed.new_conversation or (
        conv.id == named and conv.last_seq <= resumed.after_seq
    )
    socket = VisitorSocket(conn, resumed.visitor_id, hello.locale)
    await socket.welcome(conv.id, resumed.after_seq, resumed.state, caught_up=caught_up)
    return socket
