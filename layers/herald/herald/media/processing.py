"""Coming back for a target whose media a platform is still processing.

A publisher answers `StillProcessing(after_seconds)` once its uploads are done and their ids
saved (`Progress.state`); the engine records the target `processing`. The post's message is
then sent again with DelaySeconds (SQS allows at most 900) and the delivery at hand ends: no
Lambda sleeps through a platform's transcoding, and the re-sent message starts with a receive
count of 1, so waiting never uses up the queue's maxReceiveCount. The engine bounds the wait
(`media_processing_timeout_seconds` from when processing began): past it the target fails.

If the send fails the worker lets the delivery itself come back (visibility timeout) instead,
so the post is never left without a message. If the delivery is redelivered as well as re-sent
(a crash between the send and the delete), the two copies meet the target's conditional claim:
one resumes it, the other finds it held or done.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from herald.ports import PublishQueue

MAX_DELAY_SECONDS = 900  # SQS's DelaySeconds ceiling


def delay_seconds(after: float) -> int:
    return max(0, min(MAX_DELAY_SECONDS, math.ceil(after)))


def send_again(
    queue: PublishQueue,
    business_id: str,
    post_id: str,
    *,
    delay: int,
    scheduled_for: str | None = None,
    account_ids: Sequence[str] = (),
) -> None:
    """A publish message for the post, delivered after `delay` seconds (raises if SQS refuses)."""
    body: dict[str, Any] = {"business_id": business_id, "post_id": post_id}
    if scheduled_for:
        body["scheduled_for"] = scheduled_for
    if account_ids:
        body["account_ids"] = list(account_ids)
    queue.send(json.dumps(body, separators=(",", ":")), delay_seconds(delay))
