"""What a file is, read from its own bytes with ranged reads."""

from __future__ import annotations

import struct

import pytest

from herald.local.media_samples import gif, jpeg, mp4, pdf
from herald.media.inspect import Unsupported, inspect


class Bytes:
    """A stored file: ranged reads, each one counted."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.reads: list[tuple[int, int]] = []

    def read(self, key: str, start: int, end: int) -> bytes:
        self.reads.append((start, end))
        return self.data[start:end]


def facts(data: bytes) -> object:
    return inspect(Bytes(data), "key", len(data))


def test_a_jpeg_is_an_image_with_its_pixel_size() -> None:
    found = inspect(Bytes(jpeg(1080, 1350)), "k", len(jpeg(1080, 1350)))
    assert (found.kind, found.content_type, found.width, found.height) == (
        "image", "image/jpeg", 1080, 1350,
    )  # fmt: skip


def test_a_gif_that_moves_is_an_animated_gif_and_a_still_one_is_not() -> None:
    moving, still = inspect(Bytes(gif(frames=3)), "k", 200), inspect(Bytes(gif()), "k", 43)
    assert (moving.kind, moving.animated) == ("gif", True)
    assert (still.kind, still.animated) == ("gif", False)


def test_an_mp4_with_its_index_last_gives_duration_and_size_from_a_few_small_reads() -> None:
    data = mp4(1920, 1080, seconds=42.5, size=3_000_000)
    stored = Bytes(data)
    found = inspect(stored, "k", len(data))
    assert (found.kind, found.content_type) == ("video", "video/mp4")
    assert (found.width, found.height, found.duration_seconds) == (1920, 1080, 42.5)
    assert sum(end - start for start, end in stored.reads) < 600_000  # not the 3 MB of media


def test_a_mov_is_a_quicktime_video() -> None:
    found = facts(mp4(640, 480, 3, brand=b"qt  ", moov_last=False))
    assert found.content_type == "video/quicktime"  # type: ignore[attr-defined]


def test_a_video_turned_a_quarter_is_measured_as_shown() -> None:
    data = bytearray(mp4(1920, 1080, 5, moov_last=False))
    # The tkhd matrix's a, b, c, d = 0, 1, -1, 0: a phone held upright.
    at = data.index(b"tkhd") + 4 + 4 + 20 + 8 + 8
    data[at : at + 16] = struct.pack(">iiii", 0, 0x10000, 0, -0x10000)
    found = facts(bytes(data))
    assert (found.width, found.height) == (1080, 1920)  # type: ignore[attr-defined]


def test_an_mp4_without_its_index_is_refused() -> None:
    data = mp4(size=10_000).split(b"moov")[0][:-4]
    with pytest.raises(Unsupported, match="moov"):
        facts(data)


def test_a_pdf_is_a_document_with_its_pages_counted() -> None:
    found = facts(pdf(7))
    assert (found.kind, found.content_type, found.pages) == ("document", "application/pdf", 7)  # type: ignore[attr-defined]


def test_bytes_of_no_known_format_are_refused_whatever_the_name() -> None:
    with pytest.raises(Unsupported, match="not an image, video or PDF"):
        facts(b"MZ\x90\x00 an executable")
