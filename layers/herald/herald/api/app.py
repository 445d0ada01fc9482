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
from herald.api.routes import (
    accounts,
    analytics,
    health,
    me,
    media,
    oauth,
    posts,
    publish,
    publishing_limits,
    schedule,
)
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
        docs_url=None if _SWAGGER_UI else "/docs",
        redoc_url=None,
        **fastapi_kwargs,
    )
    app.state.container = container
    problems.install(app)
    app.include_router(health.router)
    app.include_router(me.router, prefix="/api/v1")
    app.include_router(oauth.router, prefix="/api/v1")
    app.include_router(accounts.router, prefix="/api/v1")
    app.include_router(publishing_limits.router, prefix="/api/v1")
    app.include_router(schedule.router, prefix="/api/v1")
    app.include_router(publish.router, prefix="/api/v1")
    app.include_router(posts.router, prefix="/api/v1")
    app.include_router(media.router, prefix="/api/v1")
    app.include_router(analytics.router, prefix="/api/v1")
    ratelimit.install(app)
    _mount_dashboard(app)
    if _SWAGGER_UI:
        _serve_docs(app)
    app.add_middleware(
        BodyLimit,
        limit=lambda: (container or composition.get_container()).settings.max_body_bytes,
    )
    app.add_middleware(CatchAll)
    app.add_middleware(SecurityHeaders)  # outermost: a 500 from CatchAll gets them too
    return app


DASHBOARD_DIR = Path(__file__).parent / "static"
# Swagger UI's files, copied from the locked npm package by the dashboard's build. Without them
# (no dashboard built), /docs is FastAPI's own page, which loads Swagger UI from a CDN.
_SWAGGER_UI = (DASHBOARD_DIR / "docs" / "swagger-ui-bundle.js").is_file()


def _serve_docs(app: FastAPI) -> None:
    """/docs with Swagger UI from this origin: a page where people paste their API key loads
    no script whose content a third party controls."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from starlette.responses import HTMLResponse

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Herald API",
            swagger_js_url="/app/docs/swagger-ui-bundle.js",
            swagger_css_url="/app/docs/swagger-ui.css",
            swagger_favicon_url="data:,",
        )


def _mount_dashboard(app: FastAPI) -> None:
    """The dashboard's built files at /app, when they were built (`make dev` builds them).

    Served by the API itself so the page and the API share one origin: no CORS, and the API key
    typed into the page is only ever sent back to the origin that served it.
    """
    if not (DASHBOARD_DIR / "index.html").is_file():
        return
    from starlette.staticfiles import StaticFiles

    app.mount("/app", StaticFiles(directory=DASHBOARD_DIR, html=True), name="dashboard")
