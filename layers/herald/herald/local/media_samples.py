"""Sample media files, made from nothing, for the sandbox, the tests and the benchmarks.

    mp4(...)       an ISO base media file with the boxes Herald and the platforms read: `ftyp`,
                   `moov` (`mvhd` duration, one video `trak` with `tkhd` size and `hdlr` vide),
                   and an `mdat` of zeros, `moov` first or last (as a camera writes it)
    write_mp4      the same to a file, the `mdat` left sparse: a 500 MB video costs no disk
    pdf(pages)     a minimal PDF with that many pages
    jpeg, gif      the sandbox's real images (herald.local.sandbox.images)

Nothing plays: the bytes are what a parser reads, which is all Herald and the sandbox look at.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

from herald.local.sandbox.images import gif, jpeg

__all__ = ["gif", "jpeg", "mp4", "mp4_chunks", "pdf", "write_mp4"]

_IDENTITY = (0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _moov(width: int, height: int, seconds: float, timescale: int = 1000) -> bytes:
    duration = round(seconds * timescale)
    mvhd = struct.pack(
        ">4xIIII I H10x 9I 24x I",
        0, 0, timescale, duration, 0x10000, 0x100, *_IDENTITY, 2,
    )  # fmt: skip
    tkhd = struct.pack(
        ">B3sIIIII8xHHHxx9III",
        0, b"\x00\x00\x03", 0, 0, 1, 0, duration, 0, 0, 0, *_IDENTITY, width << 16, height << 16,
    )  # fmt: skip
    hdlr = struct.pack(">4x4s4s12x", b"\x00\x00\x00\x00", b"vide") + b"VideoHandler\x00"
    trak = _box(b"trak", _box(b"tkhd", tkhd) + _box(b"mdia", _box(b"hdlr", hdlr)))
    return _box(b"moov", _box(b"mvhd", mvhd) + trak)


def _ftyp(brand: bytes = b"isom") -> bytes:
    return _box(b"ftyp", brand + b"\x00\x00\x02\x00" + b"isomiso2avc1mp41")


def mp4_chunks(
    width: int = 1280,
    height: int = 720,
    seconds: float = 10.0,
    size: int = 200_000,
    *,
    moov_last: bool = True,
    brand: bytes = b"isom",
    chunk: int = 1 << 20,
) -> Iterator[bytes]:
    """The file's bytes in chunks, `size` bytes in all (at least its boxes)."""
    head, moov = _ftyp(brand), _moov(width, height, seconds)
    media = max(0, size - len(head) - len(moov) - 8)
    yield head
    if not moov_last:
        yield moov
    yield struct.pack(">I4s", 8 + media, b"mdat")
    zeros = bytes(min(chunk, media))
    left = media
    while left > 0:
        yield zeros[: min(left, len(zeros))]
        left -= len(zeros)
    if moov_last:
        yield moov


def mp4(
    width: int = 1280, height: int = 720, seconds: float = 10.0, size: int = 200_000, **kw: bool
) -> bytes:
    return b"".join(mp4_chunks(width, height, seconds, size, **kw))  # type: ignore[arg-type]


def write_mp4(
    path: Path, width: int = 1280, height: int = 720, seconds: float = 60.0, size: int = 1 << 20
) -> Path:
    """An MP4 of `size` bytes whose `mdat` is a hole in the file (sparse: no disk used)."""
    head, moov = _ftyp(), _moov(width, height, seconds)
    media = size - len(head) - len(moov) - 8
    with path.open("wb") as out:
        out.write(head)
        out.write(struct.pack(">I4s", 8 + media, b"mdat"))
        out.seek(media, 1)
        out.write(moov)
    return path


def pdf(pages: int = 3) -> bytes:
    """A PDF with `pages` empty pages (its cross-reference table is left out: readers rebuild
    it, and Herald only counts the page objects)."""
    kids = " ".join(f"{3 + i} 0 R" for i in range(pages))
    objects = [
        b"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj",
        f"2 0 obj << /Type /Pages /Kids [{kids}] /Count {pages} >> endobj".encode(),
        *(
            f"{3 + i} 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >> endobj".encode()
            for i in range(pages)
        ),
    ]
    return b"%PDF-1.4\n" + b"\n".join(objects) + b"\ntrailer << /Root 1 0 R >>\n%%EOF\n"
