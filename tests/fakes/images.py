"""An image probe that answers from memory: the images a test names, else a valid JPEG."""

from __future__ import annotations

from herald.local.sandbox.images import jpeg
from herald.media_checks import ProbedImage
from herald.platforms.base import PlatformError
from herald.platforms.image_facts import describe


class FakeImageProbe:
    """`images[url]`: the bytes at that URL, or the PlatformError fetching it raises. Any other
    URL holds a 1080x1080 JPEG, so a post's image passes Instagram's rules unless a test says."""

    def __init__(self) -> None:
        self.images: dict[str, bytes | PlatformError] = {}
        self.probed: list[str] = []

    async def probe(self, url: str) -> ProbedImage:
        self.probed.append(url)
        found = self.images.get(url, jpeg(1080, 1080))
        if isinstance(found, PlatformError):
            raise found
        return ProbedImage(describe(found), len(found))
