"""What an image is, read from its first bytes: format, pixel size, and whether a GIF moves.

Only headers are read (JPEG's SOF segment and EXIF orientation, PNG's IHDR, GIF's screen
descriptor and frame blocks), with the standard library: Pillow would add several megabytes to
the layer and its import to every cold start, to learn four numbers a few dozen lines can read.
Nothing is decoded, so a hostile file costs no more than its length to look at.
"""

from __future__ import annotations

from dataclasses import dataclass

JPEG, PNG, GIF, WEBP = "image/jpeg", "image/png", "image/gif", "image/webp"
# Start-of-frame markers hold the size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but
# are not frames.
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM, RSTn: no length field
_ROTATED = frozenset({5, 6, 7, 8})  # EXIF orientations that swap width and height


@dataclass(frozen=True)
class ImageFacts:
    format: str  # a MIME type: image/jpeg, image/png, image/gif, image/webp
    width: int | None = None  # as displayed (EXIF orientation applied)
    height: int | None = None
    frames: int = 1  # for a GIF: 1, or 2 meaning "more than one" (it is animated)

    @property
    def animated(self) -> bool:
        return self.frames > 1

    @property
    def ratio(self) -> float | None:
        if not self.width or not self.height:
            return None
        return self.width / self.height


def describe(data: bytes) -> ImageFacts | None:
    """The image's facts, or None when the bytes are none of the formats above."""
    if data.startswith(b"\xff\xd8\xff"):
        return _jpeg(data)
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _png(data)
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return _gif(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ImageFacts(WEBP)
    return None


def _u16(data: bytes, at: int, order: str = "big") -> int:
    return int.from_bytes(data[at : at + 2], order)  # type: ignore[arg-type]


def _jpeg(data: bytes) -> ImageFacts:
    at, orientation = 2, 1
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            break  # not a marker: a corrupt file, whose size cannot be told
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte before a marker
            at += 1
            continue
        if marker in _STANDALONE:
            at += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image, or scan data before any frame header
            break
        length = _u16(data, at + 2)
        segment = data[at + 4 : at + 2 + length]
        if marker == 0xE1 and segment.startswith(b"Exif\x00\x00"):
            orientation = _exif_orientation(segment[6:])
        elif marker in _SOF and len(segment) >= 5:
            height, width = _u16(segment, 1), _u16(segment, 3)
            if orientation in _ROTATED:
                width, height = height, width
            return ImageFacts(JPEG, width, height)
        at += 2 + length
    return ImageFacts(JPEG)


def _exif_orientation(tiff: bytes) -> int:
    """Tag 0x0112 of IFD0 in a TIFF structure (EXIF's), or 1 (upright) when absent."""
    order = {b"II": "little", b"MM": "big"}.get(tiff[:2])
    if order is None or len(tiff) < 8:
        return 1
    ifd = int.from_bytes(tiff[4:8], order)  # type: ignore[arg-type]
    if ifd + 2 > len(tiff):
        return 1
    for index in range(_u16(tiff, ifd, order)):
        entry = ifd + 2 + 12 * index
        if entry + 12 > len(tiff):
            break
        if _u16(tiff, entry, order) == 0x0112:
            return _u16(tiff, entry + 8, order)
    return 1


def _png(data: bytes) -> ImageFacts:
    if data[12:16] != b"IHDR" or len(data) < 24:
        return ImageFacts(PNG)
    return ImageFacts(PNG, int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big"))


def _gif(data: bytes) -> ImageFacts:
    width, height = _u16(data, 6, "little"), _u16(data, 8, "little")
    packed = data[10] if len(data) > 10 else 0
    at = 13 + (3 * 2 ** ((packed & 0x07) + 1) if packed & 0x80 else 0)
    frames = 0
    while at < len(data) and frames < 2:
        block = data[at]
        if block == 0x2C:  # image descriptor: one frame
            frames += 1
            flags = data[at + 9] if at + 9 < len(data) else 0
            at += 10 + (3 * 2 ** ((flags & 0x07) + 1) if flags & 0x80 else 0)
            at = _skip_sub_blocks(data, at + 1)  # after the LZW minimum code size
        elif block == 0x21:  # extension: label, then sub-blocks
            at = _skip_sub_blocks(data, at + 2)
        else:  # 0x3B trailer, or something that is not GIF any more
            break
    return ImageFacts(GIF, width, height, max(frames, 1))


def _skip_sub_blocks(data: bytes, at: int) -> int:
    while at < len(data) and data[at] != 0:
        at += data[at] + 1
    return at + 1
