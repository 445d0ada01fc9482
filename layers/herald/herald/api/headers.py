"""Security headers on every answer, errors included.

The dashboard is served by the API (one origin), so its page gets a Content-Security-Policy that
allows only its own scripts, styles and API calls: an injected script could otherwise read the
API key the page keeps in sessionStorage. The API's answers carry data of one business and are
never to be cached; nothing Herald serves is meant to be framed or sniffed.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

Headers = tuple[tuple[str, str], ...]

EVERYWHERE: Headers = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Strict-Transport-Security", "max-age=63072000; includeSubDomains"),
)
DASHBOARD: Headers = (
    (
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        # A post's preview shows its image_url, wherever it is.
        "img-src * data: blob:; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'",
    ),
)
API: Headers = (("Cache-Control", "no-store"),)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        extra = EVERYWHERE
        if path == "/app" or path.startswith("/app/"):
            extra += DASHBOARD
        elif path.startswith("/api/"):
            extra += API

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra:
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, with_headers)
