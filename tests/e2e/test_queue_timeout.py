"""Issue 16 over real websockets: nobody waits forever in the queue, and a queue change is one
broadcast from which every waiting visitor's socket works out its own place."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from handoff import texts
from handoff.events import QUEUE_CHANNEL, QUEUE_EVENT, conversation_channel
from tests.client import ChatClient, agent, visitor
from tests.conftest import Server, make_settings, run_server, seed_kb
from tests.e2e.test_routing import add_agent

SWEEP_S = 0.05  # the queue-timeout sweep, a fraction of a second so tests never sleep minutes


async def queued_visitor(server: Server, *said: str) -> tuple[ChatClient, int, dict[str, Any]]:
    """A visitor who wrote `said` to the bot, then asked for a person and waits in the queue."""
    client, welcome = await visitor(server)
    cid = welcome["conversation_id"]
    for text in said:
        await client.say(text)
        await client.expect_ack()
    await client.send({"type": "handoff", "client_msg_id": "h1"})
    state = await client.expect_type("state", state="queued")
    return client, cid, state


def the_promise(client: ChatClient) -> dict[str, Any]:
    """The ticket's promise message (published just before the `state` frame saying ticket)."""
    [promise] = [m for m in client.messages() if m["meta"].get("kind") == "ticket"]
    return promise


@pytest.fixture
async def offering_server(database_url: str) -> AsyncIterator[Server]:
    """Offers a ticket after 0.2 s in the queue; no automatic ticket within a test's time."""
    await seed_kb(database_url)
    settings = make_settings(
        database_url,
        queue_offer_ticket_after_s=0.2,
        queue_ticket_after_s=3600,
        queue_timeout_sweep_s=SWEEP_S,
    )
    async with run_server(settings) as srv:
        yield srv


async def test_a_long_wait_offers_a_ticket_and_the_visitor_takes_it(
    offering_server: Server,
) -> None:
    ann = await agent(offering_server, await add_agent(offering_server, "ann@x.io", "Ann", 1))
    client, cid, first = await queued_visitor(offering_server, "where is my parcel?")
    assert first["ticket_offer"] is False, "nothing offered on joining the queue"

    offered = await client.expect_type("state", state="queued", ticket_offer=True)
    assert offered["queue_position"] == 1, "the offer does not cost the visitor their place"

    await client.send({"type": "email", "email": "eve@example.com"})
    await client.send({"type": "request_ticket", "client_msg_id": "t1"})
    ticket = (await client.expect_type("state", state="ticket"))["ticket"]
    assert ticket["email"] == "eve@example.com", "replies go to the address left in the offer"
    promise = the_promise(client)
    # The widget's ticket line shows the same words for the time as the promise (issue 16).
    assert ticket["reply_by_text"] and ticket["reply_by_text"] in promise["text"]
    await client.close()
    await ann.close()


async def test_nobody_free_for_too_long_turns_the_chat_into_a_ticket_with_everything(
    database_url: str,
) -> None:
    await seed_kb(database_url)
    settings = make_settings(
        database_url,
        routing_mode="auto",
        queue_offer_ticket_after_s=0.1,
        queue_ticket_after_s=0.4,
        queue_timeout_sweep_s=SWEEP_S,
    )
    async with run_server(settings) as server:
        token = await add_agent(server, "ann@x.io", "Ann", 1)
        ann = await agent(server, token)
        busy, _, _ = await queued_visitor(server)  # Ann's only slot: this one is assigned
        await busy.expect_type("state", state="assigned")
        waiting, cid, _ = await queued_visitor(server, "my order 1234 never came")
        await waiting.expect_type("state", state="queued", ticket_offer=True)
        await waiting.say("hello? still there?")
        await waiting.expect_ack()

        state = await waiting.expect_type("state", state="ticket")
        promise = the_promise(waiting)
        assert promise["text"].startswith(texts.text("ticket.why.queue_timeout"))
        assert state["ticket"]["reply_by_text"] in promise["text"]
        async with server.http(token) as http:
            shown = (await http.get(f"/api/agent/conversations/{cid}")).json()
            tickets = (await http.get("/api/agent/tickets")).json()
        said = [m["text"] for m in shown["messages"] if m["sender"] == "visitor"]
        assert said == [
            "my order 1234 never came",
            texts.text("visitor.asked_for_human"),
            "hello? still there?",
        ], "the ticket carries the whole transcript"
        assert [t["conversation_id"] for t in tickets] == [cid]
        for c in (busy, waiting, ann):
            await c.close()


async def test_a_queue_change_is_one_broadcast_and_each_socket_shows_its_own_place(
    database_url: str,
) -> None:
    await seed_kb(database_url)
    async with run_server(make_settings(database_url)) as server:  # manual: nobody auto-assigned
        token = await add_agent(server, "ann@x.io", "Ann", 1)
        ann = await agent(server, token)
        waiting = [await queued_visitor(server) for _ in range(8)]
        places = [state["queue_position"] for _, _, state in waiting]
        assert places == list(range(1, 9))
        # Listen as a replica would to everything published on the bus about the queue.
        heard = server.app.state.bus.subscribe()
        heard.add(QUEUE_CHANNEL)
        for _, cid, _ in waiting:
            heard.add(conversation_channel(cid))

        async with server.http(token) as http:
            r = await http.post(f"/api/agent/conversations/{waiting[0][1]}/take")
            assert r.status_code == 200

        for place, (client, cid, _) in enumerate(waiting[1:], start=1):
            moved = await client.expect_type("state", state="queued", queue_position=place)
            assert moved["conversation_id"] == cid
        published = []
        while (event := heard.get_nowait()) is not None:
            published.append(event)
        heard.close()
        others = {cid for _, cid, _ in waiting[1:]}
        per_visitor = [e for e in published if e.get("conversation_id") in others]
        assert per_visitor == [], "no publish per queued visitor any more"
        assert [e["type"] for e in published if e["type"] == QUEUE_EVENT] == [QUEUE_EVENT]
        for client, _, _ in waiting:
            await client.close()
        await ann.close()
