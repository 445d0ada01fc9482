"""What cannot be handled ends in the DLQ (moto applies the redrive policy of template.yaml),
and `redrive-dlq` sends it back. A post that merely keeps failing on the platform does not: it
ends `failed` on its last receive (see test_publish_worker)."""

from __future__ import annotations

from typing import Any

import pytest

from herald import tick
from herald.__main__ import main
from herald.admin.commands import create_business
from herald.admin.dlq import redrive
from herald.clock import FrozenClock
from herald.container import Container
from herald.errors import DependencyUnavailable
from herald.posts import PostStatus
from herald.store.schedule import DueEntry
from tests.conftest import LambdaContext
from tests.fakes.scheduling import (
    FakePublisher,
    at,
    connect_account,
    install_publishers,
    pending_post,
    received_to_record,
    sqs_event,
)


@pytest.fixture
def dc(container: Container, clock: FrozenClock) -> Container:
    container.__dict__["clock"] = clock
    return container


@pytest.fixture
def handler() -> Any:
    from functions.publish_worker import app

    return app.handler


def poll_once(c: Container, handler: Any) -> dict[str, Any] | None:
    """One pass of Lambda's event source mapping; a failed record's visibility timeout is made
    to pass at once (as if 370 s went by)."""
    got = c.sqs.receive_message(
        QueueUrl=c.settings.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
    ).get("Messages", [])
    if not got:
        return None
    arn = c.sqs.get_queue_attributes(QueueUrl=c.settings.queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    response: dict[str, Any] = handler(
        sqs_event(*(received_to_record(m, arn) for m in got)), LambdaContext()
    )
    failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
    for message in got:
        if message["MessageId"] in failed:
            c.sqs.change_message_visibility(
                QueueUrl=c.settings.queue_url,
                ReceiptHandle=message["ReceiptHandle"],
                VisibilityTimeout=0,
            )
        else:
            c.sqs.delete_message(
                QueueUrl=c.settings.queue_url, ReceiptHandle=message["ReceiptHandle"]
            )
    return response


def depth(c: Container, url: str) -> int:
    attrs = c.sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(
        attrs["ApproximateNumberOfMessagesNotVisible"]
    )


def test_a_malformed_message_is_failed_on_each_of_its_five_receives_then_dead_lettered(
    dc: Container, handler: Any
) -> None:
    dc.sqs.send_message(QueueUrl=dc.settings.queue_url, MessageBody="Hello from SQS!")
    receives = 0
    while poll_once(dc, handler) is not None:
        receives += 1
        assert receives <= 5, "a poison message must not loop"
    assert receives == 5
    assert depth(dc, dc.settings.queue_url) == 0
    assert depth(dc, dc.settings.dlq_url) == 1


class _DynamoDown:
    """The post repository while DynamoDB cannot be reached."""

    def __getattr__(self, name: str) -> Any:
        def unavailable(*args: Any, **kwargs: Any) -> Any:
            raise DependencyUnavailable("DynamoDB is unreachable", component="dynamodb")

        return unavailable


def test_a_post_whose_every_delivery_failed_is_dead_lettered_then_redriven_and_published_once(
    dc: Container, handler: Any
) -> None:
    fakes: dict[str, FakePublisher] = install_publishers(dc)
    business_id = create_business(dc, "Acme")["business_id"]
    account = connect_account(dc, business_id)
    post = pending_post(dc, business_id, [account], at(dc, -5))
    tick.dispatch_due(dc.tick_ports)  # overdue: no delay, so it can be received at once

    real_posts = dc.posts
    dc.override(posts=_DynamoDown())
    while poll_once(dc, handler) is not None:
        pass
    assert depth(dc, dc.settings.dlq_url) == 1

    dc.override(posts=real_posts)  # the outage is over
    assert redrive(dc) == {"moved": 1, "failed": 0, "left_in_dlq": 0}
    response = poll_once(dc, handler)
    assert response == {"batchItemFailures": []}
    assert dc.posts.get(business_id, post.post_id).status == PostStatus.PUBLISHED
    assert len(fakes["linkedin"].accepted) == 1

    # A second redrive of the same message (say, an operator ran it twice) posts nothing more.
    dc.sqs.send_message(
        QueueUrl=dc.settings.queue_url,
        MessageBody=tick.message_body(
            DueEntry(business_id, post.post_id, post.scheduled_for or "", "")
        ),
    )
    assert poll_once(dc, handler) == {"batchItemFailures": []}
    assert len(fakes["linkedin"].accepted) == 1


def test_the_redrive_command_reports_its_counts(
    dc: Container, capsys: pytest.CaptureFixture[str]
) -> None:
    for i in range(12):
        dc.sqs.send_message(QueueUrl=dc.settings.dlq_url, MessageBody=f"poison {i}")
    assert main(["admin", "redrive-dlq", "--limit", "5"]) == 0
    out = capsys.readouterr().out
    assert '"moved": 5' in out
    assert '"left_in_dlq": 7' in out
    assert depth(dc, dc.settings.queue_url) == 5
    assert redrive(dc)["moved"] == 7
    assert depth(dc, dc.settings.dlq_url) == 0
