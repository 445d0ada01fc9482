"""Lambda's SQS event source mapping, for the publish queue of the local stack.

It long-polls the queue, hands the worker a batch shaped exactly like Lambda's SQS event, deletes
the records that succeeded and leaves those named in `batchItemFailures` (all of them when the
handler raises) to come back after the visibility timeout. After maxReceiveCount receives SQS
itself moves a message to the dead-letter queue: moto applies the redrive policy on receive, as
SQS does, so the poller does not repeat it.
"""

from __future__ import annotations

import base64
import logging
import threading
from typing import Any

from herald.local.lambda_runtime import Invoker

log = logging.getLogger("herald.local")

HANDLER = "functions.publish_worker.app.handler"
FUNCTION = "PublishWorkerFunction"


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
        batch_size: int = 10,
        wait_seconds: int = 2,
        handler: str = HANDLER,
        function_name: str = FUNCTION,
    ) -> None:
        super().__init__(name="sqs-poller", daemon=True)
        self.sqs = sqs
        self.queue_url = queue_url
        self.invoker = invoker
        self.timeout_seconds = timeout_seconds
        self.batch_size = batch_size
        self.wait_seconds = wait_seconds
        self.handler = handler
        self.function_name = function_name
        self.queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.stopping = threading.Event()

    def poll_once(self) -> tuple[int, int]:
        """One receive and one invocation: (records delivered, records deleted)."""
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=self.wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        batch: list[dict[str, Any]] = response.get("Messages", [])
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
