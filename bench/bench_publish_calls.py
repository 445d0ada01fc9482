"""The worker's CPU for each platform call when a burst fires, with and without sniffio (JSON).

    .venv/bin/python bench/bench_publish_calls.py [--calls 300] [--rounds 3]

At a burst's second a worker invocation makes up to a batch's hundred platform calls at once,
each on a connection of its own (the pool keeps twenty between bursts). This times what that
costs the worker's event loop: LinkedIn's real publisher (herald.platforms.linkedin) on the
container's own httpx client settings, `--calls` publishes at once to a local server in another
process that answers as LinkedIn's Posts API does (201, the post's URN in `x-restli-id`). Only
the event loop thread's CPU is counted, so the server's is not in the figures.

The two cases alternate, `--rounds` times each, in one process:
  with_sniffio      as the layer ships (layers/herald/requirements.txt)
  without_sniffio   as it would be without sniffio: httpcore's `import sniffio` (made each
                    time it sets up a lock, an event or a cancellation shield) searches the
                    whole sys.path and fails, as that import does when the package is missing
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.machinery
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import _env

SERVER = r"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class LinkedIn(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    count = 0

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        LinkedIn.count += 1
        self.send_response(201)
        self.send_header("x-restli-id", f"urn:li:share:{LinkedIn.count}")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), LinkedIn)
server.daemon_threads = True
print("ready", flush=True)
server.serve_forever()
"""


class _Missing:
    """A finder that makes `import sniffio` cost what it costs when sniffio is not installed: a
    search of every sys.path entry, then ModuleNotFoundError."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name != "sniffio":
            return
        # What the import system does for a name no entry has: ask every sys.path entry.
        importlib.machinery.PathFinder.find_spec("sniffio_is_not_installed")
        raise ModuleNotFoundError("No module named 'sniffio'", name=name)


@contextmanager
def without_sniffio() -> Iterator[None]:
    saved: ModuleType | None = sys.modules.pop("sniffio", None)
    finder = _Missing()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
        if saved is not None:
            sys.modules["sniffio"] = saved


async def _burst(calls: int, base: str) -> float:
    """ms of the event loop thread's CPU per call, for `calls` publishes at once on a new client
    (a burst opens its connections)."""
    import httpx

    from herald.accounts import Credentials
    from herald.platforms.base import Content, Progress
    from herald.platforms.images import ImageFetcher
    from herald.platforms.linkedin import LinkedInPublisher
    from herald.settings import Settings

    timeout = httpx.Timeout(10.0, connect=3.0)
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as http:
        publisher = LinkedInPublisher(
            http,
            api_base=base,
            version=Settings.model_fields["linkedin_version"].default,
            images=ImageFetcher(http, max_bytes=1),
        )
        creds = Credentials("acc_li", "linkedin", "urn:li:person:bench", "token")
        content = Content(text="Everybody posts at nine: the bakery opens its doors. " * 4)
        await publisher.publish(creds, content, Progress())  # the client's first use, untimed
        started = time.thread_time()
        await asyncio.gather(*(publisher.publish(creds, content, Progress()) for _ in range(calls)))
        return 1000 * (time.thread_time() - started) / calls


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    port = _env.free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(port)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        server.stdout.readline()
        base = f"http://127.0.0.1:{port}"
        results: dict[str, list[float]] = {"with_sniffio": [], "without_sniffio": []}
        for _ in range(args.rounds):
            results["with_sniffio"].append(asyncio.run(_burst(args.calls, base)))
            with without_sniffio():
                results["without_sniffio"].append(asyncio.run(_burst(args.calls, base)))
    finally:
        server.terminate()
        server.wait()
    with_ms = statistics.median(results["with_sniffio"])
    without_ms = statistics.median(results["without_sniffio"])
    print(
        json.dumps(
            {
                "benchmark": "publish_calls",
                "calls_at_once": args.calls,
                "rounds": args.rounds,
                "load_average_1m": round(os.getloadavg()[0], 2),
                "worker_cpu_ms_per_call": {
                    "with_sniffio": round(with_ms, 3),
                    "without_sniffio": round(without_ms, 3),
                },
                "without_over_with": round(without_ms / with_ms, 2),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
