"""Fetching a post's image_url: only from public hosts, redirects checked hop by hop, never more
than the cap, and only something that is an image."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from herald.platforms.base import ErrorKind, PlatformError
from herald.platforms.images import ImageFetcher
from tests.fakes.platform_http import FakePlatform, resolves_public

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def png(**headers: str) -> httpx.Response:
    return httpx.Response(200, content=PNG, headers={"content-type": "image/png", **headers})


@pytest.fixture
def platform() -> FakePlatform:
    return FakePlatform()


@pytest.fixture
async def http(platform: FakePlatform) -> AsyncIterator[httpx.AsyncClient]:
    client = platform.client()
    yield client
    await client.aclose()


def resolving_to(*addresses: str) -> object:
    async def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


async def refused(fetcher: ImageFetcher, url: str) -> PlatformError:
    with pytest.raises(PlatformError) as caught:
        await fetcher.fetch("x", url)
    return caught.value


async def test_an_image_on_a_public_host_is_fetched(
    platform: FakePlatform, http: httpx.AsyncClient
) -> None:
    platform.on("GET", "/cat.png", png())

    data, content_type = await ImageFetcher(http, resolve=resolves_public).fetch(
        "x", "https://cdn.example.com/cat.png"
    )

    assert (data, content_type) == (PNG, "image/png")


@pytest.mark.parametrize(
    "address", ["10.0.0.5", "127.0.0.1", "169.254.169.254", "100.64.0.1", "::1", "fd00::1"]
)
async def test_a_host_that_resolves_to_a_private_address_is_never_called(
    platform: FakePlatform, http: httpx.AsyncClient, address: str
) -> None:
    platform.on("GET", "/x.png", png())

    error = await refused(
        ImageFetcher(http, resolve=resolving_to(address)),  # type: ignore[arg-type]
        "https://images.example.com/x.png",
    )

    assert error.kind is ErrorKind.INVALID_CONTENT
    assert "not a public address" in error.detail
    assert platform.requests == []


async def test_one_private_address_among_public_ones_is_enough_to_refuse(
    platform: FakePlatform, http: httpx.AsyncClient
) -> None:
    fetcher = ImageFetcher(http, resolve=resolving_to("93.184.215.14", "10.1.2.3"))  # type: ignore[arg-type]

    await refused(fetcher, "https://images.example.com/x.png")

    assert platform.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://localhost:6379/",
        "http://[::ffff:127.0.0.1]/x.png",
        "http://2130706433/x.png",  # 127.0.0.1 spelt as one number
    ],
)
async def test_the_metadata_endpoint_and_loopback_spellings_are_refused(
    platform: FakePlatform, http: httpx.AsyncClient, url: str
) -> None:
    # The system's own resolver: literal and numeric spellings resolve without a network.
    error = await refused(ImageFetcher(http), url)

    assert error.kind is ErrorKind.INVALID_CONTENT
    assert platform.requests == []


async def test_a_redirect_to_a_private_address_is_not_followed(
    platform: FakePlatform, http: httpx.AsyncClient
) -> None:
    platform.on("GET", "/x.png", httpx.Response(302, headers={"location": "http://10.0.0.7/admin"}))

    error = await refused(
        ImageFetcher(http, resolve=resolves_public), "https://cdn.example.com/x.png"
    )

    assert "10.0.0.7" in error.detail
    assert [r.url.host for r in platform.requests] == ["cdn.example.com"]


async def test_a_redirect_to_a_public_host_is_followed(
    platform: FakePlatform, http: httpx.AsyncClient
) -> None:
    platform.on("GET", "/old.png", httpx.Response(301, headers={"location": "/new.png"}))
    platform.on("GET", "/new.png", png())

    data, _ = await ImageFetcher(http, resolve=resolves_public).fetch(
        "x", "https://cdn.example.com/old.png"
    )

    assert data == PNG


async def test_endless_redirects_end_in_a_clear_error(
    platform: FakePlatform, http: httpx.AsyncClient
) -> None:
    platform.on("GET", "/loop.png", httpx.Response(302, headers={"location": "/loop.png"}))

    error = await refused(
        ImageFetcher(http, resolve=resolves_public), "https://cdn.example.com/loop.png"
    )

    assert "redirected more than" in error.detail
    assert len(platform.requests) == 4


async def test_a_body_over_the_cap_is_refused_without_a_content_length(
    platform: FakePlatform, http: httpx.AsyncClient
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):  # 100 KiB, streamed, no length declared
            yield b"\xff\xd8\xff" + b"\x00" * 1021

    def endless(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=chunks(), headers={"content-type": "image/jpeg"})

    platform.on("GET", "/big.jpg", endless)

    error = await refused(
        ImageFetcher(http, max_bytes=10 * 1024, resolve=resolves_public),
        "https://cdn.example.com/big.jpg",
    )

    assert error.kind is ErrorKind.INVALID_CONTENT
    assert "larger than" in error.detail


async def test_a_declared_length_over_the_cap_is_refused_before_the_body_is_read(
    platform: FakePlatform, http: httpx.AsyncClient
) -> None:
    platform.on("GET", "/huge.png", png(**{"content-length": str(50 * 1024 * 1024)}))

    error = await refused(
        ImageFetcher(http, resolve=resolves_public), "https://cdn.example.com/huge.png"
    )

    assert "larger than 15 MiB" in error.detail


async def test_a_page_that_is_not_an_image_is_refused(
    platform: FakePlatform, http: httpx.AsyncClient
) -> None:
    platform.on(
        "GET",
        "/x.png",
        httpx.Response(200, text="<html>login</html>", headers={"content-type": "text/html"}),
    )

    error = await refused(
        ImageFetcher(http, resolve=resolves_public), "https://cdn.example.com/x.png"
    )

    assert error.detail == "image_url did not answer with an image (text/html)"


async def test_an_image_served_as_octet_stream_is_known_by_its_first_bytes(
    platform: FakePlatform, http: httpx.AsyncClient
) -> None:
    platform.on(
        "GET",
        "/x",
        httpx.Response(200, content=PNG, headers={"content-type": "binary/octet-stream"}),
    )

    _, content_type = await ImageFetcher(http, resolve=resolves_public).fetch(
        "x", "https://bucket.s3.amazonaws.com/x"
    )

    assert content_type == "image/png"


async def test_a_host_that_does_not_resolve_is_worth_another_try(
    http: httpx.AsyncClient,
) -> None:
    async def no_answer(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    error = await refused(ImageFetcher(http, resolve=no_answer), "https://cdn.example.com/x.png")

    assert error.kind is ErrorKind.TRANSIENT


async def test_the_sandbox_setting_lets_a_local_image_through(
    platform: FakePlatform, http: httpx.AsyncClient
) -> None:
    platform.on("GET", "/_sandbox/images/cat.png", png())

    data, _ = await ImageFetcher(http, allow_private=True).fetch(
        "x", "http://127.0.0.1:8700/_sandbox/images/cat.png"
    )

    assert data == PNG


# --- over real HTTP: the address actually connected to -----------------------------------------


class _Image(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(PNG)))
        self.end_headers()
        self.wfile.write(PNG)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def local_server() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Image)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


async def test_a_connection_that_lands_on_a_private_address_is_dropped_before_the_body(
    local_server: int,
) -> None:
    # DNS rebinding: the check's lookup said public, the connection's own lookup said loopback.
    # "127.1" is not an address to the check (so it asks the resolver) but is one to the socket.
    async with httpx.AsyncClient() as http:
        fetcher = ImageFetcher(http, resolve=resolves_public)
        error = await refused(fetcher, f"http://127.1:{local_server}/x.png")

    assert "not a public address" in error.detail


async def test_a_real_fetch_from_an_allowed_local_host_reads_the_image(local_server: int) -> None:
    async with httpx.AsyncClient() as http:
        data, content_type = await ImageFetcher(http, allow_private=True).fetch(
            "x", f"http://127.0.0.1:{local_server}/x.png"
        )

    assert (data, content_type) == (PNG, "image/png")
