"""The team as admins run it (issue 14), on the real database and the in-memory bus: the last
admin rule, disabling (tokens refused, chats back to the queue), resets, capacity, avatars."""

from __future__ import annotations

import asyncio
import io

import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.security import Tokens, login_for_token
from handoff import agent_actions, agents, avatars, logins, team
from handoff.errors import Conflict, Forbidden, Invalid
from handoff.events import LOGINS_CHANNEL, conversation_channel
from handoff.models import Agent, AgentPresence, AuditEvent, Conversation, utcnow
from handoff.routing import Routing
from handoff.states import ConversationState as S
from tests.handoff.conftest import PASSWORD

ROUTING = Routing()
TOKENS = Tokens("k" * 40, agent_ttl_s=3600, visitor_ttl_s=3600)
POLICY = logins.LoginPolicy()


async def admin(new_agent, name: str = "Ada") -> Agent:
    agent = await new_agent(name)
    agent.is_admin = True
    return agent


async def actions(session: AsyncSession, action: str) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    return list((await session.scalars(query)).all())


async def log_in(session: AsyncSession, email: str, password: str = PASSWORD) -> Agent | None:
    result = await logins.log_in(
        session=session,
        slots=asyncio.Semaphore(1),
        policy=POLICY,
        email=email,
        password=password,
        ip="10.0.0.1",
    )
    return result.agent


# --- the last admin ---------------------------------------------------------------------
async def test_the_last_admin_keeps_the_role_and_cannot_be_disabled(session, bus, new_agent):
    ada = await admin(new_agent)
    await session.commit()
    with pytest.raises(Conflict, match="last admin"):
        await team.update_member(
            session=session, bus=bus, routing=ROUTING, agent_id=ada.id, actor=ada, ip=None,
            is_admin=False,
        )
    with pytest.raises(Conflict, match="last admin"):
        await team.disable_member(
            session=session, bus=bus, routing=ROUTING, agent_id=ada.id, actor=ada, ip=None
        )
    ada = await session.get(Agent, ada.id)
    assert ada is not None and ada.is_admin and ada.disabled_at is None

    # A disabled admin is no admin to count on: Bob must still not be left as the last.
    bob = await new_agent("Bob")
    await team.update_member(
        session=session, bus=bus, routing=ROUTING, agent_id=bob.id, actor=ada, ip=None,
        is_admin=True,
    )
    await team.update_member(
        session=session, bus=bus, routing=ROUTING, agent_id=ada.id, actor=ada, ip=None,
        is_admin=False,
    )
    assert not ada.is_admin and bob.is_admin
    with pytest.raises(Conflict, match="last admin"):
        await team.disable_member(
            session=session, bus=bus, routing=ROUTING, agent_id=bob.id, actor=ada, ip=None
        )
    changed = await actions(session, "agent_role_changed")
    assert [(e.agent_id, e.detail) for e in changed] == [
        (ada.id, {"target_agent_id": bob.id, "is_admin": True}),
        (ada.id, {"target_agent_id": ada.id, "is_admin": False}),
    ]


async def test_an_admin_cannot_disable_themselves_or_reset_their_own_password(
    session, bus, new_agent
):
    ada, _ = await admin(new_agent), await admin(new_agent, "Alan")
    await session.commit()
    with pytest.raises(Conflict, match="your own account"):
        await team.disable_member(
            session=session, bus=bus, routing=ROUTING, agent_id=ada.id, actor=ada, ip=None
        )
    with pytest.raises(Conflict, match="profile"):
        await team.reset_password(
            session=session, bus=bus, agent_id=ada.id, password="new password!", actor=ada, ip=None
        )


# --- disabling --------------------------------------------------------------------------
async def test_disabling_ends_every_login_at_once_and_refuses_new_ones(
    session, bus, new_agent, listen
):
    ada, bob = await admin(new_agent), await new_agent("Bob")
    await session.commit()
    token = TOKENS.for_agent(bob.id)
    assert await login_for_token(session=session, tokens=TOKENS, token=token) is not None
    ended = listen(LOGINS_CHANNEL)

    await team.disable_member(
        session=session, bus=bus, routing=ROUTING, agent_id=bob.id, actor=ada, ip="10.0.0.9"
    )
    assert await login_for_token(session=session, tokens=TOKENS, token=token) is None
    assert await log_in(session, "bob@example.com") is None, "the right password, disabled"
    [event] = ended.events("logins_ended")
    assert event["agent_id"] == bob.id
    presence = select(AgentPresence).where(AgentPresence.agent_id == bob.id)
    assert await session.scalar(presence) is None, "no longer online anywhere"
    [audited] = await actions(session, "agent_disabled")
    assert (audited.agent_id, audited.ip, audited.detail) == (
        ada.id, "10.0.0.9", {"target_agent_id": bob.id, "requeued": []},
    )

    # Re-enabled: they log in again, but the tokens from before stay ended.
    await team.enable_member(session=session, agent_id=bob.id, actor=ada, ip=None)
    assert await log_in(session, "bob@example.com") is not None
    assert await login_for_token(session=session, tokens=TOKENS, token=token) is None
    fresh = TOKENS.for_agent(bob.id)
    assert await login_for_token(session=session, tokens=TOKENS, token=fresh) is not None
    assert len(await actions(session, "agent_enabled")) == 1


