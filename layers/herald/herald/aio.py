"""One event loop per process.

Lambda reuses a process across invocations, and the async Redis and httpx clients are bound to the
loop they first ran on. `asyncio.run` would make a new loop per invocation and strand them, so the
handlers run coroutines on this one loop instead (Mangum finds the same loop through
`asyncio.get_event_loop`).

boto3 is synchronous: coroutines hand its calls to the loop's default thread pool
(`asyncio.to_thread`). Python sizes that pool from the CPU count, six threads on a Lambda with two
vCPUs; `ensure_threads` widens it when more calls than that should be in flight at once (the
publish worker's concurrent records).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

_loop: asyncio.AbstractEventLoop | None = None
_pool: tuple[ThreadPoolExecutor, int] | None = None  # the pool this module installed, its size


def loop() -> asyncio.AbstractEventLoop:
    global _loop, _pool
    if _loop is None or _loop.is_closed():
        _loop = asyncio.new_event_loop()
        _pool = None
    # Re-installed every call: something else in the process (a test runner, a library) may have
    # replaced or cleared the current loop since the last invocation.
    asyncio.set_event_loop(_loop)
    return _loop


def run[T](coro: Coroutine[Any, Any, T]) -> T:
    return loop().run_until_complete(coro)


def ensure_threads(count: int) -> None:
    """At least `count` threads for `asyncio.to_thread` on this loop (never fewer than before)."""
    global _pool
    current = loop()
    if _pool is not None and _pool[1] >= count:
        return
    old, pool = _pool, ThreadPoolExecutor(max_workers=count, thread_name_prefix="herald-io")
    _pool = (pool, count)
    current.set_default_executor(pool)
    if old is not None:
        old[0].shutdown(wait=False)  # its calls in flight finish; it takes no new ones


async def ready_http_backend() -> None:
    """Import the async backend httpx's transport would import at its first connection.

    httpcore picks anyio's asyncio backend when it opens its first connection, and imports it
    then: about 70 ms of CPU, once per process. A worker that holds records until their second
    calls this while it holds, so a fresh execution environment (a burst scales out to many) does
    not spend that at the second, in front of its first platform call."""
    import anyio.lowlevel

    await anyio.lowlevel.checkpoint()  # anyio settles on (and imports) the loop's backend here
