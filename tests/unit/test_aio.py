"""What a platform call needs in place before it is made: the async backend httpx's first
connection would import (herald.aio), and sniffio, which httpcore asks on every request."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

FIRST_CONNECTION = """
import asyncio, sys
import httpx
from herald import aio

client = httpx.AsyncClient()  # as the container builds it, before a run holds its records
asyncio.run(aio.ready_http_backend())
print("anyio._backends._asyncio" in sys.modules)
"""


def test_readying_the_http_backend_imports_what_the_first_connection_would() -> None:
    # A fresh interpreter: in this one another test may have made a connection already.
    run = subprocess.run(
        [sys.executable, "-c", FIRST_CONNECTION], capture_output=True, text=True, check=True
    )
    assert run.stdout.strip() == "True"


def test_sniffio_is_installed_so_httpcore_does_not_search_for_it_on_every_request() -> None:
    # httpcore imports sniffio each time it sets up a lock, an event or a cancellation shield;
    # missing, each of those is a failed search of sys.path (bench/bench_publish_calls.py).
    assert importlib.util.find_spec("sniffio") is not None
