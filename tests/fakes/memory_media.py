"""Files of the media library held in memory, bound to attachments in publisher tests: the
bytes a publisher streams, and the links it hands to platforms that fetch files themselves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from herald.media.model import Attachment, MediaFacts


@dataclass
class MemoryFiles:
    files: dict[str, bytes] = field(default_factory=dict)
    reads: list[tuple[str, int, int]] = field(default_factory=list)
    links: list[tuple[str, int]] = field(default_factory=list)

    async def chunks(
        self, key: str, chunk_size: int, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        data = self.files[key]
        stop = len(data) if end is None else end
        at = start
        while at < stop:
            upto = min(stop, at + chunk_size)
            self.reads.append((key, at, upto))
            yield data[at:upto]
            at = upto

    def presigned_get(self, key: str, expires_seconds: int) -> str:
        self.links.append((key, expires_seconds))
        return f"https://media.example.test/{key}?X-Amz-Expires={expires_seconds}"

    def add(
        self,
        media_id: str,
        data: bytes,
        kind: str = "image",
        content_type: str = "image/jpeg",
        *,
        alt_text: str | None = None,
        part: int = 0,
        width: int = 1080,
        height: int = 1080,
        duration_ms: int | None = None,
    ) -> Attachment:
        key = f"media/biz/{media_id}"
        self.files[key] = data
        facts = MediaFacts(
            kind=kind,  # type: ignore[arg-type]
            content_type=content_type,
            size=len(data),
            width=width,
            height=height,
            duration_ms=duration_ms,
        )
        return Attachment(media_id, key, facts, alt_text, part).bound(self)
