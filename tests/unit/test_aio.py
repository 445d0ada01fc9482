"""herald.aio: readying what a process's first platform call would import."""

from __future__ import annotations

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
