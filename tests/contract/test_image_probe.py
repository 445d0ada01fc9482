"""FakeImageProbe (tests/fakes/images.py) against FetchingProbe, the one the container builds, over
an image host answered by httpx.MockTransport: the same URL gives the same facts, or the same
kind of failure."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from herald.local.sandbox.images import jpeg
from herald.media_checks import FetchingProbe
from herald.platforms.base import ErrorKind, PlatformError
from herald.platforms.images import ImageFetcher
from tests.fakes.images import FakeImageProbe
from tests.fakes.platform_http import resolves_public

PORTRAIT = "https://cdn.example.com/portrait.jpg"
GONE = "https://cdn.example.com/gone.jpg"


class Images:
    """Either probe, with the same images at the same URLs and the same URL missing."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.bytes = {PORTRAIT: jpeg(1080, 1350)}

    async def probe(self, url: str) -> Any:
        if self.kind == "fake":
            fake = FakeImageProbe()
            fake.images.update(self.bytes)
            fake.images[GONE] = PlatformError("instagram", ErrorKind.IMAGE_UNAVAILABLE, "404")
            return await fake.probe(url)

        def host(request: httpx.Request) -> httpx.Response:
            wanted = f"https://cdn.example.com{request.url.path}"
            if wanted in self.bytes:
                return httpx.Response(
                    200, content=self.bytes[wanted], headers={"content-type": "image/jpeg"}
                )
            return httpx.Response(404)

        async with httpx.AsyncClient(transport=httpx.MockTransport(host)) as http:
            return await FetchingProbe(ImageFetcher(http, resolve=resolves_public)).probe(url)


@pytest.fixture(params=["fetching", "fake"])
def images(request: pytest.FixtureRequest) -> Images:
    return Images(request.param)


async def test_an_image_is_described_by_its_format_size_and_bytes(images: Images) -> None:
    probed = await images.probe(PORTRAIT)

    assert probed.facts is not None
    assert (probed.facts.format, probed.facts.width, probed.facts.height) == (
        "image/jpeg",
        1080,
        1350,
    )
    assert probed.size == len(images.bytes[PORTRAIT])


async def test_an_image_that_cannot_be_had_is_the_images_failure(images: Images) -> None:
    with pytest.raises(PlatformError) as failed:
        await images.probe(GONE)

    assert failed.value.kind is ErrorKind.IMAGE_UNAVAILABLE
