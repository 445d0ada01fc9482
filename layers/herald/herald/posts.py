"""The post model and its state machine.

    pending ──> queued ──> publishing ──> published | partially_published | failed
       │   <──    │
       ├──> cancelled <──┘
       └──> missed        (found later than the business's maximum lateness)

A post is edited or cancelled until the worker claims it (`publishing`): queued, its message is
already in the publish queue, so a new text or new accounts ride with it (the worker reads the
post when it claims it), and a new time sends it back to `pending` for the tick to queue again
(the message for the old time is dropped when it arrives: see `Rescheduled`). An immediate
publish starts at `publishing`. Each target (one account) has its own status:

    pending ──> publishing ──> published
                 │  ↑  │  └──> failed        (retries exhausted or not retryable)
                 │  │  └─────> unconfirmed   (the platform may have it; nothing proves either way)
                 ↓  │
               processing    (the platform is processing its media: resumed from media_state)

A failed target may go back to `publishing` through an explicit retry; a published one never does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from herald.accounts import PlatformName
from herald.errors import Conflict
from herald.media.model import Attachment
from herald.platforms.base import Content, MediaItem
from herald.variants import Variant, resolve


class PostStatus(StrEnum):
    PENDING = "pending"
    QUEUED = "queued"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    PARTIALLY_PUBLISHED = "partially_published"
    FAILED = "failed"
    CANCELLED = "cancelled"
    MISSED = "missed"


class TargetStatus(StrEnum):
    PENDING = "pending"
    PUBLISHING = "publishing"
    # Its media is uploaded and the platform is processing it: the message comes back after a
    # delay and the next run resumes from `media_state` (claimed again like a pending target).
    PROCESSING = "processing"
    PUBLISHED = "published"
    FAILED = "failed"
    UNCONFIRMED = "unconfirmed"


FINAL_POST_STATES = frozenset(
    {
        PostStatus.PUBLISHED,
        PostStatus.PARTIALLY_PUBLISHED,
        PostStatus.FAILED,
        PostStatus.CANCELLED,
        PostStatus.MISSED,
    }
)

# What a client may still change: until the worker claims the post.
EDITABLE_POST_STATES = frozenset({PostStatus.PENDING, PostStatus.QUEUED})

TRANSITIONS: dict[PostStatus, frozenset[PostStatus]] = {
    PostStatus.PENDING: frozenset({PostStatus.QUEUED, PostStatus.CANCELLED, PostStatus.MISSED}),
    # Back to pending: its time was changed after the tick queued it.
    PostStatus.QUEUED: frozenset(
        {PostStatus.PUBLISHING, PostStatus.CANCELLED, PostStatus.FAILED, PostStatus.PENDING}
    ),
    PostStatus.PUBLISHING: frozenset(
        {PostStatus.PUBLISHED, PostStatus.PARTIALLY_PUBLISHED, PostStatus.FAILED}
    ),
    # A retry of the failed targets re-opens a post that did not fully go out.
    PostStatus.PARTIALLY_PUBLISHED: frozenset({PostStatus.PUBLISHING}),
    PostStatus.FAILED: frozenset({PostStatus.PUBLISHING}),
    PostStatus.PUBLISHED: frozenset(),
    PostStatus.CANCELLED: frozenset(),
    PostStatus.MISSED: frozenset(),
}


def can_transition(current: PostStatus, new: PostStatus) -> bool:
    return new in TRANSITIONS[current]


class Rescheduled(Conflict):
    """A publish message for a time the post no longer has: it was rescheduled after the tick
    queued it, and the message for its new time is (or will be) on its way. The worker drops
    this one, so a post never goes out at a time it was moved away from."""


@dataclass(frozen=True)
class Comment:
    """A target's first comment: published after the target, with an outcome of its own that
    never changes the post's. Its states are a target's (`TargetStatus`)."""

    status: TargetStatus = TargetStatus.PENDING
    attempts: int = 0
    platform_comment_id: str | None = None
    last_error: str | None = None
    error_kind: str | None = None
    claimed_at: str | None = None
    published_at: str | None = None

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {"status": self.status.value, "attempts": self.attempts}
        for name in (
            "platform_comment_id",
            "last_error",
            "error_kind",
            "claimed_at",
            "published_at",
        ):
            value = getattr(self, name)
            if value is not None:
                item[name] = value
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Comment:
        return cls(
            status=TargetStatus(item["status"]),
            attempts=int(item.get("attempts", 0)),
            platform_comment_id=item.get("platform_comment_id"),
            last_error=item.get("last_error"),
            error_kind=item.get("error_kind"),
            claimed_at=item.get("claimed_at"),
            published_at=item.get("published_at"),
        )


@dataclass(frozen=True)
class Target:
    account_id: str
    platform: PlatformName
    status: TargetStatus = TargetStatus.PENDING
    attempts: int = 0
    platform_post_id: str | None = None
    url: str | None = None
    part_ids: tuple[str, ...] = ()  # parts of a thread (X, Threads) already out, in order
    last_error: str | None = None
    error_kind: str | None = None
    claimed_at: str | None = None
    published_at: str | None = None
    comment: Comment | None = None  # its first comment's outcome, when it has one
    # What the publisher uploaded so far (platform ids), kept so a later run resumes from it.
    media_state: dict[str, Any] | None = None
    processing_since: str | None = None  # when the platform started processing its media

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "account_id": self.account_id,
            "platform": self.platform,
            "status": self.status.value,
            "attempts": self.attempts,
            "part_ids": list(self.part_ids),
        }
        for name in (
            "platform_post_id",
            "url",
            "last_error",
            "error_kind",
            "claimed_at",
            "published_at",
            "media_state",
            "processing_since",
        ):
            value = getattr(self, name)
            if value is not None:
                item[name] = value
        if self.comment is not None:
            item["comment"] = self.comment.to_item()
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Target:
        return cls(
            account_id=item["account_id"],
            platform=item["platform"],
            status=TargetStatus(item["status"]),
            attempts=int(item.get("attempts", 0)),
            platform_post_id=item.get("platform_post_id"),
            url=item.get("url"),
            part_ids=tuple(item.get("part_ids", ())),
            last_error=item.get("last_error"),
            error_kind=item.get("error_kind"),
            claimed_at=item.get("claimed_at"),
            published_at=item.get("published_at"),
            comment=Comment.from_item(item["comment"]) if item.get("comment") else None,
            media_state=_plain(item.get("media_state")),
            processing_since=item.get("processing_since"),
        )


@dataclass(frozen=True)
class Post:
    post_id: str
    business_id: str
    status: PostStatus
    content: Content
    targets: dict[str, Target] = field(default_factory=dict)  # by account id
    created_at: str = ""
    updated_at: str = ""
    scheduled_for: str | None = None  # ISO 8601 UTC
    timezone: str | None = None  # the IANA zone the client scheduled in, for display
    published_at: str | None = None
    status_reason: str | None = None
    version: int = 0

    def content_for(self, target: Target) -> Content:
        """What `target` publishes: the shared content with its platform's and its account's
        overrides (herald.variants)."""
        return resolve(self.content, target.account_id, target.platform)

    def with_comments(self) -> Post:
        """The targets of a post not yet published, each with a pending first comment when
        its content has one and without when it has none (after an edit of the content)."""
        targets = {
            account_id: replace(
                target,
                comment=Comment() if self.content_for(target).first_comment else None,
            )
            for account_id, target in self.targets.items()
        }
        return replace(self, targets=targets)

    def with_target(self, target: Target) -> Post:
        return replace(self, targets={**self.targets, target.account_id: target})

    def outcome(self) -> PostStatus:
        """The post's final status from its targets' statuses."""
        statuses = [t.status for t in self.targets.values()]
        published = sum(s == TargetStatus.PUBLISHED for s in statuses)
        if statuses and published == len(statuses):
            return PostStatus.PUBLISHED
        if published:
            return PostStatus.PARTIALLY_PUBLISHED
        return PostStatus.FAILED

    def closed(self) -> Post:
        """The post closed with what its targets add up to: its final status, when it was last
        published, and why the others were not."""
        published = [t.published_at for t in self.targets.values() if t.published_at]
        reasons = [
            f"{t.account_id}: {t.last_error}"
            for t in self.targets.values()
            if t.status != TargetStatus.PUBLISHED and t.last_error
        ]
        return replace(
            self,
            status=self.outcome(),
            published_at=max(published) if published else None,
            status_reason="; ".join(reasons) or None,
        )

    def unpublished_targets(self) -> list[Target]:
        return [t for t in self.targets.values() if t.status != TargetStatus.PUBLISHED]


def _plain(value: Any) -> Any:
    """DynamoDB's numbers come back as Decimal: the publishers' state holds ints."""
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def content_to_item(content: Content) -> dict[str, Any]:
    item = _fields_to_item(
        {
            "text": content.text,
            "thread": content.thread,
            "image_url": content.image_url,
            "link": content.link,
            "media": content.media,
            "first_comment": content.first_comment,
            "attachments": content.attachments,
            "story": content.story,
        }
    )
    item.setdefault("text", "")
    item.setdefault("thread", [])
    if content.variants:
        item["variants"] = {key: variant_to_item(v) for key, v in content.variants.items()}
    return item


def variant_to_item(variant: Variant) -> dict[str, Any]:
    """A variant's fields as stored and as the API shows them (a null is an override too)."""
    return _fields_to_item(variant.values, keep_null=True)


