"""What one chat message costs the database, counted: a regression guard, not a timing.

docs/deploy.md sizes the service from these numbers; a change that adds a statement to the
hot path fails here and has to say why.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from tests.client import ChatClient, visitor
from tests.conftest import Server

# Statements per message, BEGIN and COMMIT not counted (they are shared by the messages that
# arrive together: handoff/writer.py).
VISITOR_MESSAGE_IN_A_TICKET = 3  # seq + insert + the ticket's "customer replied"
QUESTION_THE_BOT_ANSWERS = 4  # seq + insert for the question, the same for the answer
NEW_HELLO = 2  # the visitor and their conversation (shared with the hellos arriving together)
RETURNING_HELLO = 1  # one read (shared with the hellos arriving together)
# Background queries on timers, not a message's or a hello's: the delivery sweep (app/ws/hub.py),
# the knowledge-base watcher (app/kb_watch.py), the settings re-read (handoff/service_settings.py),
# the webhook endpoints' re-read (handoff/webhooks.py), the SLA sweep (handoff/sla_clocks.py);
# the watcher also reads the out-of-scope examples' fingerprint (handoff/miss_actions.py).
BACKGROUND = (
    "SELECT conversations.id, conversations.last_seq FROM conversations",
    "SELECT count(*) AS count_1, max(faq_entries.updated_at)",
    "SELECT count(*) AS count_1, max(oos_examples.created_at)",
    "SELECT service_settings.key, service_settings.value",
    "SELECT webhook_endpoints.id, webhook_endpoints.event_types",
    "SELECT conversations.id, conversations.visitor_id, conversations.state, conversations.esc",
    "SELECT sla_pauses.conversation_id, sla_pauses.started_at",
    "SELECT sla_clocks.",
)


class StatementCounter:
    def __init__(self, server: Server) -> None:
        self.engine = server.app.state.sessions.kw["bind"].sync_engine  # type: ignore[attr-defined]
        self.statements: list[str] = []
        event.listen(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.split()[0].upper() in ("BEGIN", "COMMIT"):
            return
        if statement.startswith(BACKGROUND):
            return
        self.statements.append(statement)

    def take(self) -> list[str]:
        seen, self.statements = self.statements, []
        return seen

    def stop(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


async def ask(client: ChatClient, text: str) -> None:
    cmid = await client.say(text)
    await client.expect_ack(cmid)


async def test_a_message_in_a_ticket_costs_three_statements(server: Server) -> None:
    client, _ = await visitor(server)
    await client.send({"type": "handoff", "client_msg_id": "h1"})  # nobody online: a ticket
    await client.expect_type("state", state="ticket")
    await ask(client, "warm up")  # the first message reopens nothing, as every later one
    counter = StatementCounter(server)
    try:
        for i in range(5):
            await ask(client, f"more details, part {i}")
        await client.drain(0.3)
        per_message = len(counter.take()) / 5
    finally:
        counter.stop()
    assert per_message <= VISITOR_MESSAGE_IN_A_TICKET, counter.statements
    await client.close()


async def test_a_question_the_bot_answers_costs_four_statements(server: Server) -> None:
    client, _ = await visitor(server)
    counter = StatementCounter(server)
    try:
        await ask(client, "how much do you charge for postage?")
        answer = await client.expect(lambda f: f.get("type") == "message" and f["sender"] == "bot")
        assert answer["meta"]["kind"] == "answer"
        statements = counter.take()
    finally:
        counter.stop()
    assert len(statements) <= QUESTION_THE_BOT_ANSWERS, statements
    await client.close()


async def test_hellos_cost_two_statements_new_and_one_returning(server: Server) -> None:
    counter = StatementCounter(server)
    try:
        first, welcome = await visitor(server)
        await first.drain(0.3)
        new_hello = counter.take()
        await first.send({"type": "handoff", "client_msg_id": "h1"})  # nobody online: a ticket
        seq = (await first.expect_type("state", state="ticket"))["conversation_id"]
        await first.drain(0.3)
        last_seq = max(m["seq"] for m in first.messages(seq))
        await first.close()
        counter.take()
        again, _ = await visitor(
            server,
            token=welcome["token"],
            conversation_id=welcome["conversation_id"],
            last_seq=last_seq,
        )
        await again.drain(0.3)
        returning_hello = counter.take()
    finally:
        counter.stop()
    assert len(new_hello) <= NEW_HELLO, new_hello  # the visitor, their conversation
    # the token's visitor with their latest conversation and its ticket (one query, which
    # handoff/visitor_reader.py shares with the hellos arriving together); no catch-up read
    assert len(returning_hello) <= RETURNING_HELLO, returning_hello
    await again.close()
