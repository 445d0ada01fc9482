"""One event loop per process.

Lambda reuses a process across invocations, and the async Redis and httpx clients are bound to the
loop they first ran on. `asyncio.run` would make a new loop per invocation and strand them, so the
handlers run coroutines on this one loop instead (Mangum finds the same loop through
`asyncio.get_event_loop`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

_loop: asyncio.AbstractEventLoop | None = None


def loop() -> asyncio.AbstractEventLoop:
    global _loop
    if _loop is None or _loop.is_closed():
        _loop = asyncio.new_event_loop()
    # Re-installed every call: something else in the process (a test runner, a library) may have
    # replaced or cleared the current loop since the last invocation.
    asyncio.set_event_loop(_loop)
    return _loop


def run[T](coro: Coroutine[Any, Any, T]) -> T:
    return loop().run_until_complete(coro)
