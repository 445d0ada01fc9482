"""Lambda's SQS event source mapping, for the publish queue of the local stack.

It long-polls the queue, hands the worker a batch shaped exactly like Lambda's SQS event, deletes
the records that succeeded and leaves those named in `batchItemFailures` (all of them when the
handler raises) to come back after the visibility timeout. After maxReceiveCount receives SQS
itself moves a message to the dead-letter queue: moto applies the redrive policy on receive, as
SQS does, so the poller does not repeat it.

A batch is gathered as the mapping gathers it, with template.yaml's `BatchSize` and
`MaximumBatchingWindowInSeconds` (`Mapping.from_template`): one ReceiveMessage returns at most
ten messages, so a larger batch takes several, until it is full or the window has passed since
its first message; without a window, what the first receive returned is the batch.

One poller is one execution environment: it invokes one batch at a time. Lambda runs a mapping's
batches in several environments at once (five at first, more as the queue stays busy), which the
local stack reproduces with several worker processes, each with its own poller
(`--worker-processes`).
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from herald.local.lambda_runtime import Invoker

log = logging.getLogger("herald.local")

HANDLER = "functions.publish_worker.app.handler"
FUNCTION = "PublishWorkerFunction"
RECEIVE_MAX = 10  # ReceiveMessage's ceiling


@dataclass(frozen=True)
class Mapping:
    """What of an SQS event source mapping shapes the batches a function gets."""

    batch_size: int = 10
    window_seconds: float = 0.0
    max_concurrency: int | None = None

    @classmethod
    def from_template(
        cls, template: dict[str, Any], function: str = FUNCTION, event: str = "Publish"
    ) -> Mapping:
        spec = template["Resources"][function]["Properties"]["Events"][event]["Properties"]
        scaling = spec.get("ScalingConfig") or {}
        concurrency = scaling.get("MaximumConcurrency")
        return cls(
            batch_size=int(spec.get("BatchSize", 10)),
            window_seconds=float(spec.get("MaximumBatchingWindowInSeconds", 0)),
            max_concurrency=int(concurrency) if concurrency is not None else None,
        )


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    binary = value.get("BinaryValue")
    return {
        "stringValue": value.get("StringValue"),
        "binaryValue": base64.b64encode(binary).decode() if binary is not None else None,
        "stringListValues": value.get("StringListValues", []),
        "binaryListValues": [
            base64.b64encode(b).decode() for b in value.get("BinaryListValues", [])
        ],
        "dataType": value["DataType"],
    }


def sqs_event(messages: list[dict[str, Any]], *, queue_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda builds from a ReceiveMessage response."""
    records = []
    for message in messages:
        attributes = message.get("Attributes", {})
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": dict(attributes),
                "messageAttributes": {
                    name: _message_attribute(value)
                    for name, value in message.get("MessageAttributes", {}).items()
                },
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
        )
    return {"Records": records}


def failed_ids(result: Any, batch: list[dict[str, Any]]) -> set[str]:
    """The message ids to leave on the queue, read as Lambda reads a partial-batch response."""
    every = {m["MessageId"] for m in batch}
    if not isinstance(result, dict) or "batchItemFailures" not in result:
        return set()
    failures = result["batchItemFailures"] or []
    ids = {str(f.get("itemIdentifier", "")) for f in failures if isinstance(f, dict)}
    # Lambda treats an identifier it cannot match (or an empty one) as a failed batch.
    return every if not ids <= every else ids


class SqsPoller(threading.Thread):
    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        invoker: Invoker,
        *,
        timeout_seconds: float,
        mapping: Mapping | None = None,
        wait_seconds: int = 2,
        handler: str = HANDLER,
        function_name: str = FUNCTION,
    ) -> None:
        super().__init__(name="sqs-poller", daemon=True)
        self.sqs = sqs
        self.queue_url = queue_url
        self.invoker = invoker
        self.timeout_seconds = timeout_seconds
        self.mapping = mapping or Mapping()
        self.wait_seconds = wait_seconds
        self.handler = handler
        self.function_name = function_name
        self.queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.stopping = threading.Event()

    def receive(self, count: int, wait_seconds: float) -> list[dict[str, Any]]:
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=max(1, min(RECEIVE_MAX, count)),
            WaitTimeSeconds=int(wait_seconds),
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages: list[dict[str, Any]] = response.get("Messages", [])
        return messages

    def gather(self) -> list[dict[str, Any]]:
        """A batch: the first receive long-polls; with a window, more receives follow until the
        batch is full or the window has passed since the first message arrived."""
        size, window = self.mapping.batch_size, self.mapping.window_seconds
        batch = {m["MessageId"]: m for m in self.receive(size, self.wait_seconds)}
        if not batch or window <= 0:
            return list(batch.values())
        closes = time.monotonic() + window
        while len(batch) < size and not self.stopping.is_set():
            left = closes - time.monotonic()
            if left <= 0:
                break
            # Whole seconds are all ReceiveMessage takes: under a second left, ask without
            # waiting, and after an empty answer ask once more as the window closes (what
            # arrived meanwhile is still gathered) rather than every moment until then: twenty
            # pollers asking five times a second made a third of the ReceiveMessage calls.
            more = self.receive(size - len(batch), min(left, 20) if left >= 1 else 0)
            if not more and left < 1 and not self.stopping.wait(left):
                more = self.receive(size - len(batch), 0)
            back = [m for m in more if m["MessageId"] in batch]
            for message in more:
                if message["MessageId"] in batch:
                    # A visibility timeout shorter than the window brought it back into its own
                    # batch (template.yaml never allows that; a test queue may): it stays once,
                    # as first received, under the receipt handle SQS issued last, the one a
                    # delete must name.
                    batch[message["MessageId"]]["ReceiptHandle"] = message["ReceiptHandle"]
                else:
                    batch[message["MessageId"]] = message
            if back:
                break
        return list(batch.values())

    def poll_once(self) -> tuple[int, int]:
        """One batch and one invocation: (records delivered, records deleted)."""
        batch = self.gather()
        if not batch:
            return 0, 0
        event = sqs_event(batch, queue_arn=self.queue_arn, region=self.invoker.region)
        ok, result = self.invoker.invoke(
            self.handler,
            event,
            function_name=self.function_name,
            timeout_seconds=self.timeout_seconds,
        )
        if not ok:
            # A missing handler or one that raised: the whole batch comes back later.
            return len(batch), 0
        keep = failed_ids(result, batch)
        done = [m for m in batch if m["MessageId"] not in keep]
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)
                ],
            )
        return len(batch), len(done)

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                delivered, _ = self.poll_once()
            except Exception:  # keep polling, as the event source mapping does
                log.exception("polling %s failed", self.queue_url)
                self.stopping.wait(1.0)
                continue
            if not delivered:
                continue
            # Lambda keeps the records of a missing handler in flight; do not spin on them.
            if self.invoker.handler(self.handler) is None:
                self.stopping.wait(1.0)

    def stop(self) -> None:
        self.stopping.set()
