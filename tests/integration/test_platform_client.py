"""The one HTTP client every business's platform calls share keeps nothing between them."""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest

from herald import aio
from herald.container import Container
from herald.settings import Settings
from tests.fakes.local_http import serving


class _SetsACookie(BaseHTTPRequestHandler):
    cookies_received: list[str | None] = []

    def do_GET(self) -> None:
        _SetsACookie.cookies_received.append(self.headers.get("Cookie"))
        self.send_response(200)
        self.send_header("Set-Cookie", "session=tenant-a; Path=/")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    with serving(_SetsACookie) as port:
        yield f"http://127.0.0.1:{port}"


def test_a_cookie_set_for_one_request_is_not_sent_on_the_next(server: str) -> None:
    container = Container(Settings(HERALD_ENV="test"))  # type: ignore[call-arg]
    _SetsACookie.cookies_received.clear()

    async def twice() -> None:
        await container.http.get(f"{server}/for-business-a")
        await container.http.get(f"{server}/for-business-b")
        await container.http.aclose()

    aio.run(twice())

    assert _SetsACookie.cookies_received == [None, None]
    assert len(container.http.cookies.jar) == 0
