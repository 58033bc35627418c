"""`/metrics` as Prometheus reads it: parsed by the client library, moving with what happens."""

from __future__ import annotations

import asyncio

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.client import agent, visitor
from tests.conftest import Server, make_settings, run_server

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(http: httpx.AsyncClient) -> Samples:
    """Every sample of /metrics: (name, sorted labels) -> value."""
    r = await http.get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_move_with_a_visitor_the_bot_and_the_queue(server: Server) -> None:
    async with server.http() as http:
        before = await scrape(http)
        client, _ = await visitor(server)
        await client.say("how much is postage?")
        await client.expect(lambda f: f.get("type") == "message" and f["sender"] == "bot")
        during = await scrape(http)
        console = await agent(server, await server.create_agent())  # online: handoffs queue
        await client.send({"type": "handoff", "client_msg_id": "h1"})  # manual routing: queued
        await client.expect_type("state", state="queued")
        queued = await scrape(http)
        await console.close()
        await client.close()
        for _ in range(100):  # the server notices the closed sockets a moment later
            after = await scrape(http)
            if value(after, "chatdesk_open_sockets", kind="visitor") == value(
                before, "chatdesk_open_sockets", kind="visitor"
            ):
                break
            await asyncio.sleep(0.05)

    sockets = "chatdesk_open_sockets"
    assert value(during, sockets, kind="visitor") == value(before, sockets, kind="visitor") + 1
    assert value(after, sockets, kind="visitor") == value(before, sockets, kind="visitor")
    stored = "chatdesk_messages_stored_total"
    for sender in ("visitor", "bot"):
        assert value(during, stored, sender=sender) == value(before, stored, sender=sender) + 1
    decided = "chatdesk_bot_decisions_total"
    assert value(during, decided, outcome="answer") == value(before, decided, outcome="answer") + 1
    latency = "chatdesk_bot_decision_seconds_count"
    assert value(during, latency) == value(before, latency) + 1
    assert value(queued, "chatdesk_queue_length") == 1
    assert value(queued, "chatdesk_queue_oldest_wait_seconds") >= 0
    assert value(queued, "chatdesk_agents_online") == 1
    assert value(queued, sockets, kind="agent") == value(before, sockets, kind="agent") + 1


async def test_metrics_need_the_token_when_one_is_set_and_otherwise_this_machine(
    database_url: str, server: Server
) -> None:
    async with server.http() as http:  # no token: loopback only
        assert (await http.get("/metrics")).status_code == 200
        proxied = await http.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
        assert proxied.status_code == 403
    settings = make_settings(database_url, metrics_token="scrape-me-" + "x" * 20)
    async with run_server(settings) as guarded, guarded.http() as http:
        assert (await http.get("/metrics")).status_code == 401
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        token = str(settings.metrics_token)
        right = await http.get("/metrics", headers={"Authorization": "Bearer " + token})
        assert right.status_code == 200 and "chatdesk_open_sockets" in right.text