async def test_a_disabled_agents_chats_go_back_to_the_queue_and_to_whoever_is_free(
    session, bus, new_agent, new_chat, listen
):
    ada, bob = await admin(new_agent), await new_agent("Bob")
    await session.commit()
    chat = await new_chat()
    chat.move_to(S.QUEUED)
    chat.queued_at = utcnow()
    await session.commit()
    await agent_actions.take(session=session, bus=bus, conversation_id=chat.id, agent=bob)
    visitor = listen(conversation_channel(chat.id))
    # Ada (online) is the only one free once Bob is gone.
    await team.disable_member(
        session=session, bus=bus, routing=ROUTING, agent_id=bob.id, actor=ada, ip=None
    )
    conv = await session.get(Conversation, chat.id)
    await session.refresh(conv)
    assert conv is not None and conv.state == S.ASSIGNED and conv.assigned_agent_id == ada.id
    said = [e["text"] for e in visitor.events("message")]
    assert said[0].startswith("Your agent is no longer available"), said
    assert "Ada joined the conversation." in said
    [audited] = await actions(session, "agent_disabled")
    assert audited.detail is not None and audited.detail["requeued"] == [chat.id]


async def test_with_nobody_free_the_chat_waits_in_the_queue(session, bus, new_agent, new_chat):
    ada, bob = await admin(new_agent), await new_agent("Bob")
    ada.capacity = 0  # takes no chat automatically
    await session.commit()
    chat = await new_chat()
    chat.move_to(S.QUEUED)
    chat.queued_at = utcnow()
    await session.commit()
    await agent_actions.take(session=session, bus=bus, conversation_id=chat.id, agent=bob)
    await team.disable_member(
        session=session, bus=bus, routing=ROUTING, agent_id=bob.id, actor=ada, ip=None
    )
    conv = await session.get(Conversation, chat.id)
    await session.refresh(conv)
    assert conv is not None and conv.state == S.QUEUED and conv.assigned_agent_id is None


# --- passwords and capacity -------------------------------------------------------------
async def test_a_reset_password_ends_the_old_logins_and_works_at_once(
    session, bus, new_agent, listen
):
    ada, bob = await admin(new_agent), await new_agent("Bob")
    await session.commit()
    old = TOKENS.for_agent(bob.id)
    ended = listen(LOGINS_CHANNEL)
    with pytest.raises(Invalid, match="8 to 1024 characters"):
        await team.reset_password(
            session=session, bus=bus, agent_id=bob.id, password="short", actor=ada, ip=None
        )
    await team.reset_password(
        session=session, bus=bus, agent_id=bob.id, password="a new pass phrase", actor=ada, ip=None
    )
    assert await login_for_token(session=session, tokens=TOKENS, token=old) is None
    assert [e["agent_id"] for e in ended.events("logins_ended")] == [bob.id]
    assert await log_in(session, "bob@example.com") is None
    assert await log_in(session, "bob@example.com", "a new pass phrase") is not None
    new = TOKENS.for_agent(bob.id)  # issued right after the reset: valid
    assert await login_for_token(session=session, tokens=TOKENS, token=new) is not None
    assert len(await actions(session, "agent_password_reset")) == 1


async def test_capacity_is_0_to_20_chats(session, bus, new_agent):
    ada = await admin(new_agent)
    await session.commit()
    for bad in (-1, 21, 1000):
        with pytest.raises(Invalid, match="capacity must be 0 to 20"):
            await team.update_member(
                session=session, bus=bus, routing=ROUTING, agent_id=ada.id, actor=ada, ip=None,
                capacity=bad,
            )
        with pytest.raises(Invalid, match="capacity"):
            await team.create_member(
                session=session, email=f"x{bad}@example.com", name="X", password=PASSWORD,
                capacity=bad, is_admin=False, actor=ada, ip=None,
            )
    for good in (0, 20, 5):
        await team.update_member(
            session=session, bus=bus, routing=ROUTING, agent_id=ada.id, actor=ada, ip=None,
            capacity=good,
        )
    assert ada.capacity == 5
    changes = [e.detail for e in await actions(session, "agent_capacity_changed")]
    assert [(d or {}).get("capacity") for d in changes] == [0, 20, 5]


