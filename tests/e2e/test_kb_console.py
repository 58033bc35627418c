"""The admin console's knowledge-base REST: numbers and search, import/export, "try a question"."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from app.db import make_engine, make_sessionmaker
from handoff.kb_admin import MAX_IMPORT_BYTES
from handoff.models import Conversation, Message
from tests.client import visitor
from tests.conftest import Server
from tests.e2e.test_kb_admin import admin_token, ask, rebuilt


async def count_rows(server: Server) -> tuple[int, int]:
    engine = make_engine(server.settings.database_url)
    try:
        async with make_sessionmaker(engine)() as s:
            convs = await s.scalar(select(func.count()).select_from(Conversation))
            msgs = await s.scalar(select(func.count()).select_from(Message))
            return int(convs or 0), int(msgs or 0)
    finally:
        await engine.dispose()


async def test_the_list_counts_answers_and_votes_and_searches(server: Server) -> None:
    client, _ = await visitor(server)
    await client.say("how much is postage?")
    answer = await client.expect(lambda f: f.get("type") == "message" and f["sender"] == "bot")
    assert answer["meta"]["entry_id"] == "shipping-cost"
    await client.send({"type": "feedback", "seq": answer["seq"], "helpful": True})
    await client.expect_type("feedback_saved")
    await client.close()

    async with server.http(await admin_token(server)) as http:
        rows = {r["id"]: r for r in (await http.get("/api/admin/kb")).json()}
        assert len(rows) == 8
        shipping = rows["shipping-cost"]
        assert (shipping["answered_7d"], shipping["answered_30d"]) == (1, 1)
        assert (shipping["helpful"], shipping["unhelpful"], shipping["helpful_rate"]) == (1, 0, 1.0)
        assert rows["shipping-time"]["helpful_rate"] is None
        found = (await http.get("/api/admin/kb", params={"q": "PAYPAL"})).json()
        assert [r["id"] for r in found] == ["payment-methods"]  # a variant, in any case
        assert (await http.get("/api/admin/kb", params={"q": "x" * 201})).status_code == 422


async def test_status_says_what_answers_and_when_it_was_calibrated(server: Server) -> None:
    async with server.http(await admin_token(server)) as http:
        status = (await http.get("/api/admin/kb/status")).json()
    assert status["entries"] == 8 and status["rebuilding"] is False
    assert status["stage"] == "nearest-neighbour" and status["thresholds"]["answer"] > 0
    assert status["calibrated_at"].endswith(("Z", "+00:00"))


BROKEN = (
    '{"id": "ok", "question": "Fine?", "answer": "Yes."}\n'
    "{not json\n"
    '{"id": "ok", "question": "Twice?", "answer": "No."}\n'
    '{"id": "bad id!", "question": "Q?", "answer": "A."}\n'
)
HATS = [
    {
        "id": "hats",
        "question": "Do you sell hats?",
        "variants": ["any caps?", "do you have beanies"],
        "answer": "Yes: hats are at https://shop.example.com/hats",
    },
    {"id": "opening", "question": "When is the shop open?", "answer": "9 to 5, Monday to Friday."},
]


async def test_import_shows_every_problem_then_replaces_the_kb(server: Server) -> None:
    async with server.http(await admin_token(server)) as http:
        before = (await http.get("/api/admin/kb")).json()
        r = await http.post(
            "/api/admin/kb/import", params={"filename": "faq.jsonl"}, content=BROKEN
        )
        assert r.status_code == 422, r.text
        body = r.json()
        assert body["applied"] is False and body["detail"].startswith("the file has 3 problems")
        assert [p["line"] for p in body["problems"]] == [2, 3, 4]
        assert (await http.get("/api/admin/kb")).json() == before

        no_format = await http.post("/api/admin/kb/import", content=b"whatever")
        assert no_format.status_code == 422 and no_format.json()["problems"][0]["line"] == 0
        big = await http.post(
            "/api/admin/kb/import", params={"format": "csv"}, content=b"x" * (MAX_IMPORT_BYTES + 1)
        )
        assert big.status_code == 413 and "import limit" in big.json()["detail"]

        good = "".join(json.dumps(e) + "\n" for e in HATS)
        dry = await http.post(
            "/api/admin/kb/import", params={"format": "jsonl", "dry_run": "true"}, content=good
        )
        assert dry.status_code == 200, dry.text
        checked = dry.json()
        assert (checked["entries"], checked["current"], checked["applied"]) == (2, 8, False)
        assert (await http.get("/api/admin/kb")).json() == before

        done = await http.post("/api/admin/kb/import", params={"format": "jsonl"}, content=good)
        assert done.status_code == 200 and done.json()["applied"] is True
        assert [e["id"] for e in (await http.get("/api/admin/kb")).json()] == ["hats", "opening"]
        await rebuilt(http, entries=2)
        audit = (await http.get("/api/admin/audit", params={"action": "kb_replaced"})).json()
        assert audit[0]["detail"] == {"entries": 2, "via": "admin"}

    reply = await ask(server, "do you have beanies for sale?")
    assert reply["meta"]["entry_id"] == "hats"


async def test_export_downloads_every_format(server: Server) -> None:
    async with server.http(await admin_token(server)) as http:
        jsonl = await http.get("/api/admin/kb/export")
        assert jsonl.headers["content-type"].startswith("application/x-ndjson")
        assert 'filename="chatdesk-kb-' in jsonl.headers["content-disposition"]
        assert len(jsonl.text.splitlines()) == 8
        csv = await http.get("/api/admin/kb/export", params={"format": "csv"})
        assert csv.headers["content-type"].startswith("text/csv")
        assert csv.text.startswith("id,question,variants,answer\n")
        md = await http.get("/api/admin/kb/export", params={"format": "md"})
        assert md.text.count("\n## ") == 8
        again = await http.post(
            "/api/admin/kb/import", params={"filename": "kb.md", "dry_run": "true"}, content=md.text
        )
        assert again.status_code == 200 and again.json()["entries"] == 8


async def test_try_a_question_decides_without_a_conversation(server: Server) -> None:
    rows_before = await count_rows(server)
    async with server.http(await admin_token(server)) as http:
        r = await http.post("/api/admin/kb/try", json={"question": "how much is postage?"})
        answer = r.json()
        assert (answer["action"], answer["reason"], answer["entry_id"]) == (
            "answer", "confident", "shipping-cost"
        )
        assert answer["answer"].startswith("Standard shipping")
        assert answer["candidates"][0] == {
            "entry_id": "shipping-cost", "question": "How much does shipping cost?",
            "score": answer["candidates"][0]["score"],
        }
        assert "answer threshold" in answer["why"]

        person = (await http.post("/api/admin/kb/try", json={"question": "let me talk to a human"}))
        assert (person.json()["action"], person.json()["reason"]) == ("escalate", "asked_for_human")
        lost = await http.post(
            "/api/admin/kb/try", json={"question": "what is the boiling point of tungsten"}
        )
        assert (lost.json()["action"], lost.json()["reason"]) == ("escalate", "below_clarify")
        assert (await http.post("/api/admin/kb/try", json={"question": "  "})).status_code == 422
    assert await count_rows(server) == rows_before  # no conversation, no message
