"""Every agent's own profile: display name, password, avatar; and the avatars themselves,
public because visitors see them in the widget (on other sites, loaded from this server)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Request, Response, status

from app.db import SessionDep
from app.schemas import AgentOut, PasswordChangeIn, ProfileIn, RowId
from app.security import AgentDep, client_ip
from handoff import agents, avatars

router = APIRouter(tags=["profile"])
AVATAR_CACHE = "public, max-age=86400"  # a change gets a new URL (?v=), so a day is safe
IMAGE_BODY = {
    "required": True,
    "content": {
        t: {"schema": {"type": "string", "format": "binary"}}
        for t in ("image/png", "image/jpeg", "image/webp", "image/gif")
    },
}


@router.patch("/api/agent/me")
async def update_profile(
    body: ProfileIn, agent: AgentDep, session: SessionDep, request: Request
) -> AgentOut:
    """Change your display name (what visitors and colleagues see)."""
    if body.name is not None:
        agent = await agents.rename_self(
            session=session, agent=agent, name=body.name, ip=client_ip(request)
        )
    return AgentOut.model_validate(agent)


@router.post(
    "/api/agent/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={403: {"description": "the current password is wrong"}},
)
async def change_password(
    body: PasswordChangeIn, agent: AgentDep, session: SessionDep, request: Request
) -> None:
    """Set a new password, giving the current one."""
    await agents.change_own_password(
        session=session,
        agent=agent,
        current=body.current_password,
        new=body.new_password,
        ip=client_ip(request),
    )


async def _read_at_most(request: Request, limit: int) -> bytes:
    """The request body, or 413 as soon as it is longer than `limit` (never all read)."""
    declared = request.headers.get("content-length", "")
    too_big = HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE, f"the picture is over {limit // 1024} KB"
    )
    if declared.isdigit() and int(declared) > limit:
        raise too_big
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_big
    return bytes(body)


@router.put(
    "/api/agent/me/avatar",
    openapi_extra={"requestBody": IMAGE_BODY},
    responses={413: {"description": "over 1 MB"}, 422: {"description": "not such a picture"}},
)
async def upload_avatar(agent: AgentDep, session: SessionDep, request: Request) -> AgentOut:
    """Your picture: the image itself as the body (PNG, JPEG, WebP or GIF, at most 1 MB). It
    is decoded, cropped square and stored re-encoded; `avatar_url` then points at it."""
    data = await _read_at_most(request, avatars.MAX_UPLOAD_BYTES)
    agent = await avatars.set_avatar(session=session, agent=agent, data=data, ip=client_ip(request))
    return AgentOut.model_validate(agent)


@router.delete("/api/agent/me/avatar")
async def remove_avatar(agent: AgentDep, session: SessionDep, request: Request) -> AgentOut:
    """No picture: initials are shown instead."""
    agent = await avatars.remove_avatar(session=session, agent=agent, ip=client_ip(request))
    return AgentOut.model_validate(agent)


@router.get(
    "/api/agents/{agent_id}/avatar",
    response_class=Response,
    responses={
        200: {"content": {avatars.CONTENT_TYPE: {}}, "description": "the picture"},
        304: {"description": "unchanged (If-None-Match)"},
        404: {"description": "no picture"},
    },
)
async def avatar(
    agent_id: RowId,
    session: SessionDep,
    if_none_match: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    """An agent's picture, for everyone (visitors see it beside the agent's messages)."""
    found = await avatars.get_avatar(session=session, agent_id=agent_id)
    headers = {
        "ETag": f'"{found.etag}"',
        "Cache-Control": AVATAR_CACHE,
        # The widget runs on other sites: their pages may require this to show our image.
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    seen = {t.strip().removeprefix("W/").strip('"') for t in (if_none_match or "").split(",")}
    if found.etag in seen or "*" in seen:
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(found.data, media_type=found.content_type, headers=headers)
