"""Client frames: every refusal gets the error code docs/protocol.md documents; valid ones parse.

(No __init__.py in this folder on purpose: it would make `tests/app` shadow the `app` package.)
"""

from __future__ import annotations

import json

import pytest

from app.ws.frames import (
    MAX_FRAME_BYTES,
    Choice,
    FrameError,
    Hello,
    Rate,
    SendMessage,
    Watch,
    agent_frames,
    parse_frame,
    visitor_frames,
)
from handoff.models import MESSAGE_TEXT_MAX

VISITOR, AGENT = visitor_frames, agent_frames


def frame(**fields: object) -> str:
    return json.dumps(fields, ensure_ascii=False)


def refused(raw: str | bytes | None, adapter=VISITOR) -> FrameError:
    with pytest.raises(FrameError) as caught:
        parse_frame(raw, adapter)
    return caught.value


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{not json", "bad_json"),
        ("", "bad_json"),
        (b'{"type": "ping"}', "bad_frame"),  # a binary frame, even with JSON inside
        (None, "bad_frame"),
        ("[1, 2]", "bad_frame"),
        ('"ping"', "bad_frame"),
        ('{"text": "no type"}', "bad_frame"),
        ('{"type": 7}', "bad_frame"),
        (frame(type="message", client_msg_id="m1", text="x" * MAX_FRAME_BYTES), "too_large"),
        (frame(type="dance"), "unknown_type"),
    ],
)
def test_malformed_frames_get_their_error_code(raw: str | bytes | None, code: str) -> None:
    assert refused(raw).code == code


def test_a_frame_of_the_other_socket_is_an_unknown_type() -> None:
    assert refused(frame(type="watch", conversation_id=1), VISITOR).code == "unknown_type"
    assert refused(frame(type="handoff", client_msg_id="h1"), AGENT).code == "unknown_type"
    assert refused(frame(type="note", conversation_id=1, client_msg_id="n", text="x")).code == (
        "unknown_type"
    )


@pytest.mark.parametrize(
    ("fields", "names"),
    [
        ({"type": "message", "text": "hi"}, "client_msg_id"),
        ({"type": "message", "client_msg_id": "", "text": "hi"}, "client_msg_id"),
        ({"type": "message", "client_msg_id": "m" * 65, "text": "hi"}, "client_msg_id"),
        ({"type": "message", "client_msg_id": "m1", "text": 5}, "text"),
        ({"type": "rating", "stars": 6}, "stars"),
        ({"type": "rating", "stars": 0}, "stars"),
        ({"type": "hello", "last_seq": -1}, "last_seq"),
        ({"type": "feedback", "seq": 3, "helpful": "very"}, "helpful"),
        ({"type": "choice", "client_msg_id": "c1"}, "entry_id"),
    ],
)
def test_a_bad_field_is_an_invalid_frame_that_names_it(fields: dict, names: str) -> None:
    error = refused(json.dumps(fields))
    assert error.code == "invalid_frame"
    assert error.message.startswith(names), error.message


def test_agent_frames_are_checked_too() -> None:
    assert refused(frame(type="status", status="offline"), AGENT).code == "invalid_frame"
    assert refused(frame(type="watch"), AGENT).code == "invalid_frame"


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_blank_text_is_refused_with_the_message_id_as_ref(text: str) -> None:
    error = refused(frame(type="message", client_msg_id="m1", text=text))
    assert (error.code, error.ref) == ("invalid_frame", "m1")
    assert "empty" in error.message


def test_text_is_limited_in_utf8_bytes_not_characters() -> None:
    at_limit = "x" * MESSAGE_TEXT_MAX
    assert parse_frame(frame(type="message", client_msg_id="m1", text=at_limit), VISITOR)

    error = refused(frame(type="message", client_msg_id="m1", text=at_limit + "x"))
    assert (error.code, error.ref) == ("too_long", "m1")
    # 4097 characters, but 8194 bytes of UTF-8.
    umlauts = "ü" * (MESSAGE_TEXT_MAX // 2 + 1)
    assert refused(frame(type="message", client_msg_id="m2", text=umlauts)).code == "too_long"
    note = frame(type="note", conversation_id=1, client_msg_id="n1", text=at_limit + "x")
    assert refused(note, AGENT).code == "too_long"


def test_valid_frames_parse_to_their_models() -> None:
    message = parse_frame(
        frame(type="message", client_msg_id="m1", text="Hallo, wo ist…?"), VISITOR
    )
    assert isinstance(message, SendMessage)
    assert (message.client_msg_id, message.text) == ("m1", "Hallo, wo ist…?")

    hello = parse_frame(frame(type="hello", token=None, conversation_id=None), VISITOR)
    assert isinstance(hello, Hello) and hello.last_seq == 0, "last_seq defaults to 0"

    none_of_these = parse_frame(frame(type="choice", client_msg_id="c1", entry_id=None), VISITOR)
    assert isinstance(none_of_these, Choice) and none_of_these.entry_id is None

    rating = parse_frame(frame(type="rating", stars=5, extra="ignored"), VISITOR)
    assert isinstance(rating, Rate) and (rating.stars, rating.comment) == (5, None)

    watch = parse_frame(frame(type="watch", conversation_id=7, last_seq=3), AGENT)
    assert isinstance(watch, Watch) and (watch.conversation_id, watch.last_seq) == (7, 3)
