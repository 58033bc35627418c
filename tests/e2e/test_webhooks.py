"""Outgoing webhooks against a real receiver: signed as docs/integrations.md says, every event
type a chat goes through, retries until the receiver answers, the log, the hot path's cost."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from prometheus_client import REGISTRY

from handoff.webhooks import EVENT_TYPES
from tests.client import visitor
from tests.conftest import Server, make_settings, run_server, seed_kb
from tests.e2e.test_privacy import admin_token
from tests.e2e.test_statement_budget import VISITOR_MESSAGE_IN_A_TICKET, StatementCounter, ask
from tests.webhook_receiver import Receiver, documented_verify, types

HOOKS = "/api/admin/webhooks"


@pytest.fixture
async def fast_retries(database_url: str) -> AsyncIterator[Server]:
    """chatdesk retrying failed webhooks within a fraction of a second, three times at most."""
    await seed_kb(database_url)
    settings = make_settings(
        database_url, webhook_retry_base_s=0.05, webhook_retry_max_s=0.2, webhook_max_attempts=3
    )
    async with run_server(settings) as srv:
        yield srv


async def add_endpoint(server: Server, token: str, url: str, event_types: Any) -> dict[str, Any]:
    async with server.http(token) as http:
        r = await http.post(HOOKS, json={"url": url, "event_types": list(event_types)})
        assert r.status_code == 201, r.text
        created: dict[str, Any] = r.json()
        assert created["secret"].startswith("whsec_")
        listed = (await http.get(HOOKS)).json()["endpoints"]
        assert "secret" not in listed[0]  # shown once, never again
        return created


def counted(result: str) -> float:
    return REGISTRY.get_sample_value("chatdesk_webhook_deliveries_total", {"result": result}) or 0


async def test_a_chat_reaches_a_real_receiver_signed(server: Server) -> None:
    token = await admin_token(server)
    verify = documented_verify()
    with Receiver() as receiver:
        endpoint = await add_endpoint(server, token, receiver.url, EVENT_TYPES)
        client, welcome = await visitor(server)
        await ask(client, "how much do you charge for postage?")  # the bot answers
        await client.expect(lambda f: f.get("type") == "message" and f["sender"] == "bot")
        await client.send({"type": "handoff", "client_msg_id": "h1"})  # nobody online: ticket
        await client.expect_type("state", state="ticket")
        cid = welcome["conversation_id"]
        async with server.http(token) as http:
            reply = {"client_msg_id": "r1", "text": "We ship for 4.90."}
            conv = f"/api/agent/conversations/{cid}"
            assert (await http.post(conv + "/ticket-reply", json=reply)).status_code < 300
            assert (await http.post(conv + "/take")).status_code < 300
            assert (await http.post(conv + "/close")).status_code < 300
        await client.expect_type("state", state="closed")
        await client.send({"type": "rating", "stars": 5, "comment": "quick"})
        wanted = set(EVENT_TYPES) - {"sla.breached"}
        got = await receiver.until(lambda rs: wanted <= set(types(rs)))
        await client.close()
    for r in got:
        event = verify(endpoint["secret"], r.headers, r.body)  # the docs' receiver accepts it
        assert event["version"] == 1 and r.headers["X-Chatdesk-Event"] == event["type"]
        assert r.headers["X-Chatdesk-Delivery"] and r.headers["Content-Type"] == "application/json"
        with pytest.raises(ValueError, match="signature"):
            verify(endpoint["secret"] + "x", r.headers, r.body)
        with pytest.raises(ValueError, match="signature"):
            verify(endpoint["secret"], r.headers, r.body.replace(b'"version":1', b'"version":2'))
        with pytest.raises(ValueError, match="replay"):
            verify(endpoint["secret"], r.headers, r.body, now=time.time() + 301)
    by_type = {r.event["type"]: r.event["data"] for r in got}
    assert by_type["conversation.created"]["conversation"]["id"] == cid
    assert by_type["conversation.escalated"]["to"] == "ticket"
    assert by_type["conversation.assigned"]["agent"]["name"] == "Ada"
    assert by_type["conversation.rated"]["rating"] == {"stars": 5, "comment": "quick"}
    assert by_type["ticket.created"]["ticket"]["conversation_id"] == cid
    of = {t: [r.event["data"] for r in got if r.event["type"] == t] for t in EVENT_TYPES}
    senders = {d["message"]["sender"] for d in of["message.created"]}
    assert senders == {"visitor", "bot", "agent"}  # not the system lines
    assert {d["ticket"]["status"] for d in of["ticket.updated"]} == {"pending", "solved"}
    assert len({r.event["id"] for r in got}) == len(got)  # one id per event


async def test_a_failing_receiver_gets_retries_then_success_logged(fast_retries: Server) -> None:
    server = fast_retries
    token = await admin_token(server)
    before = counted("retrying"), counted("delivered")
    with Receiver(status_for=lambda n: 500 if n < 2 else 200) as receiver:
        endpoint = await add_endpoint(server, token, receiver.url, ["ticket.created"])
        async with server.http(token) as http:
            r = await http.post(f"{HOOKS}/{endpoint['id']}/test")
            assert r.status_code == 202
            event_id = r.json()["event_id"]
            got = await receiver.until(lambda rs: len(rs) >= 3)
            log = await until_logged(http, endpoint["id"], lambda d: d["status"] == "delivered")
    assert [r.answered for r in got] == [500, 500, 200]
    assert {r.event["id"] for r in got} == {event_id}  # the same idempotency key every time
    assert len({r.headers["X-Chatdesk-Delivery"] for r in got}) == 1
    assert log["event_type"] == "webhook.test" and log["event_id"] == event_id
    assert [a["status_code"] for a in log["attempts"]] == [500, 500, 200]
    assert all(a["duration_ms"] >= 0 and a["at"] for a in log["attempts"])
    assert counted("retrying") - before[0] == 2 and counted("delivered") - before[1] == 1


async def test_given_up_after_the_last_attempt_then_retried_by_hand(fast_retries: Server) -> None:
    server = fast_retries
    token = await admin_token(server)
    answers = {"status": 503}
    with Receiver(status_for=lambda n: answers["status"]) as receiver:
        endpoint = await add_endpoint(server, token, receiver.url, ["ticket.created"])
        async with server.http(token) as http:
            await http.post(f"{HOOKS}/{endpoint['id']}/test")
            failed = await until_logged(http, endpoint["id"], lambda d: d["status"] == "failed")
            assert [a["status_code"] for a in failed["attempts"]] == [503, 503, 503]
            answers["status"] = 200  # the receiver is fixed
            path = f"{HOOKS}/{endpoint['id']}/deliveries/{failed['id']}/retry"
            assert (await http.post(path)).status_code == 202
            done = await until_logged(http, endpoint["id"], lambda d: d["status"] == "delivered")
            assert [a["status_code"] for a in done["attempts"]][-1] == 200
            audit = (await http.get("/api/admin/audit")).json()
        assert len(receiver.snapshot()) == 4
    actions = {e["action"] for e in audit}
    assert {"webhook_created", "webhook_test_sent", "webhook_redelivered"} <= actions


async def test_a_receiver_that_went_away_is_logged_as_an_error(fast_retries: Server) -> None:
    server = fast_retries
    token = await admin_token(server)
    with Receiver() as gone:
        url = gone.url  # a port nobody listens on once the block ends
    endpoint = await add_endpoint(server, token, url, ["ticket.created"])
    async with server.http(token) as http:
        await http.post(f"{HOOKS}/{endpoint['id']}/test")
        failed = await until_logged(http, endpoint["id"], lambda d: d["status"] == "failed")
    assert all(a["status_code"] is None and "Connect" in a["error"] for a in failed["attempts"])


async def until_logged(http: Any, endpoint_id: int, done: Any, timeout_s: float = 20) -> Any:
    """The endpoint's newest delivery, once `done(it)`."""
    deadline = time.monotonic() + timeout_s
    while True:
        log = (await http.get(f"{HOOKS}/{endpoint_id}/deliveries")).json()
        if log and done(log[0]):
            return log[0]
        assert time.monotonic() < deadline, log
        await asyncio.sleep(0.1)


async def test_message_created_costs_one_insert_per_batch(server: Server) -> None:
    token = await admin_token(server)
    with Receiver() as receiver:
        await add_endpoint(server, token, receiver.url, ["message.created"])
        client, _ = await visitor(server)
        await client.send({"type": "handoff", "client_msg_id": "h1"})  # nobody online: a ticket
        await client.expect_type("state", state="ticket")
        await ask(client, "warm up")
        counter = StatementCounter(server)
        try:
            for i in range(5):
                await ask(client, f"more details, part {i}")
            await client.drain(0.3)
            statements = counter.take()
        finally:
            counter.stop()
        inserts = [s for s in statements if s.startswith("INSERT INTO webhook_events")]
        others = [s for s in statements if "webhook" not in s]
        assert len(inserts) == 5 and len(others) <= 5 * VISITOR_MESSAGE_IN_A_TICKET, statements
        texts = [f"more details, part {i}" for i in range(5)]
        await receiver.until(
            lambda rs: set(texts) <= {r.event["data"]["message"]["text"] for r in rs}
        )
        await client.close()
