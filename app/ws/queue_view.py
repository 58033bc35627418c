"""A visitor socket's own place in the queue, worked out from the one queue broadcast.

A queue change publishes the whole queue once (handoff/queue.py `publish_queue_positions`);
every visitor socket looks its own conversation up in it, so the bus carries one event per
change instead of one per queued visitor. The frame the visitor gets is the `state` frame
they would have got before: same fields, same numbers.
"""

from __future__ import annotations

from typing import Any

from handoff.queue import estimated_wait_s

# The last broadcast's lookup tables: every socket of the process receives the same event
# object, so the first socket to look builds them and the others reuse them (O(queue) once
# per change and process, not once per socket).
_cached: tuple[dict[str, Any] | None, dict[int, int], frozenset[int]] = (None, {}, frozenset())


def _tables(event: dict[str, Any]) -> tuple[dict[int, int], frozenset[int]]:
    global _cached
    if _cached[0] is not event:
        places = {cid: place for place, cid in enumerate(event.get("queued") or (), start=1)}
        _cached = (event, places, frozenset(event.get("offered") or ()))
    return _cached[1], _cached[2]


def queue_update(state: dict[str, Any] | None, event: dict[str, Any]) -> dict[str, Any] | None:
    """The `state` frame a queued visitor should see after a queue broadcast; None when they
    are not queued, or nothing they see changed."""
    if state is None or state.get("state") != "queued":
        return None
    cid = state.get("conversation_id")
    places, offered = _tables(event)
    place = places.get(cid)  # type: ignore[arg-type]
    if place is None:
        return None  # left the queue: the conversation's own state event says where to
    fresh = dict(
        state,
        queue_position=place,
        estimated_wait_s=estimated_wait_s(event.get("median_wait_s"), place),
        ticket_offer=cid in offered,
    )
    return None if fresh == state else fresh
