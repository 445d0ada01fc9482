"""The publish queue on SQS: herald.ports.PublishQueue for the tick, publish-now and the worker,
and herald.ports.Redelivery for the worker's received messages.

The client is asked for only when a message goes out (`client` is a getter), so a use case that
may never send one (scheduling a post days ahead) does not build an SQS client for nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from herald.observability import logger


class SqsPublishQueue:
    def __init__(self, client: Callable[[], Any], queue_url: str) -> None:
        self._client = client
        self._url = queue_url

    def send(self, body: str, delay_seconds: int) -> None:
        self._client().send_message(
            QueueUrl=self._url, MessageBody=body, DelaySeconds=delay_seconds
        )

    def send_batch(self, messages: Sequence[tuple[str, int]]) -> list[int]:
        # https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html
        # A batch can succeed in part: the refused entries come back under `Failed` by Id.
        response = self._client().send_message_batch(
            QueueUrl=self._url,
            Entries=[
                {"Id": str(i), "MessageBody": body, "DelaySeconds": delay}
                for i, (body, delay) in enumerate(messages)
            ],
        )
        return [int(f["Id"]) for f in response.get("Failed", [])]

    def bring_back_after(self, receipt_handle: str, delay_seconds: int) -> None:
        """Shorten a received message's visibility so SQS redelivers it after `delay_seconds`.

        Best effort: if SQS refuses, the message still comes back after the full visibility
        timeout, so nothing is lost, only later.
        """
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client().change_message_visibility(
                QueueUrl=self._url, ReceiptHandle=receipt_handle, VisibilityTimeout=delay_seconds
            )
        except (BotoCoreError, ClientError) as exc:
            logger.warning(
                "could not shorten the message's visibility; it returns after the full timeout",
                extra={"error_type": type(exc).__name__},
            )
