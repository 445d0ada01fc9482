"""Retry a post: a person asks the engine to publish its failed targets and first comments again.

Named for the one thing it does (the API's `POST /api/v1/posts/{id}/retry`); the retries the
engine makes by itself, within a run or by redelivery, are herald.publishing_policy's.

What is retried: a failed target, whatever its reason; a target claimed by a run that died (an
API publish has no queue to bring it back; the engine takes the stale claim over and reconciles
before it posts again); a first comment that failed. An unconfirmed target is left for a
person: the platform may already have it. A post with nothing of that kind is a Conflict.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool

from herald.clock import parse_iso
from herald.errors import Conflict
from herald.posts import Post, Target, TargetStatus

if TYPE_CHECKING:
    from herald.ports import Clock, PostPublisher, PostStore
    from herald.settings import Settings


@dataclass(frozen=True)
class RetryPorts:
    """What retrying uses (herald.ports), from `Container.retry_ports`."""

    settings: Settings
    posts: PostStore
    clock: Clock
    publish: PostPublisher


async def retry_post(
    ports: RetryPorts, business_id: str, post_id: str, *, resumed: bool = False
) -> Post:
    """The post once its failed targets and comments were published again. `resumed`: an
    earlier request with the same Idempotency-Key ran this retry and gave no final answer;
    whatever it left to do is done, and the post is answered as it stands."""
    post = await run_in_threadpool(ports.posts.get, business_id, post_id)  # 404 first
    if not anything_to_retry(ports, post):
        if resumed:
            return post
        # Unconfirmed targets wait for a person: the platform may already have them.
        raise Conflict(f"post {post_id} has no failed target or first comment to retry")
    outcome = await ports.publish(business_id, post_id, retry_in_process=True, retry_failed=True)
    if outcome.skipped and not outcome.results and not outcome.comments:
        raise Conflict(f"nothing to retry: {outcome.skipped}")
    assert outcome.post is not None
    return outcome.post


def anything_to_retry(ports: RetryPorts, post: Post) -> bool:
    from herald.comments import owed

    retryable = any(_retryable(ports, t) for t in post.targets.values())
    return retryable or bool(owed(post, any_failure=True))


def _retryable(ports: RetryPorts, target: Target) -> bool:
    """Failed, or claimed by a run that died (an API publish has no queue to bring it back):
    the engine takes a stale claim over and reconciles before it posts again."""
    if target.status == TargetStatus.FAILED:
        return True
    if target.status != TargetStatus.PUBLISHING or not target.claimed_at:
        return False
    stale = timedelta(seconds=ports.settings.publish_claim_stale_seconds)
    return parse_iso(target.claimed_at) < ports.clock.now() - stale
