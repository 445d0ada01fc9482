"""The post and its targets: data and states. How a post moves between its states, and who may
claim a target, is `herald.posts.lifecycle`; how a post is stored is `herald.store.post_items`.

A post's status says where it is on its way out (pending, queued, publishing, then its outcome);
each target (one account) has a status of its own:

    pending ──> publishing ──> published
                 │  ↑  │  └──> failed        (retries exhausted or not retryable)
                 │  │  └─────> unconfirmed   (the platform may have it; nothing proves either way)
                 ↓  │
               processing    (the platform is processing its media: resumed from media_state)

A failed target may go back to `publishing` through an explicit retry; a published one never does.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from herald.accounts import PlatformName
from herald.platforms.base import Content
from herald.variants import resolve


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
