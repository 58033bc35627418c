"""Security headers on every HTTP response: what a browser may run, frame and send along.

Our pages (the console, the demo shop, the demo) load only our own scripts: no inline script,
no eval, no plugins, never in a frame. Styles may be inline because the chat bubble styles its
shadow root with a <style> element built from the site's colours (theme.js). `/widget.js` is
loaded by other sites as a script, which these headers do not hinder (CSP and frame rules
govern documents, not the scripts they load). The OpenAPI pages, when served, run Swagger UI's
own inline script from a CDN, so they get no CSP; production does not serve them by default.
"""

from __future__ import annotations

from collections.abc import Awaitable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        # Agents' avatars are uploaded to and served by this server (handoff/avatars.py);
        # nothing else is loaded from elsewhere. data: is for small inline icons.
        "img-src 'self' data:",
        "connect-src 'self'",  # the websockets and REST of this server
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",  # a console URL or a page's query never leaves for others
}
DOCS_PATHS = ("/docs", "/redoc")  # Swagger UI and ReDoc: inline script by design


class SecurityHeaders:
    """ASGI middleware adding the headers above; a header a route set itself is kept."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # A plain call, not a coroutine: a websocket goes straight on to the app, with no
        # frame of ours held for as long as it is open (issue 12).
        if scope["type"] != "http":
            return self.app(scope, receive, send)
        return self._http(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        with_csp = not str(scope.get("path", "")).startswith(DOCS_PATHS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in ALWAYS.items():
                    headers.setdefault(name, value)
                if with_csp:
                    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
            await send(message)

        await self.app(scope, receive, send_with_headers)
