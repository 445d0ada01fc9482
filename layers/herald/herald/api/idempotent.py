"""Run a POST handler under its `Idempotency-Key` (see herald.idempotency for the rules)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from herald.api import problems
from herald.container import Container
from herald.errors import HeraldError
from herald.idempotency import StoredResponse, check_key, fingerprint, worth_replaying

REPLAYED_HEADER = "Idempotent-Replayed"
_KEPT_HEADERS = ("content-type", "location")


async def idempotent(
    container: Container,
    business_id: str,
    key: str | None,
    request: Request,
    produce: Callable[[], Awaitable[Response]],
) -> Response:
    if key is None:
        return await produce()
    key = check_key(key)
    store = container.idempotency
    ttl = container.settings.idempotency_ttl_seconds
    fp = fingerprint(request.method, request.url.path, await request.body())
    now = int(time.time())
    stored = await run_in_threadpool(store.begin, business_id, key, fp, now=now, ttl=ttl)
    if stored is not None:
        return Response(
            stored.body,
            status_code=stored.status,
            headers={**stored.headers, REPLAYED_HEADER: "true"},
        )
    try:
        response = await produce()
    except HeraldError as exc:
        # A refusal (422 content, unknown account) is a final answer too: replay it.
        response = problems.from_herald_error(exc)
    except BaseException:
        await run_in_threadpool(store.release, business_id, key, fp)
        raise
    if not worth_replaying(response.status_code):
        await run_in_threadpool(store.release, business_id, key, fp)
        return response
    body = bytes(response.body).decode()
    headers = {k: v for k, v in response.headers.items() if k.lower() in _KEPT_HEADERS}
    first = StoredResponse(response.status_code, body, headers)
    await run_in_threadpool(
        store.complete, business_id, key, fp, first, now=int(time.time()), ttl=ttl
    )
    return response
