"""The publishing engine's pure decisions, apart from any I/O so each is tested on its own:
whether and when to retry a failed attempt, what a run's outcome is, what its event says, and
which HTTP status the API answers with.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import stamina

from herald.accounts import PlatformName
from herald.platforms.base import PlatformError
from herald.posts import Post, PostStatus, TargetStatus
from herald.posts.lifecycle import RETRYABLE_KINDS

if TYPE_CHECKING:
    from herald.comments import CommentResult


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int  # per target, the first one included
    initial: float  # first backoff in seconds; each next one doubles
    deadline: float  # monotonic time after which no new attempt may start
    attempt_budget: float  # how long one more attempt may take (the platform timeout)

    @property
    def max_wait(self) -> float:
        return self.initial * 8

    def backoff_hook(self, monotonic: Callable[[], float]) -> Callable[[Exception], bool | float]:
        """A stamina backoff hook: False to give up, True for the library's exponential backoff
        with jitter, or the seconds the platform asked for."""

        def hook(exc: Exception) -> bool | float:
            return retry_decision(exc, remaining=self.deadline - monotonic(), policy=self)

        return hook

    def attempts_of(self, monotonic: Callable[[], float]) -> AsyncIterator[stamina.Attempt]:
        """stamina's attempts under this policy: the one way a platform call is retried, for a
        target and for its first comment alike.

        The first attempt is made even past the deadline: the target is claimed and due, and a
        claim left unused would come back as one that may have posted (unconfirmed). The
        deadline bounds the retries and, through Progress, the parts of an upload."""
        left = self.deadline - monotonic()
        return stamina.retry_context(
            on=self.backoff_hook(monotonic),
            attempts=self.attempts if left > 0 else 1,
            timeout=left if left > 0 else None,
            wait_initial=self.initial,
            wait_max=self.max_wait,
            wait_jitter=self.initial,
        )


def retry_decision(exc: BaseException, *, remaining: float, policy: RetryPolicy) -> bool | float:
    """Retry only what a retry can fix (transient, rate limited), honouring the platform's
    `Retry-After` / reset time, and only if the wait plus one more attempt fits the deadline:
    an API request must never outlive API Gateway's 29 s."""
    if not isinstance(exc, PlatformError) or not exc.kind.retryable:
        return False
    wait = exc.retry_after if exc.retry_after is not None else policy.max_wait
    if wait + policy.attempt_budget > remaining:
        return False
    if exc.retry_after is not None:
        return float(exc.retry_after)
    return True


@dataclass(frozen=True)
class TargetResult:
    """What this run did with one target."""

    account_id: str
    platform: PlatformName
    status: TargetStatus
    attempts: int = 0
    platform_post_id: str | None = None
    url: str | None = None
    error_kind: str | None = None
    reason: str | None = None
    retry_after: float | None = None

    @property
    def retryable_failure(self) -> bool:
        return (
            self.status == TargetStatus.FAILED
            and self.error_kind is not None
            and self.error_kind in RETRYABLE_KINDS
        )


@dataclass(frozen=True)
class PublishOutcome:
    post_id: str
    status: PostStatus | None  # the post's status once this run is over
    results: tuple[TargetResult, ...] = ()  # the targets this run claimed
    post: Post | None = None  # the post as stored after the run
    retry_later: bool = False  # the worker should let SQS deliver the message again
    retry_after: float | None = None  # the longest wait a platform asked for
    skipped: str | None = None  # why nothing was attempted
    event_ids: list[str] = field(default_factory=list)
    comments: tuple[CommentResult, ...] = ()  # the first comments this run claimed
    # A platform is still processing a target's media: come back in this many seconds.
    check_again_in: float | None = None


def wants_redelivery(results: tuple[TargetResult, ...], *, last_attempt: bool) -> bool:
    return not last_attempt and any(r.retryable_failure for r in results)


def longest_wait(results: tuple[TargetResult, ...]) -> float | None:
    waits = [r.retry_after for r in results if r.retry_after is not None]
    return max(waits) if waits else None


def http_status(post: Post) -> int:
    """200 when every target is out, 502 when every one failed on the platform side, 202 while
    another run still holds a target or a platform is processing its media, 207 (per-target
    results) otherwise."""
    statuses = [t.status for t in post.targets.values()]
    if any(
        s in (TargetStatus.PUBLISHING, TargetStatus.PENDING, TargetStatus.PROCESSING)
        for s in statuses
    ):
        return 202
    if all(s == TargetStatus.PUBLISHED for s in statuses):
        return 200
    if all(s == TargetStatus.FAILED for s in statuses):
        return 502
    return 207


def event_payload(post: Post) -> dict[str, Any]:
    """The body of `post.published` / `post.partially_published` / `post.failed`."""
    return {
        "post_id": post.post_id,
        "business_id": post.business_id,
        "status": post.status.value,
        "scheduled_for": post.scheduled_for,
        "published_at": post.published_at,
        "targets": [
            {
                "account_id": t.account_id,
                "platform": t.platform,
                "status": t.status.value,
                "attempts": t.attempts,
                "platform_post_id": t.platform_post_id,
                "url": t.url,
                "error_kind": t.error_kind,
                "reason": t.last_error,
            }
            for t in post.targets.values()
        ],
        "reasons": [
            f"{t.platform} {t.account_id}: {t.last_error}"
            for t in post.targets.values()
            if t.status != TargetStatus.PUBLISHED and t.last_error
        ],
    }
