"""The local SQS poller behaves as Lambda's event source mapping with ReportBatchItemFailures."""

from __future__ import annotations

from typing import Any

import pytest

from herald.local.lambda_runtime import Invoker
from herald.local.sqs_poller import HANDLER, Mapping, SqsPoller
from herald.local.template import LocalResources, load_template

RECORD_KEYS = {
    "messageId",
    "receiptHandle",
    "body",
    "attributes",
    "messageAttributes",
    "md5OfBody",
    "eventSource",
    "eventSourceARN",
    "awsRegion",
}


class Worker:
    """A worker that fails the records whose body is in `fail` and records what it saw."""

    def __init__(self, fail: set[str] | None = None, raises: bool = False) -> None:
        self.fail = fail or set()
        self.raises = raises
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.events.append(event)
        if self.raises:
            raise RuntimeError("worker crashed")
        return {
            "batchItemFailures": [
                {"itemIdentifier": r["messageId"]}
                for r in event["Records"]
                if r["body"] in self.fail
            ]
        }


@pytest.fixture
def sqs(aws: Any, resources: LocalResources) -> Any:
    client = aws.client("sqs")
    # Failed records come back at once instead of after the template's 370 s.
    client.set_queue_attributes(QueueUrl=resources.queue_url, Attributes={"VisibilityTimeout": "0"})
    return client


def poller(
    sqs: Any, resources: LocalResources, worker: Worker, mapping: Mapping | None = None
) -> SqsPoller:
    return SqsPoller(
        sqs,
        resources.queue_url,
        Invoker(handlers={HANDLER: worker}),
        timeout_seconds=60,
        mapping=mapping,
        wait_seconds=0,
    )


def bodies(sqs: Any, url: str) -> list[str]:
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return sorted(m["Body"] for m in messages)


def test_the_worker_gets_records_shaped_like_lambdas_sqs_event(
    sqs: Any, resources: LocalResources
) -> None:
    sqs.send_message(
        QueueUrl=resources.queue_url,
        MessageBody='{"post_id": "p1"}',
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "publish"}},
    )
    worker = Worker()

    poller(sqs, resources, worker).poll_once()

    (record,) = worker.events[0]["Records"]
    assert set(record) == RECORD_KEYS
    assert record["body"] == '{"post_id": "p1"}'
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == resources.queue_arns["PublishQueue"]
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["messageAttributes"]["kind"]["stringValue"] == "publish"
    assert record["messageAttributes"]["kind"]["dataType"] == "String"


def test_succeeded_records_are_deleted_and_failed_ones_stay(
    sqs: Any, resources: LocalResources
) -> None:
    for body in ("a", "b", "c"):
        sqs.send_message(QueueUrl=resources.queue_url, MessageBody=body)

    delivered, deleted = poller(sqs, resources, Worker(fail={"b"})).poll_once()

    assert (delivered, deleted) == (3, 2)
    assert bodies(sqs, resources.queue_url) == ["b"]


def test_a_worker_that_raises_leaves_the_whole_batch(sqs: Any, resources: LocalResources) -> None:
    for body in ("a", "b"):
        sqs.send_message(QueueUrl=resources.queue_url, MessageBody=body)

    delivered, deleted = poller(sqs, resources, Worker(raises=True)).poll_once()

    assert (delivered, deleted) == (2, 0)
    assert bodies(sqs, resources.queue_url) == ["a", "b"]


def test_an_unknown_failure_identifier_fails_the_whole_batch(
    sqs: Any, resources: LocalResources
) -> None:
    sqs.send_message(QueueUrl=resources.queue_url, MessageBody="a")

    def odd(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"batchItemFailures": [{"itemIdentifier": "not-a-message-id"}]}

    p = SqsPoller(
        sqs,
        resources.queue_url,
        Invoker(handlers={HANDLER: odd}),
        timeout_seconds=60,
        wait_seconds=0,
    )

    assert p.poll_once() == (1, 0)


