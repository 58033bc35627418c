"""Agents' pictures: uploaded, checked by decoding, re-encoded and kept by the server.

An upload is accepted only if Pillow decodes it as PNG, JPEG, WebP or GIF (the first frame) of
sane dimensions; it is cropped to a square and written again as a small PNG, so no byte of the
upload (metadata, a polyglot's second payload) is ever served. `agents.avatar_url` becomes the
server's own URL for it: nobody ever fetches a remote URL, and visitors' browsers load avatars
from the chatdesk server only.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import audit
from handoff.errors import Invalid, NotFound
from handoff.models import Agent, AgentAvatar, utcnow

MAX_UPLOAD_BYTES = 1024 * 1024  # 1 MB: any real photo of a face, far from a memory problem
MAX_SOURCE_PIXELS = 6000 * 6000  # bigger is a decompression bomb, not a portrait
SIDE_PX = 128  # shown at about 32 CSS px: sharp at 4x device pixel ratio
FORMATS = {"PNG", "JPEG", "WEBP", "GIF"}
CONTENT_TYPE = "image/png"


@dataclass(frozen=True)
class Avatar:
    content_type: str
    data: bytes
    etag: str


def etag_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:20]


def avatar_path(agent_id: int, etag: str) -> str:
    """The URL visitors and agents load (the version makes a change reach every cache)."""
    return f"/api/agents/{agent_id}/avatar?v={etag[:12]}"


def reencode(data: bytes) -> bytes:
    """The upload as a SIDE_PX square PNG, or Invalid if it is no image we take."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise Invalid(f"the picture is over {MAX_UPLOAD_BYTES // 1024} KB")
    try:
        # Only these decoders ever see the bytes (no TIFF, PSD, EPS, ...).
        with Image.open(io.BytesIO(data), formats=sorted(FORMATS)) as source:
            if source.width * source.height > MAX_SOURCE_PIXELS:
                raise Invalid("the picture has too many pixels")
            source.load()  # the first frame of an animation
            image = ImageOps.exif_transpose(source).convert("RGBA")
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError) as exc:
        raise Invalid("not a picture we can read: upload a PNG, JPEG, WebP or GIF") from exc
    side = min(SIDE_PX, image.width, image.height)
    square = ImageOps.fit(image, (side, side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    square.save(out, "PNG", optimize=True)
    return out.getvalue()


async def set_avatar(*, session: AsyncSession, agent: Agent, data: bytes, ip: str | None) -> Agent:
    """An agent's own new picture (decoded off the event loop); audited as avatar_changed."""
    png = await asyncio.to_thread(reencode, data)
    row = await session.get(AgentAvatar, agent.id)
    if row is None:
        session.add(AgentAvatar(agent_id=agent.id, content_type=CONTENT_TYPE, data=png))
    else:
        row.content_type, row.data, row.updated_at = CONTENT_TYPE, png, utcnow()
    agent.avatar_url = avatar_path(agent.id, etag_of(png))
    audit.record(session, "avatar_changed", agent_id=agent.id, ip=ip, bytes=len(png))
    await session.commit()
    return agent


async def remove_avatar(*, session: AsyncSession, agent: Agent, ip: str | None) -> Agent:
    """Back to initials; audited as avatar_removed."""
    row = await session.get(AgentAvatar, agent.id)
    if row is not None:
        await session.delete(row)
    if row is not None or agent.avatar_url is not None:
        agent.avatar_url = None
        audit.record(session, "avatar_removed", agent_id=agent.id, ip=ip)
        await session.commit()
    return agent


async def get_avatar(*, session: AsyncSession, agent_id: int) -> Avatar:
    """The stored picture of an agent, or NotFound."""
    row = await session.get(AgentAvatar, agent_id)
    if row is None:
        raise NotFound(f"agent {agent_id} has no picture")
    return Avatar(content_type=row.content_type, data=row.data, etag=etag_of(row.data))
