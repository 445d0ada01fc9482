"""A target whose media the platform is still processing, through the worker's SQS handler:
the message comes back with DelaySeconds instead of a Lambda waiting, the target resumes from
the state it recorded, and nothing is uploaded or published twice, whatever crashes or duplicate
deliveries come between."""

from __future__ import annotations

import json
from typing import Any

import pytest

from herald import tick
from herald.admin.commands import create_business
from herald.clock import FrozenClock
from herald.container import Container
from herald.posts import Post, PostStatus, TargetStatus
from herald.store.post_items import target_to_item
from herald.store.schedule import DueEntry, due_sk
from tests.conftest import LambdaContext
from tests.fakes.media import ProcessingPlatform, SentMessages
from tests.fakes.scheduling import (
    FakePublisher,
    LambdaKilled,
    at,
    connect_account,
    install_publishers,
    pending_post,
    sqs_event,
    sqs_record,
)


@pytest.fixture
def wc(container: Container, clock: FrozenClock) -> Container:
    container.__dict__["clock"] = clock
    return container


@pytest.fixture
def biz(wc: Container) -> str:
    business_id: str = create_business(wc, "Acme Bakery")["business_id"]
    return business_id


@pytest.fixture
def x(wc: Container) -> ProcessingPlatform:
    fakes: dict[str, Any] = install_publishers(wc)
    platform = ProcessingPlatform("x")
    fakes["x"] = platform
    return platform


@pytest.fixture
def linkedin(wc: Container, x: ProcessingPlatform) -> FakePublisher:
    publisher: FakePublisher = wc.publishers["linkedin"]  # type: ignore[assignment]
    return publisher


@pytest.fixture
def sent(wc: Container) -> SentMessages:
    return SentMessages(wc)


@pytest.fixture
def events(wc: Container) -> list[dict[str, Any]]:
    published: list[dict[str, Any]] = []
    wc.sns.meta.events.register(
        "before-parameter-build.sns.PublishBatch",
        lambda params, **_: published.extend(
            json.loads(e["Message"]) for e in params["PublishBatchRequestEntries"]
        ),
    )
    return published


@pytest.fixture
def handler() -> Any:
    from functions.publish_worker import app

    return app.handler


def queued(c: Container, business_id: str, *platforms: str) -> Post:
    accounts = [connect_account(c, business_id, p) for p in platforms]  # type: ignore[arg-type]
    post = pending_post(c, business_id, accounts, at(c, 5))
    targets = {
        a: t.__class__(account_id=a, platform=p)  # type: ignore[arg-type]
        for (a, t), p in zip(post.targets.items(), platforms, strict=True)
    }
    c.posts._table.update_item(
        Key={"pk": f"BUSINESS#{business_id}", "sk": f"POST#{post.post_id}"},
        UpdateExpression="SET targets = :t",
        ExpressionAttributeValues={":t": {a: target_to_item(t) for a, t in targets.items()}},
    )
    assert tick.dispatch_due(c.tick_ports).sent == 1
    return c.posts.get(business_id, post.post_id)


def body_of(post: Post) -> str:
    assert post.scheduled_for is not None
    entry = DueEntry(
        post.business_id,
        post.post_id,
        post.scheduled_for,
        due_sk(post.scheduled_for, post.post_id),
        tuple(post.targets),
    )
    return tick.message_body(entry)


def deliver(handler: Any, body: str, message_id: str = "m-1") -> Any:
    return handler(sqs_event(sqs_record(body, message_id=message_id)), LambdaContext())


def stored(c: Container, post: Post) -> Post:
    return c.posts.get(post.business_id, post.post_id)


def target_on(post: Post, platform: str) -> Any:
    (target,) = [t for t in post.targets.values() if t.platform == platform]
    return target


def test_a_target_still_processing_comes_back_as_a_delayed_message_and_the_delivery_succeeds(
    wc: Container, biz: str, x: ProcessingPlatform, handler: Any, sent: SentMessages
) -> None:
    post = queued(wc, biz, "x")
    assert deliver(handler, body_of(post)) == {"batchItemFailures": []}
    target = target_on(stored(wc, post), "x")
    assert target.status == TargetStatus.PROCESSING
    assert target.media_state == {"media_id": "media-1"}
    assert stored(wc, post).status == PostStatus.PUBLISHING
    ((body, delay),) = sent.messages
    assert (body["post_id"], body["scheduled_for"], delay) == (post.post_id, post.scheduled_for, 5)
    assert body["account_ids"] == list(post.targets)
    assert (x.uploads, x.posts) == (["media-1"], [])


def test_the_message_that_comes_back_resumes_from_the_recorded_state_and_publishes_once(
    wc: Container, biz: str, x: ProcessingPlatform, handler: Any, sent: SentMessages,
    events: list[dict[str, Any]], clock: FrozenClock,
) -> None:  # fmt: skip
    post = queued(wc, biz, "x")
    for _ in range(3):  # processing, processing, ready
        assert deliver(handler, body_of(post)) == {"batchItemFailures": []}
        clock.advance(5)
    after = stored(wc, post)
    assert after.status == PostStatus.PUBLISHED
    assert target_on(after, "x").platform_post_id == "x-1"
    assert x.uploads == ["media-1"]
    assert len(x.posts) == 1
    assert len(sent.messages) == 2  # one per "still processing", none once it is out
    assert [e["type"] for e in events] == ["post.published"]


