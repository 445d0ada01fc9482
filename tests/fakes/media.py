"""A platform that processes uploaded media before a post may use it, as X and LinkedIn do with
video: each run of its publisher uploads what its state says is not uploaded yet, saves the ids,
then asks the platform how processing goes and answers `StillProcessing` until it is done.

It keeps what it received, so a test asserts "uploaded once, published once" on the platform's
side, whatever crashes and duplicate deliveries came between.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from herald.accounts import Credentials, PlatformName
from herald.container import Container
from herald.media.inspect import inspect
from herald.media.model import Attachment
from herald.platforms.base import Content, Progress, Published, StillProcessing


@dataclass
class ProcessingPlatform:
    platform: PlatformName = "x"
    polls: int = 2  # STATUS answers "in progress" this many times per upload
    check_after: float = 5.0
    uploads: list[str] = field(default_factory=list)
    posts: list[tuple[str, Content, list[str]]] = field(default_factory=list)
    status_reads: int = 0
    find_calls: int = 0
    # Runs between the platform accepting the post and the publisher returning: a Lambda dying.
    after_post: Callable[[], None] | None = None
    after_upload: Callable[[], None] | None = None
    _left: dict[str, int] = field(default_factory=dict)

    async def publish(self, creds: Credentials, content: Content, progress: Progress) -> Published:
        state = dict(progress.state)
        media_id = state.get("media_id")
        if media_id is None:
            media_id = f"media-{len(self.uploads) + 1}"
            self.uploads.append(media_id)
            self._left[media_id] = self.polls
            await progress.save_state({"media_id": media_id})
            if self.after_upload is not None:
                self.after_upload()
        self.status_reads += 1
        if self._left[media_id] > 0:
            self._left[media_id] -= 1
            raise StillProcessing(self.check_after, "video")
        await progress.about_to_post()
        post_id = f"{self.platform}-{len(self.posts) + 1}"
        self.posts.append((creds.account_id, content, [media_id]))
        if self.after_post is not None:
            self.after_post()
        return Published(post_id, f"https://{self.platform}.example/{post_id}", (post_id,))

    async def find_recent(
        self, creds: Credentials, content: Content, since: datetime
    ) -> Published | None:
        self.find_calls += 1
        for index, (account_id, accepted, _) in enumerate(self.posts):
            if account_id == creds.account_id and accepted == content:
                post_id = f"{self.platform}-{index + 1}"
                return Published(post_id, f"https://{self.platform}.example/{post_id}")
        return None

    # First comments are not what this platform is for; it takes them as any platform would.
    comments: list[tuple[str, str, str]] = field(default_factory=list)

    async def comment(self, creds: Credentials, parent_id: str, text: str) -> str:
        self.comments.append((creds.account_id, parent_id, text))
        return f"{parent_id}-comment-{len(self.comments)}"

    async def find_comment(
        self, creds: Credentials, parent_id: str, text: str, since: datetime
    ) -> str | None:
        for index, said in enumerate(self.comments):
            if said == (creds.account_id, parent_id, text):
                return f"{parent_id}-comment-{index + 1}"
        return None


class SentMessages:
    """Every SendMessage the code under test makes (body and DelaySeconds), read from botocore's
    parameter hook: moto would hold a delayed message back until its delay has passed."""

    def __init__(self, container: Container) -> None:
        self.messages: list[tuple[dict[str, Any], int]] = []
        container.sqs.meta.events.register("before-parameter-build.sqs.SendMessage", self._record)

    def _record(self, params: dict[str, Any], **_: Any) -> None:
        self.messages.append((json.loads(params["MessageBody"]), params.get("DelaySeconds", 0)))


@dataclass
class MemoryFiles:
    """A ChunkSource over files in memory: attachments bound to it stream like S3's, and every
    range asked for is kept (to check that nothing is read whole)."""

    files: dict[str, bytes] = field(default_factory=dict)
    ranges: list[tuple[str, int, int]] = field(default_factory=list)

    async def chunks(
        self, key: str, chunk_size: int, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        data = self.files[key]
        stop = len(data) if end is None else end
        for at in range(start, stop, chunk_size):
            upto = min(stop, at + chunk_size)
            self.ranges.append((key, at, upto))
            yield data[at:upto]

    def attach(
        self, media_id: str, data: bytes, alt_text: str | None = None, part: int = 0
    ) -> Attachment:
        """An attachment of `data`, described from its bytes as the library would."""
        key = f"media/biz/{media_id}"
        self.files[key] = data
        facts = inspect(_Reader(data), key, len(data))
        return Attachment(media_id, key, facts, alt_text, part).bound(self)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, key: str, start: int, end: int) -> bytes:
        return self.data[start:end]
