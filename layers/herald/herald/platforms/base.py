"""The publisher interface and the one error model every platform's errors are mapped into.

A publisher is built with an `httpx.AsyncClient` and base URLs from settings, so a test hands in a
MockTransport and the local stack points it at the sandbox; the code is the same for all three.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal, Protocol

from herald.accounts import Credentials, PlatformName
from herald.errors import HeraldError
from herald.media.model import Attachment

if TYPE_CHECKING:
    from herald.variants import Variant


class ErrorKind(StrEnum):
    AUTH_REVOKED = "auth_revoked"  # token revoked or expired: the account needs a person
    RATE_LIMITED = "rate_limited"  # retry after `retry_after` seconds
    DUPLICATE = "duplicate"  # the platform refuses the same content twice
    INVALID_CONTENT = "invalid_content"  # too long, bad media, ...: retrying will not help
    TRANSIENT = "transient"  # 5xx, connection refused before sending: safe to retry
    AMBIGUOUS = "ambiguous"  # a timeout after the request may have arrived: reconcile first
    PLATFORM_ERROR = "platform_error"  # anything else the platform refused
    # Herald no longer speaks the platform's contract (a retired LinkedIn-Version, an upload
    # flow the platform dropped): every post fails the same way until an operator moves it.
    PLATFORM_CONTRACT = "platform_contract"
    CREDITS_EXHAUSTED = "credits_exhausted"  # X pay-per-use credits are used up: buy more
    REPLY_FORBIDDEN = "reply_forbidden"  # X refuses the app's reply in this conversation
    SPAM_SUSPECTED = "spam_suspected"  # Meta held the post as suspected spam: a person decides
    POLICY_BLOCKED = "policy_blocked"  # Meta's temporary policy block: it lifts, try later
    # The post's image_url could not be downloaded (Herald fetches it for LinkedIn and X): the
    # image's failure, not the platform's, and nothing was posted. Not retried: a person fixes
    # the URL or the image host, then retries the post.
    IMAGE_UNAVAILABLE = "image_unavailable"

    @property
    def retryable(self) -> bool:
        return self in (ErrorKind.TRANSIENT, ErrorKind.RATE_LIMITED, ErrorKind.POLICY_BLOCKED)

    @property
    def needs_operator(self) -> bool:
        """Failures no post can fix: the people who run Herald must act (an event says so)."""
        return self in (ErrorKind.PLATFORM_CONTRACT, ErrorKind.CREDITS_EXHAUSTED)


class PlatformError(HeraldError):
    code = "platform_error"

    def __init__(
        self,
        platform: PlatformName,
        kind: ErrorKind,
        detail: str,
        *,
        status: int | None = None,
        platform_code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(detail)
        self.platform = platform
        self.kind = kind
        self.status = status
        self.platform_code = platform_code
        self.retry_after = retry_after

    def reason(self) -> str:
        """The sentence a person reads on the dashboard and in the failure event."""
        code = f" ({self.platform_code})" if self.platform_code else ""
        return f"{self.platform}: {self.kind.value}{code}: {self.detail}"


MediaKind = Literal["image", "video"]


@dataclass(frozen=True)
class MediaItem:
    """One image or video by URL, which the platform fetches itself (Threads: one is a post of
    its own kind, two to twenty a carousel)."""

    url: str
    kind: MediaKind = "image"


@dataclass(frozen=True)
class Content:
    """What to publish to one target. `thread` (X and Threads) replaces `text` when given.

    `media` are files by URL that the platform fetches itself (Threads); `attachments` are
    files of the media library (herald.media), with the facts read from them and, once the
    engine has bound them, their bytes (`Attachment.chunks`).

    `first_comment` goes out as a comment (a reply on X and Threads) right after the post
    (herald.comments). A post's stored content also holds its `variants`, the fields its
    platforms and accounts override (herald.variants); a publisher is only ever handed a
    target's resolved content, which has none."""

    text: str = ""
    thread: tuple[str, ...] = ()
    image_url: str | None = None
    link: str | None = None
    media: tuple[MediaItem, ...] = ()
    first_comment: str | None = None
    variants: Mapping[str, Variant] = field(default_factory=dict)
    attachments: tuple[Attachment, ...] = ()
    # Instagram: publish the one attached file as a Story (the other platforms ignore it).
    story: bool = False

    @property
    def parts(self) -> tuple[str, ...]:
        return self.thread or (self.text,)

    def attachments_of(self, part: int) -> tuple[Attachment, ...]:
        """The attachments of one part of a thread (all of them for a single post's part 0)."""
        return tuple(a for a in self.attachments if a.part == part)


