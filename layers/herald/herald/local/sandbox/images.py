"""Real, small images the sandbox serves for test posts, of any size asked for.

`GET /_sandbox/images/{name}` answers by the name's extension: `.jpg` a baseline JPEG of
`?w=&h=` pixels (default 1080x1080), `.gif` a GIF with `?frames=` frames (animated from 2),
anything else a 1x1 PNG; `?pad=N` makes a JPEG N bytes longer with comment segments, to try size
limits. The JPEG is a valid one: a flat grey image whose every 8x8 block is coded with one-entry
Huffman tables, two bits a block, so a 1080x1350 image is under 6 KB.
"""

from __future__ import annotations

import base64
import math

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
_COMMENT_MAX = 65_533  # a segment's length field counts itself: 65,535 - 2


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + (len(payload) + 2).to_bytes(2, "big") + payload


def jpeg(width: int = 1080, height: int = 1080, pad: int = 0) -> bytes:
    one_code = bytes([1] + [0] * 15)  # BITS: a single code, of length 1 ("0")
    parts = [b"\xff\xd8", _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")]
    while pad > 0:
        size = min(pad, _COMMENT_MAX)
        parts.append(_segment(0xFE, b"\x00" * size))
        pad -= size + 4
    parts += [
        _segment(0xDB, b"\x00" + b"\x01" * 64),
        _segment(
            0xC0,
            b"\x08" + height.to_bytes(2, "big") + width.to_bytes(2, "big") + b"\x01\x01\x11\x00",
        ),
        _segment(0xC4, b"\x00" + one_code + b"\x00"),  # DC: difference 0
        _segment(0xC4, b"\x10" + one_code + b"\x00"),  # AC: end of block
        _segment(0xDA, b"\x01\x01\x00\x00\x3f\x00"),
    ]
    bits = 2 * math.ceil(width / 8) * math.ceil(height / 8)
    scan = b"\x00" * (bits // 8)
    if bits % 8:
        scan += bytes([0xFF >> (bits % 8)])  # the last byte padded with 1-bits
    return b"".join(parts) + scan + b"\xff\xd9"


def gif(width: int = 320, height: int = 320, frames: int = 1) -> bytes:
    header = b"GIF89a" + width.to_bytes(2, "little") + height.to_bytes(2, "little")
    out = [header, b"\x80\x00\x00", b"\x00\x00\x00\xff\xff\xff"]  # 2-colour global table
    if frames > 1:  # loop forever (the NETSCAPE2.0 application extension)
        out.append(b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00")
    for _ in range(max(1, frames)):
        out.append(b"\x21\xf9\x04\x00\x0a\x00\x00\x00")  # graphic control: 0.1 s a frame
        out.append(b"\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00")  # a 1x1 frame at the origin
        out.append(b"\x02\x02\x44\x01\x00")  # LZW: clear, pixel 0, end
    out.append(b"\x3b")
    return b"".join(out)


def image_for(name: str, query: dict[str, str]) -> tuple[bytes, str]:
    """The image `/_sandbox/images/{name}?{query}` serves, and its content type."""

    def number(key: str, default: int) -> int:
        value = query.get(key, "")
        return int(value) if value.isdigit() else default

    if name.endswith((".jpg", ".jpeg")):
        return jpeg(number("w", 1080), number("h", 1080), number("pad", 0)), "image/jpeg"
    if name.endswith(".gif"):
        return gif(number("w", 320), number("h", 320), number("frames", 1)), "image/gif"
    return PNG, "image/png"
