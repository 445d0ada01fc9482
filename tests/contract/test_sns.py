"""FakeSNS (tests/fakes/publishing.py) against SNS on moto, read through a subscribed queue: what
the engine publishes is what a subscriber gets, one suite for both."""

from __future__ import annotations

import json
from typing import Any

import pytest

from herald.local.template import LocalResources
from tests.fakes.publishing import FakeSNS


class SubscribedTopic:
    """The template's events topic with a raw-delivery queue subscribed, as a consumer reads it."""

    def __init__(self, aws: Any, resources: LocalResources) -> None:
        self.topic_arn = resources.topic_arn
        self.sns, self.sqs = aws.client("sns"), aws.client("sqs")
        self.queue_url = self.sqs.create_queue(QueueName="events-reader")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])
        self.sns.subscribe(
            TopicArn=self.topic_arn,
            Protocol="sqs",
            Endpoint=arn["Attributes"]["QueueArn"],
            Attributes={"RawMessageDelivery": "true"},
        )
        self.messages: list[dict[str, Any]] = []

    def publish(self, **kwargs: Any) -> dict[str, str]:
        answer: dict[str, str] = self.sns.publish(**kwargs)
        return answer

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        while got := self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            for message in got:
                self.messages.append(json.loads(message["Body"]))
                self.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
        return [m for m in self.messages if m["type"] == event_type]


@pytest.fixture(params=["sns", "fake"])
def topic(request: pytest.FixtureRequest) -> Any:
    if request.param == "fake":
        return FakeSNS()
    return SubscribedTopic(request.getfixturevalue("aws"), request.getfixturevalue("resources"))


def event(event_type: str, post_id: str) -> dict[str, Any]:
    return {"type": event_type, "event_id": f"evt-{post_id}", "data": {"post_id": post_id}}


def publish(topic: Any, message: dict[str, Any]) -> dict[str, str]:
    return dict(
        topic.publish(
            TopicArn=getattr(topic, "topic_arn", "arn:aws:sns:us-east-1:123456789012:events"),
            Message=json.dumps(message),
            MessageAttributes={
                "event_type": {"DataType": "String", "StringValue": message["type"]}
            },
        )
    )


def test_publishing_answers_with_a_message_id(topic: Any) -> None:
    answer = publish(topic, event("post.published", "p1"))

    assert isinstance(answer["MessageId"], str)
    assert answer["MessageId"]


def test_a_subscriber_reads_each_event_as_published_by_type(topic: Any) -> None:
    published = event("post.published", "p1")
    failed = event("post.failed", "p2")
    publish(topic, published)
    publish(topic, failed)

    assert topic.of_type("post.published") == [published]
    assert topic.of_type("post.failed") == [failed]
    assert topic.of_type("post.cancelled") == []
