"""The local stack's patch of moto's SQS answers exactly as moto does (herald.local.moto_sqs).

Each scenario runs twice on moto in-process, as moto ships and patched, and the answers must be
the same; the patch is undone after each run, so every other test sees moto as it ships.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from moto import mock_aws

from herald.local import moto_sqs


def both(scenario: Callable[[Any], Any]) -> tuple[Any, Any]:
    def run() -> Any:
        with mock_aws():
            return scenario(boto3.session.Session(region_name="us-east-1").client("sqs"))

    return run(), moto_sqs.patched(run)


def queue(sqs: Any, **attributes: str) -> str:
    dlq = sqs.create_queue(QueueName="dead")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = f'{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"2"}}'
    url: str = sqs.create_queue(
        QueueName="publish", Attributes={"RedrivePolicy": redrive, **attributes}
    )["QueueUrl"]
    return url


def send(sqs: Any, url: str, bodies: list[str], delay: int = 0) -> None:
    for start in range(0, len(bodies), 10):
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "MessageBody": b, "DelaySeconds": delay}
                for i, b in enumerate(bodies[start : start + 10])
            ],
        )


def counts(sqs: Any, url: str) -> dict[str, str]:
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesDelayed",
        "ApproximateNumberOfMessagesNotVisible",
    ]
    got: dict[str, str] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return got


def receive(sqs: Any, url: str, count: int = 10, visibility: int = 300) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=count, VisibilityTimeout=visibility
    ).get("Messages", [])
    return got


def test_visible_delayed_and_in_flight_messages_are_counted_and_received_as_moto_does() -> None:
    def scenario(sqs: Any) -> Any:
        url = queue(sqs)
        send(sqs, url, [f"now {n}" for n in range(25)])
        send(sqs, url, [f"later {n}" for n in range(5)], delay=900)
        seen = [counts(sqs, url)]
        first = receive(sqs, url)
        seen.append(counts(sqs, url))
        rest = [m["Body"] for _ in range(3) for m in receive(sqs, url)]
        seen.append(counts(sqs, url))
        return [m["Body"] for m in first], sorted(rest), seen

    stock, patched = both(scenario)
    assert patched == stock
    first, rest, seen = patched
    assert (len(first), len(rest)) == (10, 15)
    assert not any("later" in b for b in rest)
    assert seen[0]["ApproximateNumberOfMessagesDelayed"] == "5"


def test_deletes_by_receipt_handle_old_new_twice_and_unknown_answer_as_moto_does() -> None:
    def scenario(sqs: Any) -> Any:
        url = queue(sqs)
        send(sqs, url, [f"post {n}" for n in range(12)])
        first = receive(sqs, url, visibility=0)  # visible again at once
        again = {m["Body"]: m for m in receive(sqs, url, count=10, visibility=300)}
        entries = [
            # The handle of the first receive and the newer one both name the message.
            {"Id": "old", "ReceiptHandle": first[0]["ReceiptHandle"]},
            {"Id": "new", "ReceiptHandle": again[first[1]["Body"]]["ReceiptHandle"]},
        ]
        deleted = sqs.delete_message_batch(QueueUrl=url, Entries=entries)
        twice = sqs.delete_message_batch(QueueUrl=url, Entries=entries[:1])
        unknown = sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": "x", "ReceiptHandle": "not-a-handle"}]
        )
        sqs.change_message_visibility(
            QueueUrl=url,
            ReceiptHandle=again[first[2]["Body"]]["ReceiptHandle"],
            VisibilityTimeout=0,
        )
        left = sorted(m["Body"] for _ in range(3) for m in receive(sqs, url))
        return (
            sorted(s["Id"] for s in deleted.get("Successful", [])),
            [s["Id"] for s in twice.get("Successful", [])],
            [(f["Id"], f["Code"]) for f in unknown.get("Failed", [])],
            left,
            counts(sqs, url),
        )

    stock, patched = both(scenario)
    assert patched == stock
    assert patched[:2] == (["new", "old"], ["old"])
    assert patched[2] == [("x", "ReceiptHandleIsInvalid")]


def test_a_message_past_its_retention_period_is_not_received_as_moto_does() -> None:
    def scenario(sqs: Any) -> Any:
        from moto.sqs.models import sqs_backends

        url = queue(sqs, MessageRetentionPeriod="60")
        send(sqs, url, ["old", "fresh"])
        backend = sqs_backends["123456789012"]["us-east-1"]
        old = backend.get_queue("publish")._messages[0]
        old.sent_timestamp -= 120_000  # type: ignore[operator, assignment]  # 2 min ago: past 60 s
        return [m["Body"] for m in receive(sqs, url)]

    stock, patched = both(scenario)
    assert patched == stock


def test_the_patch_is_undone_and_tests_elsewhere_see_moto_as_it_ships() -> None:
    from moto.sqs.models import Queue

    shipped = Queue.__dict__["messages"]
    assert moto_sqs.patched(lambda: Queue.__dict__["messages"]) is not shipped
    assert Queue.__dict__["messages"] is shipped


@pytest.mark.parametrize("attribute", ["visible_at", "delayed_until", "_old_receipt_handles"])
def test_against_a_moto_without_the_expected_internals_it_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, attribute: str
) -> None:
    from moto.sqs.models import Message, Queue

    real_init = Message.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        real_init(self, *args, **kwargs)
        delattr(self, attribute)

    monkeypatch.setattr(Message, "__init__", init)
    shipped = Queue.__dict__["messages"]
    assert moto_sqs.apply() is False
    assert Queue.__dict__["messages"] is shipped


def test_receipt_handles_are_drawn_as_moto_draws_them_from_a_seeded_moto() -> None:
    from moto.moto_api._internal import mock_random

    def scenario(sqs: Any) -> Any:
        mock_random.seed(3)
        url = queue(sqs)
        send(sqs, url, [f"post {n}" for n in range(12)])
        return [(m["MessageId"], m["ReceiptHandle"]) for _ in range(2) for m in receive(sqs, url)]

    stock, patched = both(scenario)
    assert patched == stock
    assert len({h for _, h in patched}) == 12


def test_applying_the_patch_leaves_moto_random_generator_where_it_was() -> None:
    from moto.moto_api._internal import mock_random

    mock_random.seed(5)
    stock = mock_random.getrandbits(64)
    mock_random.seed(5)
    assert moto_sqs.patched(lambda: mock_random.getrandbits(64)) == stock