def content_from_item(item: dict[str, Any]) -> Content:
    return Content(
        text=item.get("text", ""),
        thread=tuple(item.get("thread", ())),
        image_url=item.get("image_url"),
        link=item.get("link"),
        media=_media_from_item(item.get("media", ())),
        first_comment=item.get("first_comment"),
        attachments=_attachments_from_item(item.get("attachments", ())),
        story=bool(item.get("story", False)),
        variants={
            key: Variant(_fields_from_item(values))
            for key, values in (item.get("variants") or {}).items()
        },
    )


def _media_to_item(media: tuple[MediaItem, ...]) -> list[dict[str, Any]]:
    return [{"url": m.url, "kind": m.kind} for m in media]


def _media_from_item(items: Any) -> tuple[MediaItem, ...]:
    return tuple(MediaItem(m["url"], m.get("kind", "image")) for m in items or ())


def _attachments_from_item(items: Any) -> tuple[Attachment, ...]:
    return tuple(Attachment.from_item(_plain(a)) for a in items or ())


def _fields_to_item(values: Mapping[str, Any], *, keep_null: bool = False) -> dict[str, Any]:
    """Content fields as stored. The shared content leaves out what it does not have; a
    variant keeps a null, which is an override of its own (no image, no first comment)."""
    item: dict[str, Any] = {}
    for name, value in values.items():
        if name == "thread":
            item[name] = list(value or ())
        elif name == "media":
            item[name] = _media_to_item(value or ())
        elif name == "attachments":
            item[name] = [a.to_item() for a in value or ()]
        else:
            item[name] = value
    if keep_null:
        return item
    return {k: v for k, v in item.items() if v or k == "text"}


def _fields_from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, value in item.items():
        if name == "thread":
            values[name] = tuple(value or ())
        elif name == "media":
            values[name] = _media_from_item(value)
        elif name == "attachments":
            values[name] = _attachments_from_item(value)
        elif name == "story":
            values[name] = bool(value)
        elif name == "text":
            values[name] = value or ""
        else:
            values[name] = value
    return values
