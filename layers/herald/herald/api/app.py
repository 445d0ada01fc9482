"""The FastAPI application factory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from herald import __version__
from herald import container as composition
from herald.api import problems, ratelimit
from herald.api.headers import SecurityHeaders
from herald.api.limits import BodyLimit
from herald.api.routes import accounts, analytics, health, me, oauth, posts, publish, schedule
from herald.container import Container


class CatchAll:
    """Answer any unhandled exception with a 500 problem before Starlette's error middleware
    re-raises it, so neither uvicorn nor Mangum prints a traceback for the client to see."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise
            response = await problems.unhandled(exc)
            await response(scope, receive, send)


def create_app(container: Container | None = None, **fastapi_kwargs: Any) -> FastAPI:
    app = FastAPI(
        title="Herald",
        version=__version__,
        description=(
            "Publish and schedule posts to LinkedIn, X, Facebook Pages and Instagram. "
            "Authenticate with `Authorization: Bearer <api key>`. Errors are "
            "`application/problem+json` (RFC 9457)."
        ),
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        **fastapi_kwargs,
    )
    app.state.container = container
    problems.install(app)
    app.include_router(health.router)
    app.include_router(me.router, prefix="/api/v1")
    app.include_router(oauth.router, prefix="/api/v1")
    app.include_router(accounts.router, prefix="/api/v1")
    app.include_router(schedule.router, prefix="/api/v1")
    app.include_router(publish.router, prefix="/api/v1")
    app.include_router(posts.router, prefix="/api/v1")
    app.include_router(analytics.router, prefix="/api/v1")
    ratelimit.install(app)
    _mount_dashboard(app)
    app.add_middleware(
        BodyLimit,
        limit=lambda: (container or composition.get_container()).settings.max_body_bytes,
    )
    app.add_middleware(CatchAll)
    app.add_middleware(SecurityHeaders)  # outermost: a 500 from CatchAll gets them too
    return app


DASHBOARD_DIR = Path(__file__).parent / "static"


def _mount_dashboard(app: FastAPI) -> None:
    """The dashboard's built files at /app, when they were built (`make dev` builds them).

    Served by the API itself so the page and the API share one origin: no CORS, and the API key
    typed into the page is only ever sent back to the origin that served it.
    """
    if not (DASHBOARD_DIR / "index.html").is_file():
        return
    from starlette.staticfiles import StaticFiles

    app.mount("/app", StaticFiles(directory=DASHBOARD_DIR, html=True), name="dashboard")
