"""Domain events on the SNS topic: `post.published`, `post.failed`, `account.needs_reauth`, ...

Every event is one JSON document with the same envelope:

    {"event_id": ..., "type": ..., "occurred_at": ..., "business_id": ..., "data": {...}}

`event_id` is derived from the type and the payload's identifying fields when the caller passes
`dedupe_key`, so a retried publish of the same fact carries the same id and subscribers can drop
the duplicate. The `event_type` message attribute lets a subscription filter by type.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool

from herald.clock import isoformat
from herald.ids import new_id, stable_id
from herald.observability import logger

if TYPE_CHECKING:
    from herald.container import Container


def build_event(
    event_type: str,
    payload: dict[str, Any],
    *,
    occurred_at: str,
    dedupe_key: str | None = None,
) -> dict[str, Any]:
    event_id = stable_id("evt", event_type, dedupe_key) if dedupe_key else new_id("evt")
    return {
        "event_id": event_id,
        "type": event_type,
        "occurred_at": occurred_at,
        "business_id": payload.get("business_id"),
        "data": payload,
    }


def publish_event_sync(
    container: Container,
    event_type: str,
    payload: dict[str, Any],
    *,
    dedupe_key: str | None = None,
) -> str:
    event = build_event(
        event_type,
        payload,
        occurred_at=isoformat(container.clock.now()),
        dedupe_key=dedupe_key,
    )
    topic = container.settings.topic_arn
    if not topic:
        # A local run without a topic still records what would have been announced.
        logger.info("event (no topic configured)", extra={"event": event})
        return str(event["event_id"])
    container.sns.publish(
        TopicArn=topic,
        Message=json.dumps(event, separators=(",", ":"), default=str),
        MessageAttributes={"event_type": {"DataType": "String", "StringValue": event_type}},
    )
    logger.info("event published", extra={"event_type": event_type, "event_id": event["event_id"]})
    return str(event["event_id"])


async def publish_event(
    container: Container,
    event_type: str,
    payload: dict[str, Any],
    *,
    dedupe_key: str | None = None,
) -> str:
    """Publish one event and return its id. boto3 is synchronous: it runs in a worker thread."""
    return await run_in_threadpool(
        publish_event_sync, container, event_type, payload, dedupe_key=dedupe_key
    )
