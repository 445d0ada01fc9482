"""Run a POST handler under its `Idempotency-Key` (see herald.idempotency for the rules).

The handler is given the post id the key is bound to (`Taken.bound_id`) and whether an earlier
request with the key may already have created that post (`Taken.resumed`); without a key, a new
id that nothing else knows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from herald.api import problems
from herald.container import Container
from herald.errors import HeraldError
from herald.idempotency import StoredResponse, Taken, check_key, fingerprint, worth_replaying
from herald.ids import new_id

REPLAYED_HEADER = "Idempotent-Replayed"
_KEPT_HEADERS = ("content-type", "location")

Produce = Callable[[Taken], Awaitable[Response]]


async def idempotent(
    container: Container,
    business_id: str,
    key: str | None,
    request: Request,
    produce: Produce,
) -> Response:
    if key is None:
        return await produce(Taken(new_id("post"), resumed=False))
    key = check_key(key)
    store = container.idempotency
    ttl = container.settings.idempotency_ttl_seconds
    fp = fingerprint(request.method, request.url.path, await request.body())
    taken = await run_in_threadpool(
        store.begin, business_id, key, fp, bound_id=new_id("post"), now=_now(container), ttl=ttl
    )
    if isinstance(taken, StoredResponse):
        return Response(
            taken.body,
            status_code=taken.status,
            headers={**taken.headers, REPLAYED_HEADER: "true"},
        )
    try:
        try:
            response = await produce(taken)
        except HeraldError as exc:
            # A refusal (422 content, unknown account) is a final answer too: replay it.
            response = problems.from_herald_error(exc)
        final = worth_replaying(response.status_code)
        first = _stored(response) if final else None
    except BaseException:
        # Whatever happened, the key stays bound to its post: the next request with it resumes
        # that post rather than making another.
        await run_in_threadpool(store.let_go, business_id, key, fp)
        raise
    if first is None:
        await run_in_threadpool(store.let_go, business_id, key, fp)
        return response
    await run_in_threadpool(
        store.complete, business_id, key, fp, first, now=_now(container), ttl=ttl
    )
    return response


def _stored(response: Response) -> StoredResponse:
    body = bytes(response.body).decode()
    headers = {k: v for k, v in response.headers.items() if k.lower() in _KEPT_HEADERS}
    return StoredResponse(response.status_code, body, headers)


def _now(container: Container) -> int:
    return int(container.clock.now().timestamp())
