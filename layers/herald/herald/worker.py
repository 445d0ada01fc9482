"""What the publish worker does with one SQS message.

    body -> publishing.publish_post -> done (published, failed, or skipped: cancelled, already out)
                       ├── retry_later -> RetryLater
                       └── another run holds a target -> RetryLater (see below)

The record handler raises for what SQS should deliver again and returns for everything final,
as Powertools' batch examples do; publish-once comes from the engine's conditional claims, not
from the queue, so a message delivered twice, or to two workers at once, publishes once.

    RetryLater          a target failed with a retryable error and receives remain: SQS brings
                        the message back after the visibility timeout
    MalformedMessage    the body is not a publish message, or names no post: it can never
                        succeed, so it is failed on every receive until SQS moves it to the DLQ
                        after maxReceiveCount (never an endless loop)

On the receive numbered `publish_max_receives` (the queue's maxReceiveCount) the engine is told
it is the last attempt: it marks the remaining targets failed with their reason and emits
`post.failed`, so the message ends as a final outcome rather than in the DLQ.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from herald import aio
from herald.clock import parse_iso
from herald.errors import NotFound
from herald.observability import logger
from herald.posts import PostStatus

if TYPE_CHECKING:
    from herald.container import Container


MAX_EARLY_SECONDS = 1.0


class RetryLater(Exception):
    """A transient failure: leave the message for SQS to deliver again.

    `delay_seconds`, when set, is how soon the message should come back. Without it the message
    waits out the queue's whole visibility timeout (370 s), which is right when another run holds
    a target but far too long for a platform 5xx or a short rate-limit window.
    """

    def __init__(self, detail: str, delay_seconds: int | None = None) -> None:
        super().__init__(detail)
        self.delay_seconds = delay_seconds


RETRY_BASE_SECONDS = 10
RETRY_MAX_SECONDS = 300


def retry_delay(receive_count: int, retry_after: float | None) -> int:
    """Exponential backoff by receive (10 s, 20 s, 40 s, ...), never sooner than the platform's
    own Retry-After, and never past the visibility timeout it replaces."""
    backoff = RETRY_BASE_SECONDS * 2 ** max(0, receive_count - 1)
    return int(min(RETRY_MAX_SECONDS, max(backoff, math.ceil(retry_after or 0))))


def bring_back_after(container: Container, receipt_handle: str, delay_seconds: int) -> None:
    """Shorten this delivery's visibility so SQS redelivers it after `delay_seconds`.

    Best effort: if SQS refuses, the message still comes back after the full visibility timeout,
    so nothing is lost, only later.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        container.sqs.change_message_visibility(
            QueueUrl=container.settings.queue_url,
            ReceiptHandle=receipt_handle,
            VisibilityTimeout=delay_seconds,
        )
    except (BotoCoreError, ClientError) as exc:
        logger.warning(
            "could not shorten the message's visibility; it returns after the full timeout",
            extra={"error_type": type(exc).__name__},
        )


class MalformedMessage(Exception):
    """A message no delivery can ever handle."""


@dataclass(frozen=True)
class PublishMessage:
    business_id: str
    post_id: str
    scheduled_for: str | None = None

    @classmethod
    def parse(cls, body: str) -> PublishMessage:
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise MalformedMessage("the body is not JSON") from exc
        if not isinstance(data, dict):
            raise MalformedMessage("the body is not a JSON object")
        business_id, post_id = data.get("business_id"), data.get("post_id")
        if not isinstance(business_id, str) or not isinstance(post_id, str):
            raise MalformedMessage("business_id and post_id are required strings")
        if not business_id or not post_id:
            raise MalformedMessage("business_id and post_id must not be empty")
        scheduled_for = data.get("scheduled_for")
        return cls(business_id, post_id, scheduled_for if isinstance(scheduled_for, str) else None)


def wait_for_its_second(container: Container, scheduled_for: str | None) -> None:
    """The tick rounds DelaySeconds down, so a message may arrive up to a second before its
    post is due: wait out that fraction. Anything earlier is not the tick's rounding (a clock
    far off, a redriven message) and is not waited for."""
    if not scheduled_for:
        return
    try:
        early = (parse_iso(scheduled_for) - container.clock.now()).total_seconds()
    except ValueError:
        return
    if 0 < early <= MAX_EARLY_SECONDS:
        time.sleep(early)


def handle_message(container: Container, body: str, receive_count: int) -> str:
    """Handle one message; returns what happened (for the log). Raises to have it redelivered."""
    message = PublishMessage.parse(body)
    wait_for_its_second(container, message.scheduled_for)
    from herald.publishing import publish_post  # httpx and the publishers: only when needed

    last = receive_count >= container.settings.publish_max_receives
    try:
        # The engine loads the post and skips a cancelled, missed or finished one itself (and
        # announces a final event an earlier run died before sending): no second read here.
        outcome = aio.run(
            publish_post(
                container,
                message.business_id,
                message.post_id,
                retry_in_process=False,
                last_attempt=last,
            )
        )
    except NotFound as exc:
        raise MalformedMessage(f"post {message.post_id} does not exist") from exc
    if outcome.retry_later:
        raise RetryLater(
            f"post {message.post_id}: a target failed with a retryable error "
            f"(receive {receive_count} of {container.settings.publish_max_receives})",
            delay_seconds=retry_delay(receive_count, outcome.retry_after),
        )
    post = outcome.post
    if post is not None and post.status == PostStatus.PUBLISHING:
        # Another run holds a target (the same message delivered to two workers at once). If
        # this delivery were deleted and that run then died, nothing would bring the post back;
        # so it returns after the visibility timeout, by when the other run has finished (and
        # this delivery is a skip) or its claim is stale and is taken over and reconciled.
        raise RetryLater(f"post {message.post_id}: another run still holds a target")
    if outcome.skipped:
        return f"skipped: {outcome.skipped}"
    return post.status.value if post is not None else "done"
