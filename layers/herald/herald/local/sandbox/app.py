"""The sandbox's ASGI application: `uvicorn --factory herald.local.sandbox.app:create_app`."""

from __future__ import annotations

from fastapi import FastAPI

from herald.local.sandbox import (
    linkedin_media,
    metrics,
    oauth,
    publishing,
    threads,
    threads_insights,
)
from herald.local.sandbox.state import SandboxState
from herald.settings import Settings, get_settings


def create_app(state: SandboxState | None = None, settings: Settings | None = None) -> FastAPI:
    app = FastAPI(title="Herald platform sandbox", docs_url=None, redoc_url=None)
    app.state.sandbox = state or SandboxState.for_settings(settings or get_settings())
    # Publishing first: its Graph routes match only its own ids, so the OAuth catch-all
    # `/{version}/{node_id}` cannot shadow them.
    # Metrics first: its Graph routes match only Page post ids and `/insights`, never a node
    # another router serves.
    app.include_router(metrics.router)
    app.include_router(publishing.router)
    app.include_router(linkedin_media.router)
    app.include_router(threads.router)
    app.include_router(threads_insights.router)
    app.include_router(oauth.router)
    return app
