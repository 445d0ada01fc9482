"""How the local stack starts: every port it listens on is claimed before anything else runs,
every wait has a deadline, and a signal during start-up stops it there.

A port held by another program used to show as a hang: moto's threaded server died in its thread
while the stack waited for it without end, and the waits ignored Ctrl-C. Now the stack binds its
sockets first (so nothing can take a port between the check and the server starting), says which
port is taken and which option moves it, and exits.
"""

from __future__ import annotations

import errno
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass


class StartupFailed(Exception):
    """Start-up cannot go on; the message says why and what to do, for a person."""


class Interrupted(BaseException):
    """Ctrl-C or SIGTERM arrived during start-up. A BaseException, as KeyboardInterrupt is, so
    no `except Exception` on the way up swallows it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@dataclass(frozen=True)
class Port:
    what: str  # "the API"
    option: str  # "--port", which moves it
    port: int


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on host:port, as uvicorn and werkzeug would make it themselves
    (SO_REUSEADDR, so a port left in TIME_WAIT by the last run is not reported as taken)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(False)
    return sock


def claim(host: str, ports: Iterable[Port]) -> dict[int, socket.socket]:
    """Every port's listening socket, or StartupFailed naming each one that cannot be had."""
    wanted = list(ports)
    problems: list[str] = []
    seen: dict[int, Port] = {}
    for p in wanted:
        if p.port in seen:
            first = seen[p.port]
            problems.append(
                f"{first.what} ({first.option}) and {p.what} ({p.option}) are both given port "
                f"{p.port}: give each its own"
            )
        seen.setdefault(p.port, p)
    claimed: dict[int, socket.socket] = {}
    if not problems:
        for p in wanted:
            try:
                claimed[p.port] = listen(host, p.port)
            except OSError as exc:
                problems.append(_refused(host, p, exc))
    if problems:
        for sock in claimed.values():
            sock.close()
        raise StartupFailed("\n".join(problems))
    return claimed


def _refused(host: str, p: Port, exc: OSError) -> str:
    where = f"{host}:{p.port}"
    if exc.errno == errno.EACCES:
        return (
            f"port {p.port} ({p.what}) needs privileges to listen on {where}: pick a port "
            f"above 1023 with {p.option}"
        )
    if exc.errno == errno.EADDRINUSE:
        return (
            f"port {p.port} ({p.what}) is in use by another program: stop it, or pick another "
            f'port with {p.option} (make dev DEV_ARGS="{p.option} {_other(p.port)}")'
        )
    return f"cannot listen on {where} for {p.what}: {exc.strerror or exc}"


def _other(port: int) -> int:
    return port + 1 if port < 65535 else port - 1


def port_taken(host: str, port: int) -> bool:
    try:
        listen(host, port).close()
    except OSError:
        return True
    return False


def wait_for(
    ready: Callable[[], bool],
    *,
    seconds: float,
    failed: str,
    alive: Callable[[], bool] | None = None,
    died: str | None = None,
    interval: float = 0.1,
) -> None:
    """Poll `ready` until it answers True. StartupFailed with `failed` after `seconds`, or with
    `died` as soon as `alive` says the thing waited for has gone."""
    deadline = time.monotonic() + seconds
    while not ready():
        if alive is not None and not alive():
            raise StartupFailed(died or failed)
        if time.monotonic() > deadline:
            raise StartupFailed(f"{failed} (waited {seconds:g} s)")
        time.sleep(interval)
