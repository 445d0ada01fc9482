"""Request body size limit (settings.max_body_bytes, 256 KiB by default).

A pure ASGI middleware, so a body over the limit is refused before anything buffers it: a
Content-Length over the limit is answered with a 413 problem at once, and a body sent without one
(chunked) is counted as it arrives and refused the moment it passes the limit. API Gateway's own
10 MB cap is far above what any Herald request needs; this one keeps a Lambda's memory and a
DynamoDB item (400 KB) safe from oversized posts.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from herald.api import problems

CONTENT_TOO_LARGE = 413


def _detail(limit: int) -> str:
    return f"the request body is larger than {limit} bytes"


class BodyLimit:
    def __init__(self, app: ASGIApp, limit: Callable[[], int]) -> None:
        self.app = app
        # Read per request: the settings belong to the container, which may be installed late.
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit()
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            response = problems.problem(
                CONTENT_TOO_LARGE, "Content Too Large", _detail(limit), code="content_too_large"
            )
            await response(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # FastAPI re-raises its own HTTPException from body parsing, and the app's
                    # handler (herald.api.problems) renders it as a 413 problem.
                    raise HTTPException(CONTENT_TOO_LARGE, _detail(limit))
            return message

        await self.app(scope, counting_receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
