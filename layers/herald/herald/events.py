"""Domain events on the SNS topic: `post.published`, `post.failed`, `account.needs_reauth`, ...

Every event is one JSON document with the same envelope:

    {"event_id": ..., "type": ..., "occurred_at": ..., "business_id": ..., "data": {...}}

`event_id` is derived from the type and the payload's identifying fields when the caller passes
`dedupe_key`, so a retried publish of the same fact carries the same id and subscribers can drop
the duplicate. The `event_type` message attribute lets a subscription filter by type.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from herald.clock import isoformat
from herald.ids import new_id, stable_id
from herald.observability import logger

if TYPE_CHECKING:
    from herald.clock import Clock
    from herald.ports import EventPublisher


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


class TopicEvents:
    """herald.ports.EventPublisher on the SNS topic. The client is asked for only when an event
    goes out (`client` is a getter): the tick builds none in a minute that misses no post."""

    def __init__(self, client: Callable[[], Any], topic_arn: str | None, clock: Clock) -> None:
        self._client = client
        self._topic = topic_arn
        self._clock = clock

    def publish(
        self, event_type: str, payload: dict[str, Any], *, dedupe_key: str | None = None
    ) -> str:
        event = build_event(
            event_type,
            payload,
            occurred_at=isoformat(self._clock.now()),
            dedupe_key=dedupe_key,
        )
        if not self._topic:
            # A local run without a topic still records what would have been announced.
            logger.info("event (no topic configured)", extra={"event": event})
            return str(event["event_id"])
        _publish_one(self._client(), self._topic, event)
        return str(event["event_id"])

    def outbox(self) -> EventOutbox:
        """An outbox on the same topic, for a worker batch's final events."""
        return EventOutbox(self._client, self._topic, self._clock)


async def publish_event(
    events: EventPublisher,
    event_type: str,
    payload: dict[str, Any],
    *,
    dedupe_key: str | None = None,
) -> str:
    """Publish one event and return its id. boto3 is synchronous: it runs in a worker thread."""
    from starlette.concurrency import run_in_threadpool  # not for the tick, which has no loop

    return await run_in_threadpool(
        partial(events.publish, event_type, payload, dedupe_key=dedupe_key)
    )


PUBLISH_BATCH = 10  # SNS PublishBatch's ceiling


class EventOutbox:
    """Events gathered while a worker batch is handled, sent ten to a PublishBatch call once
    every record is done: a full batch of single-target posts costs one SNS request, not ten.

    Each event belongs to the record (SQS message id) that produced it. `flush` returns the
    records whose events did not go out; the worker reports those as failed, so SQS delivers
    them again, the engine finds their posts finished and announces the event it still owes.
    """

    def __init__(self, client: Callable[[], Any], topic_arn: str | None, clock: Clock) -> None:
        self._client = client
        self._topic = topic_arn
        self._clock = clock
        self._events: list[tuple[str, dict[str, Any]]] = []

    def add(self, owner: str, event_type: str, payload: dict[str, Any], *, dedupe_key: str) -> str:
        event = build_event(
            event_type,
            payload,
            occurred_at=isoformat(self._clock.now()),
            dedupe_key=dedupe_key,
        )
        self._events.append((owner, event))
        return str(event["event_id"])

    def flush(self, stop_by: float | None = None) -> set[str]:
        """`stop_by` (time.monotonic()): no SNS request starts after it (the worker's deadline,
        so a struggling SNS cannot run the invocation into its timeout and fail the whole
        batch); the events not sent by then are their records' to announce on redelivery."""
        events, self._events = self._events, []
        topic = self._topic
        if not topic:
            for _, event in events:
                logger.info("event (no topic configured)", extra={"event": event})
            return set()

        def in_time() -> bool:
            return stop_by is None or time.monotonic() < stop_by

        undelivered: set[str] = set()
        for start in range(0, len(events), PUBLISH_BATCH):
            chunk = events[start : start + PUBLISH_BATCH]
            if not in_time():
                logger.warning(
                    "events left for redelivery at the deadline", extra={"events": len(chunk)}
                )
                undelivered.update(owner for owner, _ in chunk)
                continue
            entries = [
                {
                    "Id": str(i),
                    "Message": json.dumps(event, separators=(",", ":"), default=str),
                    "MessageAttributes": {
                        "event_type": {"DataType": "String", "StringValue": event["type"]}
                    },
                }
                for i, (_, event) in enumerate(chunk)
            ]
            try:
                response = self._client().publish_batch(
                    TopicArn=topic, PublishBatchRequestEntries=entries
                )
            except Exception:  # noqa: BLE001 - each event gets one more try on its own
                logger.warning("PublishBatch failed", extra={"events": len(chunk)}, exc_info=True)
                response = {"Failed": [{"Id": str(i)} for i in range(len(chunk))]}
            for success in response.get("Successful", []):
                _, event = chunk[int(success["Id"])]
                logger.info(
                    "event published",
                    extra={"event_type": event["type"], "event_id": event["event_id"]},
                )
            for failure in response.get("Failed", []):
                owner, event = chunk[int(failure["Id"])]
                if not (in_time() and self._publish_alone(topic, event)):
                    undelivered.add(owner)
        return undelivered

    def _publish_alone(self, topic: str, event: dict[str, Any]) -> bool:
        """One more try for an event the batch did not get out: a refused event costs its
        record a redelivery, which waits out the queue's visibility timeout."""
        try:
            _publish_one(self._client(), topic, event)
        except Exception:  # noqa: BLE001 - the record comes back and announces it again
            logger.exception("event not published", extra={"event_id": event["event_id"]})
            return False
        return True


def _publish_one(client: Any, topic: str, event: dict[str, Any]) -> None:
    """One event on the topic, its type as a message attribute for subscription filters."""
    client.publish(
        TopicArn=topic,
        Message=json.dumps(event, separators=(",", ":"), default=str),
        MessageAttributes={"event_type": {"DataType": "String", "StringValue": event["type"]}},
    )
    logger.info(
        "event published", extra={"event_type": event["type"], "event_id": event["event_id"]}
    )
