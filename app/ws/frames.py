"""Websocket frames: the client frames each socket accepts, parsed with precise errors.

docs/protocol.md is the reference; the server's own frames are built by the handoff
services (handoff/events.py) and by `ack` below.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from app.schemas import ClientMsgId, IdentityClaim
from handoff.messages import Posted
from handoff.models import MESSAGE_TEXT_MAX, ROW_ID_MAX
from handoff.report_models import NPS_MAX
from handoff.writer import Stored

# A whole frame. The largest valid one is a message of MESSAGE_TEXT_MAX bytes that JSON escapes
# to six bytes each (\u0001), plus its other fields. The server's websocket layer refuses bigger
# frames before buffering them (uvicorn's ws_max_size: app/cli.py, close 1009); this check
# holds when the app is served some other way.
MAX_FRAME_BYTES = 64 * 1024
# JSON can spell a NUL ("\u0000", which PostgreSQL text cannot hold) and a lone UTF-16
# surrogate ("\ud800", which no UTF-8 text holds); only a frame with such an escape is walked.
ODD_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
PositiveSeq = Annotated[int, Field(ge=0, le=ROW_ID_MAX)]
RowId = Annotated[int, Field(ge=0, le=ROW_ID_MAX)]  # bigger numbers would fail in the database
MAX_DEPTH = 64  # no frame nests this deep; walking deeper is refused, not recursed


class Frame(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Hello(Frame):
    type: Literal["hello"]
    token: str | None = None
    conversation_id: RowId | None = None
    last_seq: PositiveSeq = 0
    name: Annotated[str, Field(max_length=200)] | None = None
    locale: Annotated[str, Field(max_length=35)] | None = None
    page_url: Annotated[str, Field(max_length=2048)] | None = None
    identity: IdentityClaim | None = None  # visitors only; ignored unless the signature verifies


class Ping(Frame):
    type: Literal["ping"]


class SendMessage(Frame):
    type: Literal["message"]
    client_msg_id: ClientMsgId
    text: str
    conversation_id: RowId | None = None  # agents name the conversation; visitors have one
    # Agents: the canned reply this text came from, if any (its uses are counted,
    # handoff/canned_stats.py); visitors' frames ignore it.
    canned_reply_id: RowId | None = None


class Note(Frame):
    type: Literal["note"]
    client_msg_id: ClientMsgId
    text: str
    conversation_id: RowId


class Choice(Frame):
    type: Literal["choice"]
    client_msg_id: ClientMsgId
    entry_id: str | None  # None means "none of these"


class Handoff(Frame):
    type: Literal["handoff"]
    client_msg_id: ClientMsgId
    team_id: RowId | None = None  # a topic of the welcome's `topics` (the topic choice)


class LeaveEmail(Frame):
    type: Literal["email"]
    email: Annotated[str, Field(max_length=320)]


class Feedback(Frame):
    """ "Was this helpful?" on a bot answer."""

    type: Literal["feedback"]
    seq: Annotated[int, Field(ge=1, le=ROW_ID_MAX)]
    helpful: bool


class Rate(Frame):
    type: Literal["rating"]
    stars: Annotated[int, Field(ge=1, le=5)]
    comment: Annotated[str, Field(max_length=2000)] | None = None


class Nps(Frame):
    """The optional second post-chat question: "How likely are you to recommend us?" 0-10."""

    type: Literal["nps"]
    score: Annotated[int, Field(ge=0, le=NPS_MAX)]


class RequestTicket(Frame):
    """ "E-mail me instead" while waiting in the queue."""

    type: Literal["request_ticket"]
    client_msg_id: ClientMsgId


class Transcript(Frame):
    type: Literal["transcript"]
    email: Annotated[str, Field(max_length=320)]


class Typing(Frame):
    type: Literal["typing"]
    draft: Annotated[str, Field(max_length=MESSAGE_TEXT_MAX)] | None = None
    conversation_id: RowId | None = None


class SetStatus(Frame):
    """The agent's own status: away agents get no new chats (offline is closing the tab)."""

    type: Literal["status"]
    status: Literal["online", "away"]


