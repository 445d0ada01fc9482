"""What an uploaded file is, read from its own bytes in S3: never the client's word for it.

    images  JPEG, PNG, WebP, GIF: format and pixel size from their headers, and whether a GIF
            moves (herald.platforms.image_facts, the standard-library reader the Instagram check
            already uses: Pillow would add megabytes to the layer to learn four numbers)
    video   MP4 and MOV (ISO base media): the top-level boxes are walked with ranged reads of
            their 16-byte headers until `moov`, wherever it is (a camera writes it last), and
            only `moov` is read: `mvhd` gives the duration, the video track's `tkhd` its size
            (turned by its matrix when the phone was held upright). A 500 MB video costs a few
            small reads and its index, not its bytes.
    PDF     `%PDF-`; its pages are counted when the file is small enough to read whole (the
            page objects, else the page tree's /Count), and left unknown otherwise.

A file is read through `RangeReader` (S3 in production: herald.media.streams), synchronously:
the API runs it in its thread pool. Anything else is `Unsupported`, with a reason a person reads.
"""

from __future__ import annotations

import re
import struct
from typing import Protocol

from herald.media.model import MediaFacts
from herald.platforms.image_facts import GIF, describe

IMAGE_HEAD = 512 * 1024  # a JPEG's frame header follows its EXIF and ICC segments
IMAGE_DEEP = 4 * 1024 * 1024  # when a camera's thumbnails push it further
GIF_MAX_READ = 16 * 1024 * 1024  # the second frame of a GIF may start megabytes in
MOOV_MAX = 64 * 1024 * 1024  # an index this large would be a two-day video
PDF_MAX_READ = 16 * 1024 * 1024
BOX_WALK_LIMIT = 256
_VIDEO_BRANDS_QT = (b"qt  ",)
_PAGE = re.compile(rb"/Type\s*/Page(?![A-Za-z])")
_COUNT = re.compile(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)|/Count\s+(\d+)[^>]*?/Type\s*/Pages\b")


class Unsupported(Exception):
    """The bytes are no format Herald publishes; the message says what they are."""


class RangeReader(Protocol):
    def read(self, key: str, start: int, end: int) -> bytes:
        """Bytes [start, end) of the object (fewer at its end)."""
        ...


def inspect(reader: RangeReader, key: str, size: int) -> MediaFacts:
    if size <= 0:
        raise Unsupported("the file is empty")
    head = reader.read(key, 0, min(size, IMAGE_HEAD))
    if head[4:8] == b"ftyp":
        return _video(reader, key, size, head)
    if head.startswith(b"%PDF-"):
        return _pdf(reader, key, size, head)
    facts = describe(head)
    if facts is None:
        raise Unsupported(f"not an image, video or PDF Herald can publish ({_what(head)})")
    if facts.format == GIF:
        whole = head if size <= len(head) else reader.read(key, 0, min(size, GIF_MAX_READ))
        facts = describe(whole) or facts
        return MediaFacts("gif", GIF, size, facts.width, facts.height, animated=facts.animated)
    if facts.width is None and size > len(head):
        facts = describe(reader.read(key, 0, min(size, IMAGE_DEEP))) or facts
    return MediaFacts("image", facts.format, size, facts.width, facts.height)


def _what(head: bytes) -> str:
    shown = head[:8].hex(" ")
    return f"it starts with {shown}" if head else "no bytes"


# --- ISO base media (MP4, MOV) ---------------------------------------------------------------
def _video(reader: RangeReader, key: str, size: int, head: bytes) -> MediaFacts:
    brand = head[8:12]
    content_type = "video/quicktime" if brand in _VIDEO_BRANDS_QT else "video/mp4"
    moov = _find_moov(reader, key, size, head)
    if moov is None:
        raise Unsupported("an MP4 or MOV without its index (moov box): it cannot be played")
    duration_ms, width, height = _moov_facts(moov)
    if width is None:
        raise Unsupported("an MP4 or MOV with no video track")
    return MediaFacts("video", content_type, size, width, height, duration_ms=duration_ms)