def test_a_post_is_published_only_when_every_target_is_ready(
    wc: Container, biz: str, x: ProcessingPlatform, linkedin: FakePublisher, handler: Any,
    events: list[dict[str, Any]], clock: FrozenClock,
) -> None:  # fmt: skip
    x.polls = 1
    post = queued(wc, biz, "linkedin", "x")
    assert deliver(handler, body_of(post)) == {"batchItemFailures": []}
    first = stored(wc, post)
    assert target_on(first, "linkedin").status == TargetStatus.PUBLISHED
    assert target_on(first, "x").status == TargetStatus.PROCESSING
    assert first.status == PostStatus.PUBLISHING
    assert events == []  # no post.published while a part is not ready

    clock.advance(5)
    assert deliver(handler, body_of(post)) == {"batchItemFailures": []}
    assert stored(wc, post).status == PostStatus.PUBLISHED
    assert len(linkedin.accepted) == 1
    assert len(x.posts) == 1
    assert [e["type"] for e in events] == ["post.published"]


def test_a_duplicate_delivery_during_processing_uploads_and_publishes_once(
    wc: Container, biz: str, x: ProcessingPlatform, handler: Any, sent: SentMessages,
    clock: FrozenClock,
) -> None:  # fmt: skip
    """The delivery was re-sent and also redelivered (the Lambda died between the send and the
    delete): two copies of the message from then on."""
    x.polls = 1
    post = queued(wc, biz, "x")
    assert deliver(handler, body_of(post)) == {"batchItemFailures": []}
    clock.advance(5)
    for copy in ("m-2", "m-3"):
        assert deliver(handler, body_of(post), message_id=copy) == {"batchItemFailures": []}
    assert stored(wc, post).status == PostStatus.PUBLISHED
    assert x.uploads == ["media-1"]
    assert len(x.posts) == 1


def test_a_crash_mid_upload_resumes_from_the_saved_state_without_uploading_again(
    wc: Container, biz: str, x: ProcessingPlatform, handler: Any, clock: FrozenClock
) -> None:
    """The Lambda dies after the upload was saved and before the target said `processing`: the
    claim goes stale, and the run that takes it over resumes from the state (the post-creating
    call was never made, so there is nothing to reconcile)."""
    x.polls = 0

    def killed() -> None:
        raise LambdaKilled("the Lambda was killed")

    x.after_upload = killed
    post = queued(wc, biz, "x")
    with pytest.raises(LambdaKilled):
        deliver(handler, body_of(post))
    held = target_on(stored(wc, post), "x")
    assert (held.status, held.media_state) == (TargetStatus.PUBLISHING, {"media_id": "media-1"})

    x.after_upload = None
    clock.advance(370)  # the visibility timeout: the claim is stale
    assert deliver(handler, body_of(post)) == {"batchItemFailures": []}
    assert stored(wc, post).status == PostStatus.PUBLISHED
    assert x.uploads == ["media-1"]
    assert len(x.posts) == 1
    assert x.find_calls == 0


def test_a_crash_after_the_post_call_is_reconciled_never_posted_again(
    wc: Container, biz: str, x: ProcessingPlatform, handler: Any, clock: FrozenClock
) -> None:
    x.polls = 0

    def killed() -> None:
        raise LambdaKilled("the Lambda was killed")

    x.after_post = killed
    post = queued(wc, biz, "x")
    with pytest.raises(LambdaKilled):
        deliver(handler, body_of(post))
    assert target_on(stored(wc, post), "x").media_state == {"media_id": "media-1", "posting": True}

    x.after_post = None
    clock.advance(370)
    assert deliver(handler, body_of(post)) == {"batchItemFailures": []}
    after = stored(wc, post)
    assert after.status == PostStatus.PUBLISHED
    assert target_on(after, "x").platform_post_id == "x-1"
    assert len(x.posts) == 1
    assert x.find_calls == 1


def test_processing_longer_than_the_timeout_fails_the_target_and_forgets_its_state(
    wc: Container, biz: str, x: ProcessingPlatform, handler: Any, sent: SentMessages,
    events: list[dict[str, Any]], clock: FrozenClock,
) -> None:  # fmt: skip
    x.polls = 1000
    post = queued(wc, biz, "x")
    assert deliver(handler, body_of(post)) == {"batchItemFailures": []}
    clock.advance(wc.settings.media_processing_timeout_seconds)
    assert deliver(handler, body_of(post)) == {"batchItemFailures": []}
    after = stored(wc, post)
    target = target_on(after, "x")
    assert after.status == PostStatus.FAILED
    assert target.status == TargetStatus.FAILED
    assert "still processing after 3600 s" in (target.last_error or "")
    assert target.media_state is None
    assert len(sent.messages) == 1
    assert x.posts == []
    assert [e["type"] for e in events] == ["post.failed"]


def test_a_long_processing_wait_is_capped_at_sqs_s_fifteen_minutes(
    wc: Container, biz: str, x: ProcessingPlatform, handler: Any, sent: SentMessages
) -> None:
    x.check_after = 5000
    post = queued(wc, biz, "x")
    assert deliver(handler, body_of(post)) == {"batchItemFailures": []}
    ((_, delay),) = sent.messages
    assert delay == 900


def test_when_the_message_cannot_be_sent_again_the_delivery_itself_comes_back(
    wc: Container, biz: str, x: ProcessingPlatform, handler: Any
) -> None:
    from botocore.exceptions import ClientError

    def refuse(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "no"}}, "Send")

    wc.sqs.meta.events.register("before-call.sqs.SendMessage", refuse)
    post = queued(wc, biz, "x")
    assert deliver(handler, body_of(post)) == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    assert target_on(stored(wc, post), "x").status == TargetStatus.PROCESSING