class Watch(Frame):
    type: Literal["watch"]
    conversation_id: RowId
    last_seq: PositiveSeq = 0


class Unwatch(Frame):
    type: Literal["unwatch"]
    conversation_id: RowId


VisitorFrame = Annotated[
    Hello
    | Ping
    | SendMessage
    | Choice
    | Handoff
    | LeaveEmail
    | Typing
    | Feedback
    | Rate
    | Nps
    | RequestTicket
    | Transcript,
    Field(discriminator="type"),
]
AgentFrame = Annotated[
    Hello | Ping | SendMessage | Note | Typing | Watch | Unwatch | SetStatus,
    Field(discriminator="type"),
]
visitor_frames: TypeAdapter[Any] = TypeAdapter(VisitorFrame)
agent_frames: TypeAdapter[Any] = TypeAdapter(AgentFrame)


class FrameError(Exception):
    """A client frame we refuse; the connection stays open."""

    def __init__(self, code: str, message: str, ref: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.ref = code, message, ref


def parse_frame(raw: str | bytes | None, adapter: TypeAdapter[Any]) -> Frame:
    """Decode and validate one client frame, or raise FrameError with a precise code."""
    if raw is None or isinstance(raw, bytes):
        raise FrameError("bad_frame", "frames are JSON text, not binary")
    if len(raw.encode()) > MAX_FRAME_BYTES:
        raise FrameError("too_large", f"frame is over {MAX_FRAME_BYTES} bytes")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise FrameError("bad_json", f"not JSON: {exc.msg}") from exc
    except RecursionError as exc:  # [[[[...]]]] deeper than the parser recurses
        raise FrameError("bad_json", "not JSON: nested too deeply") from exc
    if ODD_ESCAPE.search(raw) and not _storable(data, depth=0):
        raise FrameError("bad_json", "a string holds a NUL or a lone surrogate")
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise FrameError("bad_frame", "a frame is a JSON object with a string 'type'")
    ref = data.get("client_msg_id") if isinstance(data.get("client_msg_id"), str) else None
    try:
        frame: Frame = adapter.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] == "union_tag_invalid":
            raise FrameError("unknown_type", f"unknown frame type {data['type']!r}", ref) from exc
        where = ".".join(str(p) for p in first["loc"][1:]) or "frame"
        raise FrameError("invalid_frame", f"{where}: {first['msg']}", ref) from exc
    text = getattr(frame, "text", None)
    if isinstance(text, str):
        if len(text.encode()) > MESSAGE_TEXT_MAX:
            raise FrameError("too_long", f"text is over {MESSAGE_TEXT_MAX} bytes", ref)
        if not text.strip():
            raise FrameError("invalid_frame", "text: must not be empty", ref)
    return frame


def _storable(data: Any, *, depth: int) -> bool:
    """No string (key or value) holds a NUL or a lone surrogate (nor is it absurdly deep)."""
    if depth > MAX_DEPTH:
        return False
    if isinstance(data, dict):
        return all(
            _storable(k, depth=depth) and _storable(v, depth=depth + 1) for k, v in data.items()
        )
    if isinstance(data, list):
        return all(_storable(v, depth=depth + 1) for v in data)
    if isinstance(data, str):
        try:
            data.encode()
        except UnicodeEncodeError:
            return False
        return "\x00" not in data
    return True


def ref_of(frame: Frame | None) -> str | None:
    """The client_msg_id an error about this frame refers to, if it has one."""
    return getattr(frame, "client_msg_id", None)


def ack(posted: Posted | Stored) -> dict[str, Any]:
    """The `ack` frame: the message is committed with this seq (or was, for a resend)."""
    msg = posted.message
    return {
        "type": "ack",
        "conversation_id": msg.conversation_id,
        "client_msg_id": msg.client_msg_id,
        "seq": msg.seq,
        "duplicate": posted.duplicate,
    }