def _box_header(data: bytes, at: int, size: int) -> tuple[int, bytes, int] | None:
    """(box size, type, header length) at `at`; `size` is where the enclosing space ends."""
    if at + 8 > len(data):
        return None
    length, kind = struct.unpack_from(">I4s", data, at)
    header = 8
    if length == 1:
        if at + 16 > len(data):
            return None
        (length,) = struct.unpack_from(">Q", data, at + 8)
        header = 16
    elif length == 0:
        length = size - at
    if length < header:
        return None
    return length, kind, header


def _find_moov(reader: RangeReader, key: str, size: int, head: bytes) -> bytes | None:
    at = 0
    for _ in range(BOX_WALK_LIMIT):
        if at + 8 > size:
            return None
        header = head[at : at + 16] if at + 16 <= len(head) else reader.read(key, at, at + 16)
        found = _box_header(header, 0, size - at)
        if found is None:
            return None
        length, kind, skip = found
        if kind == b"moov":
            if length > MOOV_MAX:
                raise Unsupported("an MP4 or MOV whose index is too large to read")
            start, end = at + skip, min(size, at + length)
            if end <= len(head):
                return head[start:end]
            return reader.read(key, start, end)
        at += length
    return None


def _children(data: bytes) -> list[tuple[bytes, bytes]]:
    out: list[tuple[bytes, bytes]] = []
    at = 0
    while at < len(data):
        found = _box_header(data, at, len(data))
        if found is None:
            break
        length, kind, skip = found
        out.append((kind, data[at + skip : at + length]))
        at += length
    return out


def _moov_facts(moov: bytes) -> tuple[int | None, int | None, int | None]:
    duration_ms: int | None = None
    width = height = None
    for kind, body in _children(moov):
        if kind == b"mvhd" and len(body) >= 20:
            if body[0] == 1 and len(body) >= 32:
                timescale, duration = struct.unpack_from(">IQ", body, 20)
            else:
                timescale, duration = struct.unpack_from(">II", body, 12)
            if timescale:
                duration_ms = round(duration * 1000 / timescale)
        elif kind == b"trak" and width is None:
            width, height = _video_track_size(body)
    return duration_ms, width, height


def _video_track_size(trak: bytes) -> tuple[int | None, int | None]:
    boxes = dict(_children(trak))
    handler = None
    mdia = boxes.get(b"mdia")
    if mdia is not None:
        hdlr = dict(_children(mdia)).get(b"hdlr")
        if hdlr is not None and len(hdlr) >= 12:
            handler = hdlr[8:12]
    tkhd = boxes.get(b"tkhd")
    if handler != b"vide" or tkhd is None:
        return None, None
    # After version/flags: times, track id and duration (32- or 64-bit), 8 reserved, layer,
    # group, volume, 2 reserved (8 bytes), the 3x3 matrix (36), then width and height, 16.16.
    offset = 4 + (32 if tkhd[0] == 1 else 20) + 8 + 8
    if len(tkhd) < offset + 44:
        return None, None
    a, b = struct.unpack_from(">ii", tkhd, offset)
    w, h = struct.unpack_from(">II", tkhd, offset + 36)
    width, height = w >> 16, h >> 16
    if a == 0 and abs(b) == 0x10000:  # turned a quarter: shown upright, it is h by w
        width, height = height, width
    return width, height


# --- PDF ---------------------------------------------------------------------------------
def _pdf(reader: RangeReader, key: str, size: int, head: bytes) -> MediaFacts:
    pages: int | None = None
    if size <= PDF_MAX_READ:
        whole = head if size <= len(head) else reader.read(key, 0, size)
        pages = len(_PAGE.findall(whole)) or None
        if pages is None:
            counts = [int(a or b) for a, b in _COUNT.findall(whole)]
            pages = max(counts) if counts else None
    return MediaFacts("document", "application/pdf", size, pages=pages)
