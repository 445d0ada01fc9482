"""Instagram's image rules on what the SSRF-safe fetcher reads, one HTTP fetch per check."""

from __future__ import annotations

import httpx
import pytest

from herald.local.sandbox.images import jpeg
from herald.media_checks import INSTAGRAM_MAX_BYTES, FetchingProbe, instagram_image_problems
from herald.platforms.base import Content
from herald.platforms.images import ImageFetcher
from tests.fakes.platform_http import FakePlatform, resolves_public

URL = "https://cdn.test/loaf.jpg"


def probe(platform: FakePlatform) -> FetchingProbe:
    fetcher = ImageFetcher(
        platform.client(), max_bytes=INSTAGRAM_MAX_BYTES, resolve=resolves_public
    )
    return FetchingProbe(fetcher)


async def test_a_square_jpeg_passes_after_one_fetch() -> None:
    platform = FakePlatform().on("GET", "/loaf.jpg", httpx.Response(200, content=jpeg(1080, 1080)))

    found = await instagram_image_problems(
        Content(image_url=URL), [("acc_ig", "instagram")], probe(platform)
    )

    assert found == []
    assert len(platform.requests) == 1


async def test_the_limits_are_inclusive_4_5_and_1_91() -> None:
    for width, height in ((800, 1000), (1910, 1000)):
        platform = FakePlatform().on(
            "GET", "/loaf.jpg", httpx.Response(200, content=jpeg(width, height))
        )
        assert (
            await instagram_image_problems(
                Content(image_url=URL), [("", "instagram")], probe(platform)
            )
            == []
        )


async def test_an_image_over_8_mib_stops_downloading_and_is_too_large() -> None:
    big = jpeg(1080, 1080, pad=INSTAGRAM_MAX_BYTES)
    platform = FakePlatform().on("GET", "/loaf.jpg", httpx.Response(200, content=big))

    [problem] = await instagram_image_problems(
        Content(image_url=URL), [("", "instagram")], probe(platform)
    )

    assert (problem.field, problem.code) == ("image_url", "too_large")
    assert "8 MiB" in problem.message


@pytest.mark.parametrize("url", ["http://127.0.0.1/loaf.jpg", "http://10.0.0.5/loaf.jpg"])
async def test_a_private_address_is_never_fetched(url: str) -> None:
    platform = FakePlatform()

    [problem] = await instagram_image_problems(
        Content(image_url=url), [("", "instagram")], probe(platform)
    )

    assert problem.code == "unreachable"
    assert "not a public address" in problem.message
    assert platform.requests == []
