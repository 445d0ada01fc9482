"""Reading an image's format, size and animation from its headers."""

from __future__ import annotations

import pytest

from herald.local.sandbox.images import PNG, gif, jpeg
from herald.platforms.image_facts import ImageFacts, describe


def with_orientation(data: bytes, orientation: int) -> bytes:
    """`data` (a JPEG) with an EXIF APP1 segment giving its orientation, big-endian TIFF."""
    entry = (0x0112).to_bytes(2, "big") + (3).to_bytes(2, "big") + (1).to_bytes(4, "big")
    entry += orientation.to_bytes(2, "big") + b"\x00\x00"
    tiff = b"MM\x00\x2a" + (8).to_bytes(4, "big") + (1).to_bytes(2, "big") + entry + bytes(4)
    payload = b"Exif\x00\x00" + tiff
    app1 = b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload
    return data[:2] + app1 + data[2:]


def test_a_jpeg_s_size_comes_from_its_frame_header() -> None:
    assert describe(jpeg(1080, 1350)) == ImageFacts("image/jpeg", 1080, 1350)


@pytest.mark.parametrize(
    ("orientation", "size"),
    [(1, (4032, 3024)), (6, (3024, 4032)), (8, (3024, 4032)), (3, (4032, 3024))],
)
def test_exif_orientation_turns_a_sideways_photo_upright(
    orientation: int, size: tuple[int, int]
) -> None:
    facts = describe(with_orientation(jpeg(4032, 3024), orientation))

    assert facts is not None
    assert (facts.width, facts.height) == size


def test_a_png_s_size_comes_from_ihdr() -> None:
    assert describe(PNG) == ImageFacts("image/png", 1, 1)


def test_a_gif_with_one_frame_is_still_and_with_more_animated() -> None:
    still, moving = describe(gif(400, 300, frames=1)), describe(gif(400, 300, frames=5))

    assert still == ImageFacts("image/gif", 400, 300, 1)
    assert moving is not None
    assert moving.animated


def test_a_webp_is_recognised_without_a_size() -> None:
    assert describe(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == ImageFacts("image/webp")


@pytest.mark.parametrize("data", [b"", b"<html>", b"\xff\xd8\xff\xe0\x00"])
def test_what_is_not_an_image_or_is_cut_short_never_raises(data: bytes) -> None:
    facts = describe(data)

    assert facts is None or facts.width is None


def test_the_ratio_is_width_over_height() -> None:
    facts = describe(jpeg(1910, 1000))

    assert facts is not None
    assert facts.ratio == pytest.approx(1.91)