async def test_create_member_checks_email_name_and_password(session, new_agent):
    ada = await admin(new_agent)
    await session.commit()
    bad = [
        ({"email": "not-an-address"}, "email"),
        ({"name": "   "}, "name"),
        ({"password": "seven77"}, "password must be 8"),
    ]
    for change, message in bad:
        fields = {"email": "cid@example.com", "name": "Cid", "password": PASSWORD} | change
        with pytest.raises(Invalid, match=message):
            await team.create_member(
                session=session, capacity=3, is_admin=False, actor=ada, ip=None, **fields
            )
    cid = await team.create_member(
        session=session, email=" Cid@Example.com ", name=" Cid ", password=PASSWORD, capacity=2,
        is_admin=True, actor=ada, ip="10.0.0.2",
    )
    assert (cid.email, cid.name, cid.capacity, cid.is_admin) == ("cid@example.com", "Cid", 2, True)
    with pytest.raises(Conflict):
        await team.create_member(
            session=session, email="cid@example.com", name="Cid", password=PASSWORD, capacity=2,
            is_admin=False, actor=ada, ip=None,
        )


async def test_own_password_change_needs_the_current_one(session, new_agent):
    bob = await new_agent("Bob")
    with pytest.raises(Forbidden):
        await agents.change_own_password(
            session=session, agent=bob, current="wrong password", new="another one!", ip=None
        )
    with pytest.raises(Invalid):
        await agents.change_own_password(
            session=session, agent=bob, current=PASSWORD, new="short", ip=None
        )
    await agents.change_own_password(
        session=session, agent=bob, current=PASSWORD, new="another one!", ip=None
    )
    assert await log_in(session, "bob@example.com", "another one!") is not None
    assert len(await actions(session, "password_change_failed")) == 1
    assert len(await actions(session, "password_changed")) == 1


# --- avatars ----------------------------------------------------------------------------
def picture(fmt: str, size: tuple[int, int] = (300, 200), mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (200, 30, 30) if mode == "RGB" else 1).save(out, fmt)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF"])
async def test_an_avatar_is_decoded_cropped_and_stored_as_a_new_png(session, new_agent, fmt):
    bob = await new_agent("Bob")
    upload = picture(fmt) + b"<script>alert(1)</script>"  # a polyglot's tail
    await avatars.set_avatar(session=session, agent=bob, data=upload, ip=None)
    stored = await avatars.get_avatar(session=session, agent_id=bob.id)
    assert stored.content_type == "image/png" and b"<script>" not in stored.data
    with Image.open(io.BytesIO(stored.data)) as image:
        assert (image.format, image.size) == ("PNG", (avatars.SIDE_PX, avatars.SIDE_PX))
    assert bob.avatar_url == f"/api/agents/{bob.id}/avatar?v={stored.etag[:12]}"
    assert len(await actions(session, "avatar_changed")) == 1


async def test_what_is_not_such_a_picture_is_refused(session, new_agent):
    bob = await new_agent("Bob")
    refused = {
        "text": b"hello, I am not a picture",
        "svg": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        "bmp": picture("BMP"),
        "tiff": picture("TIFF"),
        "truncated png": picture("PNG")[:60],
        "too many pixels": picture("PNG", (7000, 7000), "1"),
        "over 1 MB": picture("PNG") + b"\0" * avatars.MAX_UPLOAD_BYTES,
    }
    for why, data in refused.items():
        with pytest.raises(Invalid):
            await avatars.set_avatar(session=session, agent=bob, data=data, ip=None)
            pytest.fail(f"{why} was accepted")
    assert bob.avatar_url is None
    await avatars.set_avatar(session=session, agent=bob, data=picture("PNG"), ip=None)
    await avatars.remove_avatar(session=session, agent=bob, ip=None)
    assert bob.avatar_url is None
    assert len(await actions(session, "avatar_removed")) == 1


async def test_a_chat_cannot_be_transferred_to_a_disabled_agent(
    session, bus, new_agent, new_chat
):
    ada, bob, cy = await admin(new_agent), await new_agent("Bob"), await new_agent("Cy")
    await session.commit()
    chat = await new_chat()
    chat.move_to(S.QUEUED)
    chat.queued_at = utcnow()
    await session.commit()
    await agent_actions.take(session=session, bus=bus, conversation_id=chat.id, agent=bob)
    await team.disable_member(
        session=session, bus=bus, routing=ROUTING, agent_id=cy.id, actor=ada, ip=None
    )
    with pytest.raises(Invalid, match="disabled"):
        await agent_actions.transfer(
            session=session,
            bus=bus,
            conversation_id=chat.id,
            agent=bob,
            to_agent_id=cy.id,
            note=None,
            routing=ROUTING,
        )
    conv = await session.get(Conversation, chat.id)
    await session.refresh(conv)
    assert conv is not None and conv.assigned_agent_id == bob.id
