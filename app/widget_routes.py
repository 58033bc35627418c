"""The embeddable chat bubble: `/widget.js` (cached, gzipped, cross-origin) and the demo pages."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import FileResponse

WIDGET_DIR = Path(__file__).resolve().parent.parent / "widget"
WIDGET_JS = WIDGET_DIR / "widget.js"
# The script URL is unversioned (customers paste it once), so browsers keep it only briefly and
# then revalidate with the ETag: a release reaches every site within five minutes, and a
# revalidation costs a 304 with no body. stale-while-revalidate hides that round trip.
WIDGET_CACHE_CONTROL = "public, max-age=300, stale-while-revalidate=86400"
# Pages (the demo shop) always revalidate so a new widget tag is picked up at once.
PAGE_CACHE_CONTROL = "no-cache"

router = APIRouter()


@dataclass(frozen=True)
class Asset:
    """One file, read once per change, with its gzip form and strong ETags for both."""

    stamp: tuple[int, int]
    body: bytes
    gzipped: bytes
    etag: str
    etag_gz: str


_cache: dict[Path, Asset] = {}


def load_asset(path: Path) -> Asset:
    """The file's bytes, re-read only when its mtime or size changed."""
    stat = path.stat()
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = _cache.get(path)
    if cached is not None and cached.stamp == stamp:
        return cached
    body = path.read_bytes()
    digest = hashlib.sha256(body).hexdigest()[:20]
    asset = Asset(
        stamp=stamp,
        body=body,
        gzipped=gzip.compress(body, compresslevel=9, mtime=0),
        etag=f'"{digest}"',
        etag_gz=f'"{digest}-gz"',  # a different representation needs a different strong ETag
    )
    _cache[path] = asset
    return asset


def _etag_matches(header: str | None, *etags: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    offered = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return any(tag in offered for tag in etags)


@router.get("/widget.js", include_in_schema=False)
async def widget_js(request: Request) -> Response:
    """The chat bubble script, for `<script src=".../widget.js" async>` on any site."""
    asset = load_asset(WIDGET_JS)
    use_gzip = "gzip" in request.headers.get("accept-encoding", "").lower()
    etag = asset.etag_gz if use_gzip else asset.etag
    headers = {
        "ETag": etag,
        "Cache-Control": WIDGET_CACHE_CONTROL,
        "Vary": "Accept-Encoding",
        # Any site may load it, with or without crossorigin=..., and under COEP.
        "Access-Control-Allow-Origin": "*",
        "Cross-Origin-Resource-Policy": "cross-origin",
        "X-Content-Type-Options": "nosniff",
    }
    if _etag_matches(request.headers.get("if-none-match"), asset.etag, asset.etag_gz):
        return Response(status_code=304, headers=headers)
    if use_gzip:
        headers["Content-Encoding"] = "gzip"
    return Response(
        content=asset.gzipped if use_gzip else asset.body,
        media_type="text/javascript; charset=utf-8",
        headers=headers,
    )


# What the console page loads from /static; nothing else in widget/ (package files,
# node_modules for the accessibility tests) is served.
CONSOLE_ASSETS = {"console.css": "text/css", "console.js": "text/javascript"}


@router.get("/static/{name}", include_in_schema=False)
async def console_asset(name: str) -> FileResponse:
    """The agent console's stylesheet and script."""
    media_type = CONSOLE_ASSETS.get(name)
    if media_type is None:
        raise HTTPException(status_code=404, detail="not found")
    return FileResponse(
        WIDGET_DIR / name, media_type=media_type, headers={"Cache-Control": PAGE_CACHE_CONTROL}
    )


@router.get("/", include_in_schema=False)
async def demo_shop() -> FileResponse:
    """A demo shop page that embeds the bubble with the one-line script tag."""
    return FileResponse(
        WIDGET_DIR / "demo-shop.html", headers={"Cache-Control": PAGE_CACHE_CONTROL}
    )


@router.get("/demo", include_in_schema=False)
async def plain_demo() -> FileResponse:
    """The plain protocol demo: a bare chat box, no bubble (a fallback and a reference client)."""
    return FileResponse(WIDGET_DIR / "demo.html", headers={"Cache-Control": PAGE_CACHE_CONTROL})
