"""`python -m herald admin redrive-dlq`: send the publish DLQ's messages back to the queue.

A message reaches the DLQ only when no delivery could handle it (a malformed body, or a
dependency down for all of its receives). Once the cause is fixed, redriving it is safe: the
worker skips a post that is already out or cancelled, and its claims keep a post from going out
twice.

SQS's own StartMessageMoveTask does the move server-side; moto (the local stack and the tests)
does not implement it, so the command receives, re-sends and deletes, ten at a time, which works
everywhere. A message is deleted from the DLQ only after SQS accepted its copy; a crash in
between leaves a duplicate, which the worker absorbs like any duplicate delivery.
"""

from __future__ import annotations

import argparse
from typing import Any

from herald.admin.commands import command
from herald.container import Container, get_container


def redrive(container: Container, *, limit: int | None = None) -> dict[str, Any]:
    sqs, settings = container.sqs, container.settings
    moved = failed = 0
    while limit is None or moved < limit:
        want = 10 if limit is None else max(1, min(10, limit - moved))
        messages = sqs.receive_message(
            QueueUrl=settings.dlq_url,
            MaxNumberOfMessages=want,
            MessageAttributeNames=["All"],
            WaitTimeSeconds=0,
        ).get("Messages", [])
        if not messages:
            break
        entries = []
        for i, message in enumerate(messages):
            entry: dict[str, Any] = {"Id": str(i), "MessageBody": message["Body"]}
            if message.get("MessageAttributes"):
                entry["MessageAttributes"] = message["MessageAttributes"]
            entries.append(entry)
        sent = sqs.send_message_batch(QueueUrl=settings.queue_url, Entries=entries)
        accepted = {s["Id"] for s in sent.get("Successful", [])}
        failed += len(messages) - len(accepted)
        done = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
            for i, m in enumerate(messages)
            if str(i) in accepted
        ]
        if done:
            sqs.delete_message_batch(QueueUrl=settings.dlq_url, Entries=done)
        moved += len(done)
        if failed:
            break  # the queue refuses: stop rather than spin; what is left stays in the DLQ
    left = sqs.get_queue_attributes(
        QueueUrl=settings.dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]["ApproximateNumberOfMessages"]
    return {"moved": moved, "failed": failed, "left_in_dlq": int(left)}


def _args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--limit", type=int, default=None, help="move at most this many messages")


@command("redrive-dlq", "move the publish dead-letter queue's messages back to the queue", _args)
def _redrive(args: argparse.Namespace) -> dict[str, Any]:
    return redrive(get_container(), limit=args.limit)