@dataclass(frozen=True)
class Published:
    platform_post_id: str
    url: str
    # For a thread (X, Threads), every part's id in order; the first is `platform_post_id`.
    part_ids: tuple[str, ...] = ()


@dataclass
class Progress:
    """What is already out for a target: a retry of a thread resumes after the last id here.

    `deadline`: see `out_of_time`; publishers check it between the parts of an upload.

    `record` is called the moment the platform confirms each part, so the id is stored before
    anything else can fail.

    `state` is the target's media state: the platform ids of what was uploaded (X media ids,
    LinkedIn image and video URNs, upload progress), as the publisher last saved it with
    `save_state`. A later run (after `StillProcessing`, a crash or a duplicate delivery) gets it
    back and resumes from it, so nothing is uploaded twice. Before the call that creates the
    post itself a publisher saves `posting: True` (`about_to_post`): a run that dies after that
    may have posted, and the engine reconciles; one that dies before resumes its uploads.
    """

    part_ids: list[str] = field(default_factory=list)
    record: Callable[[list[str]], Awaitable[None]] | None = None
    state: dict[str, Any] = field(default_factory=dict)
    save: Callable[[dict[str, Any]], Awaitable[None]] | None = None
    # When this run should stop uploading (time.monotonic()): a long upload saves its state and
    # answers `StillProcessing` so the next delivery carries on, rather than outlive the Lambda.
    deadline: float | None = None

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.monotonic() > self.deadline

    async def confirm(self, part_id: str) -> None:
        self.part_ids.append(part_id)
        if self.record is not None:
            await self.record(list(self.part_ids))

    async def save_state(self, state: dict[str, Any]) -> None:
        self.state = dict(state)
        if self.save is not None:
            await self.save(dict(state))

    async def about_to_post(self) -> None:
        """Mark that the post-creating call is next (only when there is media state to keep)."""
        if self.state and not self.state.get("posting"):
            await self.save_state({**self.state, "posting": True})


class StillProcessing(Exception):
    """The platform is still processing this target's media: ask again in `after_seconds`.

    Raised by a publisher once everything it could do now is done and saved (`Progress.state`);
    the engine records the target as `processing` and the message comes back after a delay
    (herald.worker), so no Lambda waits on a platform's transcoder.
    """

    def __init__(self, after_seconds: float, what: str = "media") -> None:
        super().__init__(f"{what} still processing; ask again in {after_seconds:g} s")
        self.after_seconds = max(1.0, float(after_seconds))
        self.what = what


# How many pages of an account's posts `find_recent` reads at most. A busy account can post more
# than a page between a dead run's claim and the look (the soak's accounts did); the bound keeps
# one reconciliation from walking a whole history.
RECONCILE_PAGES = 10


class Publisher(Protocol):
    platform: PlatformName

    async def publish(
        self, creds: Credentials, content: Content, progress: Progress
    ) -> Published: ...

    async def find_recent(
        self, creds: Credentials, content: Content, since: datetime
    ) -> Published | None:
        """Look for `content` among the account's posts since `since` (reconciliation after an
        ambiguous outcome), paging back through the window for at most RECONCILE_PAGES pages;
        None when not found or the platform offers no way to look."""
        ...

    async def comment(self, creds: Credentials, parent_id: str, text: str) -> str:
        """Publish `text` as the account's own comment on (or reply to) its post `parent_id`;
        the comment's platform id."""
        ...

    async def find_comment(
        self, creds: Credentials, parent_id: str, text: str, since: datetime
    ) -> str | None:
        """The account's comment `text` under `parent_id`, made since `since`, if there is one
        (reconciliation after an ambiguous comment); None when not found."""
        ...
