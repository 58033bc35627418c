"""API keys (issue 18), on the real database: stored hashed, shown once, scopes, revoke, expiry,
usage in the audit log; and what an integration may post (handoff/api_messages.py)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import api_keys, api_messages
from handoff.api_key_models import ApiKey
from handoff.api_keys import Refused, Scope
from handoff.conversations import ticket_for
from handoff.errors import Conflict, Forbidden, Invalid, NotFound
from handoff.events import conversation_channel
from handoff.mail import MailConfig
from handoff.models import AuditEvent, Conversation, Message, Sender, Ticket, utcnow
from handoff.states import ConversationState as S
from tests.handoff.conftest import Listener

NO_MAIL = MailConfig(host=None)


async def actions(session: AsyncSession, action: str) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    return list((await session.scalars(query)).all())


async def new_key(session: AsyncSession, *scopes: Scope, **kw: object) -> api_keys.NewKey:
    return await api_keys.create_key(
        session=session, name=str(kw.get("name", "Shop")), scopes=scopes or list(Scope),
        expires_at=kw.get("expires_at"), actor_id=None, ip="10.0.0.9",  # type: ignore[arg-type]
    )


async def test_a_key_is_shown_once_and_stored_only_as_its_hash(session) -> None:
    made = await new_key(session, Scope.MESSAGES_WRITE, Scope.CONVERSATIONS_READ)
    assert made.secret.startswith("ck_") and len(made.secret) >= 3 + 43  # 32 bytes, base64
    row = (await session.scalars(select(ApiKey))).one()
    assert row.secret_hash == hashlib.sha256(made.secret.encode()).hexdigest()
    assert made.secret not in str(
        [getattr(row, c.key) for c in ApiKey.__table__.columns]
    )  # nowhere in the row but its first characters, to tell keys apart
    assert row.prefix == made.secret[:11]
    assert row.scopes == ["conversations:read", "messages:write"]  # a fixed order
    (event,) = await actions(session, "api_key_created")
    assert event.detail is not None and made.secret not in str(event.detail)
    assert event.detail["key_id"] == row.id and event.ip == "10.0.0.9"
    again = await new_key(session)
    assert again.secret != made.secret


async def test_names_scopes_and_expiry_are_checked(session) -> None:
    with pytest.raises(Invalid, match="unknown"):
        await api_keys.create_key(
            session=session, name="x", scopes=["admin:everything"], expires_at=None,
            actor_id=None, ip=None,
        )
    with pytest.raises(Invalid, match="at least one"):
        await api_keys.create_key(
            session=session, name="x", scopes=[], expires_at=None, actor_id=None, ip=None
        )
    with pytest.raises(Invalid, match="name"):
        await new_key(session, name="   ")
    with pytest.raises(Invalid, match="future"):
        await new_key(session, expires_at=utcnow() - timedelta(seconds=1))
    assert (await session.scalars(select(ApiKey))).all() == []


async def test_check_finds_the_key_and_says_why_not(session) -> None:
    made = await new_key(session, Scope.CONVERSATIONS_READ)
    check = await api_keys.check_key(session=session, secret=made.secret)
    assert check.refused is None and check.key is not None and check.key.id == made.key.id
    assert api_keys.allows(check.key, Scope.CONVERSATIONS_READ)
    assert not api_keys.allows(check.key, Scope.KB_MANAGE)
    unknown = await api_keys.check_key(session=session, secret=made.secret + "x")
    assert (unknown.key, unknown.refused) == (None, Refused.UNKNOWN)

    soon = await new_key(session, expires_at=utcnow() + timedelta(hours=1))
    assert (await api_keys.check_key(session=session, secret=soon.secret)).refused is None
    soon.key.expires_at = utcnow() - timedelta(seconds=1)
    await session.commit()
    assert (await api_keys.check_key(session=session, secret=soon.secret)).refused == (
        Refused.EXPIRED
    )


async def test_revoking_refuses_the_key_and_is_audited_once(session) -> None:
    made = await new_key(session)
    revoked = await api_keys.revoke_key(session=session, key_id=made.key.id, actor_id=7, ip=None)
    assert revoked.revoked_at is not None and revoked.revoked_by == 7
    check = await api_keys.check_key(session=session, secret=made.secret)
    assert check.refused == Refused.REVOKED and check.key is not None
    first = revoked.revoked_at
    await api_keys.revoke_key(session=session, key_id=made.key.id, actor_id=8, ip=None)
    assert revoked.revoked_at == first and len(await actions(session, "api_key_revoked")) == 1
    with pytest.raises(NotFound):
        await api_keys.revoke_key(session=session, key_id=10_000, actor_id=7, ip=None)
    assert [k.id for k in await api_keys.list_keys(session=session)] == [made.key.id]


async def test_usage_is_audited_and_marks_the_last_use(session) -> None:
    made = await new_key(session)
    assert made.key.last_used_at is None
    await api_keys.record_use(
        session=session, key_id=made.key.id, method="GET", route="/api/x", status=200, ip="1.2.3.4"
    )
    await api_keys.record_use(
        session=session, key_id=made.key.id, method="POST", route="/api/y", status=403, ip=None
    )
    used = await actions(session, "api_key_used")
    assert [(e.detail or {}).get("status") for e in used] == [200, 403]
    assert used[0].detail == {"key_id": made.key.id, "method": "GET", "route": "/api/x",
                              "status": 200}
    await session.refresh(made.key)
    assert made.key.last_used_at is not None


# --- what an integration posts -----------------------------------------------------------
async def conversation(session: AsyncSession, new_chat, state: S) -> Conversation:
    conv: Conversation = await new_chat()
    conv.state = state
    if state == S.TICKET:
        session.add(Ticket(conversation_id=conv.id))
    await session.commit()  # the writer writes on connections of its own
    return conv


async def post(session, writer, bus, key, conv, text="Your parcel left.", cmid="m1", agent=False):
    return await api_messages.post_for_key(
        session=session, writer=writer, bus=bus, mail=NO_MAIL, key=key,
        conversation_id=conv.id, client_msg_id=cmid, text=text, as_agent=agent,
    )


async def test_a_key_posts_as_the_bot_live_and_once_per_client_msg_id(
    session, writer, bus, new_chat
) -> None:
    key = (await new_key(session, Scope.MESSAGES_WRITE)).key
    conv = await conversation(session, new_chat, S.ASSIGNED)
    listener = Listener(bus, (conversation_channel(conv.id),))
    stored = await post(session, writer, bus, key, conv)
    assert not stored.duplicate and stored.message.sender == "bot"
    (event,) = listener.events("message")
    assert event["text"] == "Your parcel left." and event["meta"]["integration"] == "Shop"
    again = await post(session, writer, bus, key, conv)
    assert again.duplicate and again.message.seq == stored.message.seq
    assert listener.events("message") == []
    await session.refresh(conv)
    assert conv.state == S.ASSIGNED  # a held chat stays with its agent

    # Another key's same client_msg_id is another message.
    other = (await new_key(session, Scope.MESSAGES_WRITE, name="CRM")).key
    assert not (await post(session, writer, bus, other, conv)).duplicate


async def test_a_key_never_writes_into_a_closed_chat_and_replies_only_on_tickets(
    session, writer, bus, new_chat
) -> None:
    key = (await new_key(session, Scope.MESSAGES_WRITE, name="Helpdesk")).key
    closed = await conversation(session, new_chat, S.CLOSED)
    with pytest.raises(Conflict, match="closed"):
        await post(session, writer, bus, key, closed)
    missing = Conversation(id=99_999, visitor_id=closed.visitor_id)
    with pytest.raises(NotFound):
        await post(session, writer, bus, key, missing)
    with pytest.raises(Invalid, match="blank"):
        await post(session, writer, bus, key, closed, text="  ")
    held = await conversation(session, new_chat, S.ASSIGNED)
    with pytest.raises(Forbidden, match="ticket"):
        await post(session, writer, bus, key, held, agent=True)

    ticket_chat = await conversation(session, new_chat, S.TICKET)
    posted = await post(session, writer, bus, key, ticket_chat, text="Refunded.", agent=True)
    assert posted.message.sender == Sender.AGENT and posted.message.agent_id is None
    msg = await session.get(Message, posted.message.id)
    assert msg is not None and msg.meta == {"author": {"name": "Helpdesk", "avatar_url": None}}
    ticket = await ticket_for(session=session, conversation_id=ticket_chat.id)
    assert ticket is not None and ticket.status == "pending"
    assert (await post(session, writer, bus, key, ticket_chat, agent=True)).duplicate
