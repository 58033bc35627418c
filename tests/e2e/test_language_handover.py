"""A question in a language the bot cannot read is handed over, over a real websocket."""

from __future__ import annotations

from tests.client import agent, visitor
from tests.conftest import Server


async def test_persian_question_the_kb_cannot_understand_goes_to_a_person(server: Server) -> None:
    token = await server.create_agent()
    console = await agent(server, token)
    client, welcome = await visitor(server)
    assert welcome["state"]["state"] == "bot"
    await client.say("هزینه ارسال سفارش به آلمان چقدر است؟")  # what does shipping to Germany cost
    state = await client.expect_type("state", state="queued")
    assert state["escalation_reason"] == "language"
    await client.drain()
    (note,) = [f for f in client.messages() if f["sender"] == "system"]
    assert note["meta"]["reason"] == "language" and note["meta"]["language"] == "fa"
    assert not [f for f in client.messages() if f["sender"] == "bot"], "no guessed answer"
    await console.expect_type("conversation", state="queued")
    # The same chat in English is answered, with its language recorded.
    other, _ = await visitor(server)
    await other.say("How much does shipping cost?")
    answer = await other.expect(lambda f: f.get("type") == "message" and f["sender"] == "bot")
    assert answer["meta"]["entry_id"] == "shipping-cost" and answer["meta"]["language"] == "en"
    for c in (client, other, console):
        await c.close()
