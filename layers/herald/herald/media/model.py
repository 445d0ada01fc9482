"""The media model: a library record, and the attachment a publisher receives.

    MediaRecord  one uploaded file of one business (DynamoDB): awaiting_upload until its bytes
                 are in S3 and have been read, then ready (or rejected, with why)
    Attachment   one file on one post: the facts read from the file (never the client's word),
                 the alt text the post gives it, which part of a thread it goes with, and
                 `chunks()`, an async stream of its bytes from S3 bound by the engine before a
                 publisher runs

A publisher never sees S3 or the library: it reads facts and bytes from the attachment.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Literal, Protocol

MediaKind = Literal["image", "gif", "video", "document"]
KINDS: tuple[MediaKind, ...] = ("image", "gif", "video", "document")

# 8 MiB: a multiple of every platform's part size (X's segments, LinkedIn's 4 MiB video parts
# are re-cut from it), and small enough that one chunk in flight is nothing to a worker.
DEFAULT_CHUNK = 8 * 1024 * 1024


class MediaStatus(StrEnum):
    AWAITING_UPLOAD = "awaiting_upload"  # the presigned upload was handed out; no bytes read yet
    READY = "ready"  # read and understood: may be attached to posts
    REJECTED = "rejected"  # the bytes are no format Herald publishes (or too large)


@dataclass(frozen=True)
class MediaFacts:
    """What the file is, read from its bytes."""

    kind: MediaKind
    content_type: str  # image/jpeg, image/png, image/gif, image/webp, video/mp4, ...
    size: int  # bytes
    width: int | None = None
    height: int | None = None
    duration_ms: int | None = None  # video
    animated: bool = False  # GIF with more than one frame
    pages: int | None = None  # PDF, when it could be counted cheaply

    @property
    def duration_seconds(self) -> float | None:
        return None if self.duration_ms is None else self.duration_ms / 1000

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "kind": self.kind,
            "content_type": self.content_type,
            "size": self.size,
            "animated": self.animated,
        }
        for name in ("width", "height", "duration_ms", "pages"):
            value = getattr(self, name)
            if value is not None:
                item[name] = value
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> MediaFacts:
        def number(name: str) -> int | None:
            value = item.get(name)
            return None if value is None else int(value)

        return cls(
            kind=item["kind"],
            content_type=str(item["content_type"]),
            size=int(item["size"]),
            width=number("width"),
            height=number("height"),
            duration_ms=number("duration_ms"),
            animated=bool(item.get("animated", False)),
            pages=number("pages"),
        )


@dataclass(frozen=True)
class MediaRecord:
    media_id: str
    business_id: str
    key: str  # the S3 object key
    status: MediaStatus
    created_at: str
    filename: str | None = None
    facts: MediaFacts | None = None
    reason: str | None = None  # why it was rejected


class ChunkSource(Protocol):
    """Bytes of a stored file, a chunk at a time (herald.media.streams.S3Chunks)."""

    def chunks(
        self, key: str, chunk_size: int, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]: ...


class UrlSource(Protocol):
    """A store that can hand out a short-lived GET link to a file (S3's presigned URL), for the
    platforms that fetch media themselves (Instagram images, Threads)."""

    def presigned_get(self, key: str, expires_seconds: int) -> str: ...


class MediaUnbound(RuntimeError):
    """An attachment's bytes were asked for before the engine bound it to its store."""


@dataclass(frozen=True)
class MediaRef:
    """What a post stores for one attachment: the library file, its alt text, its part."""

    media_id: str
    alt_text: str | None = None
    part: int = 0  # the thread part (X) it goes with; 0 for a single post


@dataclass(frozen=True)
class Attachment:
    media_id: str
    key: str
    facts: MediaFacts
    alt_text: str | None = None
    part: int = 0
    source: ChunkSource | None = field(default=None, compare=False, repr=False)

    @property
    def kind(self) -> MediaKind:
        return self.facts.kind

    @property
    def content_type(self) -> str:
        return self.facts.content_type

    @property
    def size(self) -> int:
        return self.facts.size

    def bound(self, source: ChunkSource) -> Attachment:
        return replace(self, source=source)

    def chunks(
        self, chunk_size: int = DEFAULT_CHUNK, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        """The file's bytes [start, end) in chunks of at most `chunk_size` (ranged S3 reads:
        one chunk in memory at a time, whatever the file's size)."""
        if self.source is None:
            raise MediaUnbound(f"media {self.media_id} is not bound to its store")
        return self.source.chunks(self.key, chunk_size, start, end)

    def url(self, expires_seconds: int) -> str:
        """A GET link to the file that works for `expires_seconds`, for a platform that fetches
        it itself; every other platform is sent the bytes (`chunks`)."""
        presign = getattr(self.source, "presigned_get", None)
        if presign is None:
            raise MediaUnbound(
                f"media {self.media_id} is not bound to a store that hands out links"
            )
        url: str = presign(self.key, expires_seconds)
        return url

    async def read(self, limit: int) -> bytes:
        """The whole file, for a platform that takes it in one request; refused over `limit`
        so nothing large is ever held whole."""
        if self.size > limit:
            raise ValueError(f"media {self.media_id} is {self.size} bytes, over {limit}")
        out = bytearray()
        async for chunk in self.chunks():
            out.extend(chunk)
        return bytes(out)

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "media_id": self.media_id,
            "key": self.key,
            "facts": self.facts.to_item(),
            "part": self.part,
        }
        if self.alt_text:
            item["alt_text"] = self.alt_text
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Attachment:
        return cls(
            media_id=str(item["media_id"]),
            key=str(item["key"]),
            facts=MediaFacts.from_item(item["facts"]),
            alt_text=item.get("alt_text") or None,
            part=int(item.get("part", 0)),
        )
