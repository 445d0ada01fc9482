"""Fetching a post's image_url: only from public hosts, redirects checked hop by hop, never more
than the cap, and only something that is an image."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator

import httpx
import pytest

from herald.platforms.base import ErrorKind, PlatformError
from herald.platforms.images import ImageFetcher, shown
from tests.fakes.platform_http import PUBLIC_ADDRESS, FakePlatform, resolves_public

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

    assert error.kind is ErrorKind.IMAGE_UNAVAILABLE
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

    assert error.kind is ErrorKind.IMAGE_UNAVAILABLE
    assert platform.requests == []


async def test_a_redirect_to_a_private_address_is_not_followed(
    platform: FakePlatform, http: httpx.AsyncClient
) -> None:
    platform.on("GET", "/x.png", httpx.Response(302, headers={"location": "http://10.0.0.7/admin"}))

    error = await refused(
        ImageFetcher(http, resolve=resolves_public), "https://cdn.example.com/x.png"
    )

    assert "10.0.0.7" in error.detail
    assert [r.headers["host"] for r in platform.requests] == ["cdn.example.com"]


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

    assert error.kind is ErrorKind.IMAGE_UNAVAILABLE
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

    assert error.detail == "the host answered text/html, not an image"


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


async def test_the_request_goes_to_the_checked_address_with_the_host_name_kept(
    platform: FakePlatform, http: httpx.AsyncClient
) -> None:
    platform.on("GET", "/cat.png", png())

    await ImageFetcher(http, resolve=resolves_public).fetch("x", "https://cdn.example.com/cat.png")

    [request] = platform.requests
    assert request.url.host == PUBLIC_ADDRESS
    assert request.headers["host"] == "cdn.example.com"
    assert request.extensions["sni_hostname"] == "cdn.example.com"
    assert request.headers["accept-encoding"] == "identity"


async def test_a_compressed_answer_is_refused_unread(
    platform: FakePlatform, http: httpx.AsyncClient
) -> None:
    # Double gzip: a few hundred bytes that would decompress to 20 MB (and a few more, to GBs).
    bomb = gzip.compress(gzip.compress(b"\0" * 20 * 1024 * 1024))

    async def stream() -> AsyncIterator[bytes]:
        yield bomb

    headers = {"content-type": "image/png", "content-encoding": "gzip, gzip"}
    platform.on(
        "GET", "/x.png", lambda request: httpx.Response(200, content=stream(), headers=headers)
    )

    error = await refused(
        ImageFetcher(http, resolve=resolves_public), "https://cdn.example.com/x.png"
    )

    assert error.kind is ErrorKind.IMAGE_UNAVAILABLE
    assert "compressed" in error.detail


async def test_a_host_that_drips_its_answer_runs_out_of_time(
    platform: FakePlatform, http: httpx.AsyncClient
) -> None:
    async def drip() -> AsyncIterator[bytes]:
        for _ in range(100):
            await asyncio.sleep(0.05)
            yield b"\xff"

    def slow(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=drip(), headers={"content-type": "image/jpeg"})

    platform.on("GET", "/slow.jpg", slow)

    error = await refused(
        ImageFetcher(http, resolve=resolves_public, timeout_seconds=0.3),
        "https://cdn.example.com/slow.jpg",
    )

    assert error.kind is ErrorKind.IMAGE_UNAVAILABLE
    assert "no complete answer within 0.3 s" in error.detail


@pytest.mark.parametrize(
    "url", ["http://example.com:99999/a.png", "http://\u24d0.example/a.png", "ftp://x.test/a"]
)
async def test_a_url_that_cannot_be_fetched_is_the_images_failure_not_an_unknown_outcome(
    http: httpx.AsyncClient, url: str
) -> None:
    error = await refused(ImageFetcher(http, resolve=resolves_public), url)

    assert error.kind is ErrorKind.IMAGE_UNAVAILABLE


@pytest.mark.parametrize("status", [404, 429, 503])
async def test_an_image_host_that_does_not_answer_200_is_the_images_failure_not_the_platforms(
    platform: FakePlatform, http: httpx.AsyncClient, status: int
) -> None:
    platform.on("GET", "/x.png", httpx.Response(status))

    error = await refused(
        ImageFetcher(http, resolve=resolves_public), "https://cdn.example.com/x.png"
    )

    assert error.kind is ErrorKind.IMAGE_UNAVAILABLE
    assert not error.kind.retryable
    assert error.reason() == (
        f"image_url https://cdn.example.com/x.png could not be downloaded: the host answered "
        f"HTTP {status}; nothing was posted to x"
    )


async def test_a_host_that_does_not_resolve_is_the_images_failure(
    http: httpx.AsyncClient,
) -> None:
    async def no_answer(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    error = await refused(ImageFetcher(http, resolve=no_answer), "https://cdn.example.com/x.png")

    assert error.kind is ErrorKind.IMAGE_UNAVAILABLE
    assert error.detail == "the host cdn.example.com did not resolve"


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("timed out")],
    ids=["connect", "read timeout"],
)
async def test_a_connection_that_fails_is_the_images_failure_not_an_unknown_outcome(
    platform: FakePlatform, http: httpx.AsyncClient, failure: Exception
) -> None:
    platform.on("GET", "/x.png", failure)

    error = await refused(
        ImageFetcher(http, resolve=resolves_public), "https://cdn.example.com/x.png"
    )

    assert error.kind is ErrorKind.IMAGE_UNAVAILABLE
    assert error.detail == f"{type(failure).__name__} from the image host"


def test_a_reason_shows_the_url_without_its_credentials_or_query() -> None:
    assert shown("https://me:pw@cdn.example.com/a/b.png?X-Amz-Signature=abc") == (
        "https://cdn.example.com/a/b.png?..."
    )


async def test_the_sandbox_setting_lets_a_local_image_through(
    platform: FakePlatform, http: httpx.AsyncClient
) -> None:
    platform.on("GET", "/_sandbox/images/cat.png", png())

    data, _ = await ImageFetcher(http, allow_private=True).fetch(
        "x", "http://127.0.0.1:8700/_sandbox/images/cat.png"
    )

    assert data == PNG
