"""The suite's tiers, decided by where a test lives, so a new test file needs no marker of its own.

    tier         where                                   what it may touch
    unit         tests/unit/                             nothing outside the process: no socket
    contract     tests/contract/                         a fake and its real twin, one suite
    integration  tests/integration/, security/, fuzz/    real Redis, moto, in-process HTTP
    e2e          tests/e2e/                              the local stack as processes over HTTP
    browser      tests/e2e/test_dashboard.py             e2e, plus Node and Chromium
    sam          tests/sam/, security/test_cfn_lint.py   the SAM CLI's own virtual environment

`make check` runs `-m unit` (the inner loop, well under a minute); `make test` runs every tier.
A test outside these folders counts as integration: it may open sockets, and nothing skips it.

The unit tier's guard refuses every socket operation that would leave the process (connect,
bind, name lookups) with an error that says where the test belongs; a Unix socket pair, which
asyncio's event loop makes for itself, is left alone.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parent

# First match wins: the more specific paths come first. Paths are relative to tests/.
TIERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("e2e/test_dashboard.py", ("e2e", "browser", "slow")),
    ("security/test_cfn_lint.py", ("sam", "slow")),
    ("unit/", ("unit",)),
    ("contract/", ("contract",)),
    ("integration/", ("integration",)),
    ("security/", ("integration",)),
    ("fuzz/", ("integration",)),
    ("e2e/", ("e2e", "slow")),
    ("sam/", ("sam", "slow")),
)
DEFAULT: tuple[str, ...] = ("integration",)


def tier_markers(path: Path) -> tuple[str, ...]:
    """The markers a test file gets from where it lives."""
    try:
        relative = path.resolve().relative_to(TESTS).as_posix()
    except ValueError:
        return DEFAULT
    for prefix, markers in TIERS:
        if relative == prefix or (prefix.endswith("/") and relative.startswith(prefix)):
            return markers
    return DEFAULT


class SocketUsedInUnitTest(RuntimeError):
    """Not an OSError on purpose: code that survives a network failure (a Redis outage, a
    platform timeout) must not swallow this and let the test pass."""


def _refused(what: str, where: object) -> SocketUsedInUnitTest:
    return SocketUsedInUnitTest(
        f"a unit test tried to {what} {where!r}: unit tests open no sockets. Hand the code a "
        "fake (tests/fakes) or an httpx.MockTransport, or move the test to tests/integration "
        "if it needs Redis or a server."
    )


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_bind = socket.socket.bind
_real_getaddrinfo = socket.getaddrinfo


def _connect(self: socket.socket, address: Any) -> None:
    if self.family == socket.AF_UNIX:  # asyncio's own wake-up pair, never the network
        return _real_connect(self, address)
    self.close()  # the caller's cleanup expects an OSError, and this is not one
    raise _refused("connect to", address)


def _connect_ex(self: socket.socket, address: Any) -> int:
    if self.family == socket.AF_UNIX:
        return _real_connect_ex(self, address)
    self.close()
    raise _refused("connect to", address)


def _bind(self: socket.socket, address: Any) -> None:
    if self.family == socket.AF_UNIX:
        return _real_bind(self, address)
    self.close()
    raise _refused("listen on", address)


def _getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
    # An address spelt out (127.0.0.1, 2130706433, ::1) or localhost resolves without a network
    # (code under test checks such spellings); any other name would be a DNS query.
    if host == "localhost" or host is None:
        return _real_getaddrinfo(host, port, *args, **kwargs)
    try:
        _real_getaddrinfo(host, None, flags=socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError):
        raise _refused("look up", host) from None
    return _real_getaddrinfo(host, port, *args, **kwargs)


@pytest.fixture(autouse=True)
def _unit_tests_open_no_sockets(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.node.get_closest_marker("unit") is None:
        yield
        return
    patch = pytest.MonkeyPatch()
    patch.setattr(socket.socket, "connect", _connect)
    patch.setattr(socket.socket, "connect_ex", _connect_ex)
    patch.setattr(socket.socket, "bind", _bind)
    patch.setattr(socket, "getaddrinfo", _getaddrinfo)
    try:
        yield
    finally:
        patch.undo()


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for marker in tier_markers(item.path):
            item.add_marker(marker)
