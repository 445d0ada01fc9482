"""Instagram's image rules, checked when a post is made so a person hears of a refusal at once
instead of when Instagram refuses the scheduled post.

The IG User Media reference (https://developers.facebook.com/docs/instagram-api/reference/
ig-user/media, "Image Specifications") takes JPEG only, "8 MB maximum" (its error 36000/2207004
says "less than 8 MiB"), and an aspect ratio "within a 4:5 to 1.91:1 range"; widths outside
320-1440 are rescaled by Instagram, not refused, so they are not checked here.

Meta fetches the image itself, so to know those facts Herald reads it once at creation through
the same SSRF-safe fetcher LinkedIn and X use (`herald.platforms.images`), capped at 8 MiB, and
reads its headers (`herald.platforms.image_facts`). The port is injected (`Container.image_probe`)
so the API is tested without the network. A fetch that fails is a 422 too: Instagram would not
get the image either.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from herald.errors import FieldError
from herald.platforms.base import PlatformError
from herald.platforms.image_facts import JPEG, ImageFacts, describe

if TYPE_CHECKING:
    from herald.accounts import PlatformName
    from herald.platforms.base import Content
    from herald.platforms.images import ImageFetcher

INSTAGRAM_MAX_BYTES = 8 * 1024 * 1024
MIN_RATIO, MAX_RATIO = 4 / 5, 1.91


@dataclass(frozen=True)
class ProbedImage:
    facts: ImageFacts | None  # None: the bytes are no image format Herald reads
    size: int


class ImageProbe(Protocol):
    async def probe(self, url: str) -> ProbedImage:
        """The image at `url`, or a PlatformError saying why it could not be had."""
        ...


@dataclass(frozen=True)
class FetchingProbe:
    fetcher: ImageFetcher

    async def probe(self, url: str) -> ProbedImage:
        data, _ = await self.fetcher.fetch("instagram", url)
        return ProbedImage(describe(data), len(data))


def _describe(facts: ImageFacts | None) -> str:
    if facts is None:
        return "not an image"
    name = facts.format.removeprefix("image/").upper()
    return f"a {name} of {facts.width}x{facts.height}" if facts.width else f"a {name}"


def instagram_rules(url: str, image: ProbedImage) -> list[tuple[str, str]]:
    """(message, code) for each rule the image breaks."""
    out: list[tuple[str, str]] = []
    facts = image.facts
    if facts is None or facts.format != JPEG:
        out.append((f"Instagram takes JPEG images only; {url} is {_describe(facts)}", "not_jpeg"))
    if image.size > INSTAGRAM_MAX_BYTES:
        out.append((f"Instagram takes images up to 8 MiB; {url} is larger", "too_large"))
    ratio = facts.ratio if facts else None
    if ratio is not None and not MIN_RATIO <= ratio <= MAX_RATIO:
        assert facts is not None
        out.append(
            (
                f"Instagram takes an aspect ratio from 4:5 to 1.91:1; {url} is "
                f"{facts.width}x{facts.height} ({ratio:.2f}:1)",
                "aspect_ratio",
            )
        )
    return out


async def instagram_image_problems(
    content: Content,
    targets: Sequence[tuple[str, PlatformName]],
    probe: ImageProbe,
    found: Sequence[FieldError] = (),
) -> list[FieldError]:
    """The image problems of each Instagram target, on the image it would publish (its own
    variant's, else the shared one), each image read once. `found`: what the content rules
    already said; an image_url they refused (not a web URL, a private host) is not fetched."""
    from herald.target_rules import field_name
    from herald.variants import resolve

    if any(f.field.endswith("image_url") for f in found):
        return []
    fields_by_url: dict[str, list[tuple[str, str | None]]] = {}
    for label, platform in targets:
        if platform != "instagram":
            continue
        url = resolve(content, label, platform).image_url if label else content.image_url
        if not url:
            continue
        if content.variants and label:
            field = field_name(content, label, platform, "image_url")
            target = label if field.startswith("variants.") else None
        else:
            field, target = (f"{label}.image_url" if label else "image_url"), None
        fields_by_url.setdefault(url, []).append((field, target))
    out: list[FieldError] = []
    for url, fields in fields_by_url.items():
        try:
            reasons = instagram_rules(url, await probe.probe(url))
        except PlatformError as exc:
            code = "too_large" if exc.platform_code == "too_large" else "unreachable"
            reasons = [(f"Instagram could not be given {url}: {exc.detail}", code)]
        out += [
            FieldError(field, message, code, target)
            for field, target in dict.fromkeys(fields)
            for message, code in reasons
        ]
    return out


def instagram_image_problems_blocking(
    content: Content,
    targets: Sequence[tuple[str, PlatformName]],
    probe: ImageProbe,
    found: Sequence[FieldError] = (),
) -> list[FieldError]:
    """The same, from synchronous code: on the event loop that runs the request when called
    from its worker thread (the API runs the scheduling code in one), else on a loop of its own."""
    import anyio.from_thread

    try:
        return anyio.from_thread.run(instagram_image_problems, content, targets, probe, found)
    except RuntimeError:  # not in a worker thread: a script or a test
        return asyncio.run(instagram_image_problems(content, targets, probe, found))
