"""Security headers on every answer, errors included.

The dashboard is served by the API (one origin), so its page gets a Content-Security-Policy that
allows only its own scripts, styles and API calls, and uploads to the media bucket (Compose sends
files straight to S3 with a presigned POST): an injected script could otherwise read the API key
the page keeps in sessionStorage and send it anywhere else. The API's answers carry data of one
business and are never to be cached; nothing Herald serves is meant to be framed or sniffed.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

Headers = tuple[tuple[str, str], ...]

EVERYWHERE: Headers = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Strict-Transport-Security", "max-age=63072000; includeSubDomains"),
)


def dashboard_headers(upload_origin: str | None = None) -> Headers:
    connect = "'self'" + (f" {upload_origin}" if upload_origin else "")
    return (
        (
            "Content-Security-Policy",
            f"default-src 'self'; script-src 'self'; style-src 'self'; connect-src {connect}; "
            # A post's preview shows its image_url, wherever it is; a picked file's thumbnail
            # and a video's first frame are blob: URLs of the file itself.
            "img-src * data: blob:; media-src 'self' blob:; object-src 'none'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ),
    )


API: Headers = (("Cache-Control", "no-store"),)


class SecurityHeaders:
    def __init__(
        self, app: ASGIApp, upload_origin: Callable[[], str | None] = lambda: None
    ) -> None:
        self.app = app
        self._upload_origin = upload_origin
        self._dashboard: Headers | None = None

    def dashboard(self) -> Headers:
        # Read once, on the first page: building it signs a POST with the container's client.
        if self._dashboard is None:
            self._dashboard = dashboard_headers(self._upload_origin())
        return self._dashboard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        extra = EVERYWHERE
        if path == "/app" or path.startswith("/app/"):
            extra += self.dashboard()
        elif path.startswith("/api/"):
            extra += API

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra:
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, with_headers)
