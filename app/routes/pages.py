"""Pages and browser code: `/widget.js` (cached, gzipped, cross-origin), the console page and
its assets, the demo shop."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from app.db import SessionDep
from app.security import PAGE_COOKIE, login_for_token
from app.widget_bundle import ADMIN_JS, CONSOLE_JS, WIDGET_DIR, WIDGET_JS, Asset, load_bundle

# The script URL is unversioned (customers paste it once), so browsers keep it only briefly and
# then revalidate with the ETag: a release reaches every site within five minutes, and a
# revalidation costs a 304 with no body. stale-while-revalidate hides that round trip.
WIDGET_CACHE_CONTROL = "public, max-age=300, stale-while-revalidate=86400"
# Pages (the demo shop, the console) always revalidate so a new release is picked up at once.
PAGE_CACHE_CONTROL = "no-cache"
JS_MEDIA_TYPE = "text/javascript; charset=utf-8"

router = APIRouter(include_in_schema=False)


def _etag_matches(header: str | None, *etags: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    offered = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return any(tag in offered for tag in etags)


def script_response(request: Request, asset: Asset, headers: dict[str, str]) -> Response:
    """The asset as JavaScript: 304 on a matching ETag, gzip when the client accepts it."""
    use_gzip = "gzip" in request.headers.get("accept-encoding", "").lower()
    headers = {
        **headers,
        "ETag": asset.etag_gz if use_gzip else asset.etag,
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
    }
    if _etag_matches(request.headers.get("if-none-match"), asset.etag, asset.etag_gz):
        return Response(status_code=304, headers=headers)
    if use_gzip:
        headers["Content-Encoding"] = "gzip"
    return Response(
        content=asset.gzipped if use_gzip else asset.body, media_type=JS_MEDIA_TYPE, headers=headers
    )


@router.get("/widget.js")
async def widget_js(request: Request) -> Response:
    """The chat bubble script, for `<script src=".../widget.js" async>` on any site."""
    return script_response(
        request,
        load_bundle(WIDGET_JS),
        {
            "Cache-Control": WIDGET_CACHE_CONTROL,
            # Any site may load it, with or without crossorigin=..., and under COEP.
            "Access-Control-Allow-Origin": "*",
            "Cross-Origin-Resource-Policy": "cross-origin",
        },
    )


# What the console and demo pages load from /static; nothing else in widget/ (the modules one
# by one, package files, node_modules for the accessibility tests) is served. Every page's
# script is a file here: the pages' Content-Security-Policy (app/headers.py) runs no inline one.
CONSOLE_SCRIPTS = {"console.js": CONSOLE_JS, "admin.js": ADMIN_JS}
CONSOLE_FILES = {
    "console.css": "text/css",
    "admin.css": "text/css",
    "demo.js": JS_MEDIA_TYPE,
    "demo-shop.js": JS_MEDIA_TYPE,
}
# Packages npm installed (widget/package.json; `make widget-deps`), served from node_modules as
# they are, from this server: the admin's reports charts (Chart.js, issue 15), never a CDN.
VENDOR_FILES = {"chart.umd.min.js": "chart.js/dist/chart.umd.min.js"}


@router.get("/static/{name}")
async def console_asset(name: str, request: Request) -> Response:
    """The agent and admin consoles' stylesheets and scripts; the demo pages' scripts."""
    entry = CONSOLE_SCRIPTS.get(name)
    if entry is not None:
        return script_response(request, load_bundle(entry), {"Cache-Control": PAGE_CACHE_CONTROL})
    vendored = VENDOR_FILES.get(name)
    if vendored is not None:
        path = WIDGET_DIR / "node_modules" / vendored
        if not path.is_file():
            raise HTTPException(404, f"{name} is not installed: run `make widget-deps`")
        return FileResponse(
            path, media_type=JS_MEDIA_TYPE, headers={"Cache-Control": PAGE_CACHE_CONTROL}
        )
    media_type = CONSOLE_FILES.get(name)
    if media_type is None:
        raise HTTPException(status_code=404, detail="not found")
    return FileResponse(
        WIDGET_DIR / name, media_type=media_type, headers={"Cache-Control": PAGE_CACHE_CONTROL}
    )


@router.get("/")
async def demo_shop() -> FileResponse:
    """A demo shop page that embeds the bubble with the one-line script tag."""
    return FileResponse(
        WIDGET_DIR / "demo-shop.html", headers={"Cache-Control": PAGE_CACHE_CONTROL}
    )


@router.get("/demo")
async def plain_demo() -> FileResponse:
    """The plain protocol demo: a bare chat box, no bubble (a fallback and a reference client)."""
    return FileResponse(WIDGET_DIR / "demo.html", headers={"Cache-Control": PAGE_CACHE_CONTROL})


@router.get("/agent")
async def agent_page() -> FileResponse:
    """The agent console."""
    return FileResponse(WIDGET_DIR / "console.html", headers={"Cache-Control": PAGE_CACHE_CONTROL})


@router.get("/console")
async def console_redirect() -> RedirectResponse:
    return RedirectResponse("/agent")


FORBIDDEN_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>403 · chatdesk</title><link rel="stylesheet" href="/static/console.css"></head>
<body><main class="card login"><h1>403: admins only</h1>
<p>This page is for chatdesk admins. <a href="/agent">Back to the console</a></p></main>
</body></html>
"""


@router.get("/admin", response_model=None)
async def admin_page(request: Request, session: SessionDep) -> Response:
    """The admin console, for admins only: the login cookie the console's log in set decides.

    No login (or an ended one): to the console's log in, which comes back here. An agent who
    is not an admin: 403. The page's own calls carry the bearer token like the console's.
    """
    login = await login_for_token(
        session=session, tokens=request.app.state.tokens, token=request.cookies.get(PAGE_COOKIE)
    )
    if login is None:
        return RedirectResponse("/agent?next=/admin", status_code=303)
    if not login.agent.is_admin:
        return HTMLResponse(FORBIDDEN_PAGE, status_code=403)
    return FileResponse(WIDGET_DIR / "admin.html", headers={"Cache-Control": PAGE_CACHE_CONTROL})