def test_a_record_failing_five_times_ends_in_the_dead_letter_queue(
    sqs: Any, resources: LocalResources
) -> None:
    sqs.send_message(QueueUrl=resources.queue_url, MessageBody="poison")
    worker = Worker(fail={"poison"})
    p = poller(sqs, resources, worker)

    for _ in range(6):
        p.poll_once()

    assert len(worker.events) == 5
    assert [e["Records"][0]["attributes"]["ApproximateReceiveCount"] for e in worker.events] == [
        "1",
        "2",
        "3",
        "4",
        "5",
    ]
    assert bodies(sqs, resources.queue_url) == []
    assert bodies(sqs, resources.dlq_url) == ["poison"]


def send(sqs: Any, url: str, count: int) -> None:
    for start in range(0, count, 10):
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "MessageBody": f"m{i}"} for i in range(start, min(count, start + 10))
            ],
        )


def test_a_batch_larger_than_ten_is_gathered_from_several_receives_up_to_the_batch_size(
    sqs: Any, resources: LocalResources
) -> None:
    # Long enough that a message gathered first is not received again before the batch closes.
    sqs.set_queue_attributes(QueueUrl=resources.queue_url, Attributes={"VisibilityTimeout": "30"})
    send(sqs, resources.queue_url, 25)
    worker = Worker()
    p = poller(sqs, resources, worker, Mapping(batch_size=20, window_seconds=1))

    assert p.poll_once() == (20, 20)
    assert p.poll_once() == (5, 5)
    assert [len(e["Records"]) for e in worker.events] == [20, 5]


def test_without_a_batching_window_a_batch_is_what_one_receive_returns(
    sqs: Any, resources: LocalResources
) -> None:
    send(sqs, resources.queue_url, 15)

    assert poller(sqs, resources, Worker(), Mapping(batch_size=100)).poll_once() == (10, 10)


def test_the_mapping_is_read_from_the_templates_publish_event() -> None:
    spec = load_template()["Resources"]["PublishWorkerFunction"]["Properties"]["Events"]
    publish = spec["Publish"]["Properties"]

    mapping = Mapping.from_template(load_template())

    assert mapping.batch_size == publish["BatchSize"]
    assert mapping.window_seconds == publish["MaximumBatchingWindowInSeconds"]
    assert mapping.max_concurrency == publish["ScalingConfig"]["MaximumConcurrency"]


class ScriptedSqs:
    """An SQS that answers each ReceiveMessage with the next of `answers` (then nothing), and
    notes when it was asked and how long it was told to wait."""

    def __init__(self, answers: list[list[str]]) -> None:
        self.answers = answers
        self.asked: list[tuple[float, int]] = []

    def get_queue_attributes(self, **_: Any) -> dict[str, Any]:
        return {"Attributes": {"QueueArn": "arn:aws:sqs:us-east-1:123456789012:q"}}

    def receive_message(self, *, WaitTimeSeconds: int, **_: Any) -> dict[str, Any]:
        import time

        self.asked.append((time.monotonic(), WaitTimeSeconds))
        bodies = self.answers.pop(0) if self.answers else []
        return {"Messages": [{"MessageId": b, "ReceiptHandle": b, "Body": b} for b in bodies]}


def test_under_a_second_left_an_empty_answer_is_asked_again_once_as_the_window_closes() -> None:
    import time

    sqs = ScriptedSqs([["first"], [], ["late"]])
    p = SqsPoller(
        sqs,
        "url",
        Invoker(handlers={}),
        timeout_seconds=60,
        mapping=Mapping(batch_size=100, window_seconds=0.6),
        wait_seconds=0,
    )
    started = time.monotonic()

    batch = p.gather()

    # What arrived while the poller waited for the close is still in the batch.
    assert [m["Body"] for m in batch] == ["first", "late"]
    assert [wait for _, wait in sqs.asked] == [0, 0, 0]
    assert sqs.asked[2][0] - started >= 0.55  # the last ask is at the window's close
