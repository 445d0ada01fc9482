"""First comments through the publish worker's SQS handler, on moto: the comment follows its
post, a duplicate delivery or a crash anywhere between the post and the comment publishes
neither twice, and a failing comment never holds its post back."""

from __future__ import annotations

from typing import Any

import pytest

from herald import comments, tick, worker
from herald.admin.commands import create_business
from herald.clock import FrozenClock
from herald.container import Container
from herald.posts import Post, PostStatus, TargetStatus
from tests.fakes.scheduling import (
    FakePublisher,
    LambdaKilled,
    at,
    connect_account,
    install_publishers,
    pending_post,
    transient,
)
from tests.integration.test_publish_worker import body_of, deliver, stored

COMMENT = "Directions: https://shop.test/map"


@pytest.fixture
def wc(container: Container, clock: FrozenClock) -> Container:
    container.__dict__["clock"] = clock
    return container


@pytest.fixture
def linkedin(wc: Container) -> FakePublisher:
    return install_publishers(wc)["linkedin"]


@pytest.fixture
def post(wc: Container) -> Post:
    business_id = create_business(wc, "Acme Bakery")["business_id"]
    account = connect_account(wc, business_id, "linkedin")
    queued = pending_post(wc, business_id, [account], at(wc, 5), first_comment=COMMENT)
    assert tick.dispatch_due(wc.tick_ports).sent == 1
    return queued


@pytest.fixture
def handler() -> Any:
    from functions.publish_worker import app

    return app.handler


def comment_of(c: Container, post: Post) -> Any:
    (target,) = stored(c, post).targets.values()
    return target.comment


def test_the_first_comment_follows_its_post_in_the_same_delivery(
    wc: Container, post: Post, linkedin: FakePublisher, handler: Any
) -> None:
    assert deliver(handler, body_of(post)) == {"batchItemFailures": []}

    assert stored(wc, post).status == PostStatus.PUBLISHED
    assert linkedin.comments == [(linkedin.accepted[0][0], "linkedin-1", COMMENT)]
    comment = comment_of(wc, post)
    assert (comment.status, comment.platform_comment_id) == (
        TargetStatus.PUBLISHED,
        "linkedin-1-comment-1",
    )


def test_a_duplicate_delivery_comments_once(
    wc: Container, post: Post, linkedin: FakePublisher, handler: Any
) -> None:
    deliver(handler, body_of(post), message_id="m-1")
    assert deliver(handler, body_of(post), message_id="m-1") == {"batchItemFailures": []}

    assert len(linkedin.accepted) == 1
    assert len(linkedin.comments) == 1


def test_a_crash_between_the_post_and_its_comment_is_finished_by_the_next_delivery(
    wc: Container, post: Post, linkedin: FakePublisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = comments.publish_comments

    async def killed(run: comments.CommentRun) -> list[comments.CommentResult]:
        raise LambdaKilled("the Lambda was killed after the post was recorded")

    monkeypatch.setattr(comments, "publish_comments", killed)
    with pytest.raises(LambdaKilled):
        worker.handle_message(wc.engine_ports, body_of(post), 1)
    assert stored(wc, post).status == PostStatus.PUBLISHED
    assert comment_of(wc, post).status == TargetStatus.PENDING

    monkeypatch.setattr(comments, "publish_comments", real)
    assert worker.handle_message(wc.engine_ports, body_of(post), 2) == "skipped: post is published"
    worker.handle_message(wc.engine_ports, body_of(post), 3)

    assert len(linkedin.accepted) == 1
    assert len(linkedin.comments) == 1
    assert comment_of(wc, post).status == TargetStatus.PUBLISHED


def test_a_crash_after_the_platform_took_the_comment_is_reconciled_not_commented_again(
    wc: Container, post: Post, linkedin: FakePublisher, clock: FrozenClock
) -> None:
    def killed() -> None:
        raise LambdaKilled("the Lambda was killed before the comment was recorded")

    linkedin.comment_script.append(killed)
    with pytest.raises(LambdaKilled):
        worker.handle_message(wc.engine_ports, body_of(post), 1)
    assert comment_of(wc, post).status == TargetStatus.PUBLISHING

    clock.advance(30)  # the claim is still live: the delivery comes back later
    with pytest.raises(worker.RetryLater):
        worker.handle_message(wc.engine_ports, body_of(post), 2)
    clock.advance(370)  # the visibility timeout: the claim is stale now
    worker.handle_message(wc.engine_ports, body_of(post), 3)

    assert len(linkedin.comments) == 1
    comment = comment_of(wc, post)
    assert (comment.status, comment.platform_comment_id) == (
        TargetStatus.PUBLISHED,
        "linkedin-1-comment-1",
    )


def test_a_comment_failing_retryably_leaves_the_post_published_and_comes_back(
    wc: Container, post: Post, linkedin: FakePublisher
) -> None:
    linkedin.comment_script.append(transient())
    with pytest.raises(worker.RetryLater):
        worker.handle_message(wc.engine_ports, body_of(post), 1)
    assert stored(wc, post).status == PostStatus.PUBLISHED
    assert comment_of(wc, post).status == TargetStatus.FAILED

    worker.handle_message(wc.engine_ports, body_of(post), 2)

    assert len(linkedin.accepted) == 1
    assert comment_of(wc, post).status == TargetStatus.PUBLISHED
    assert comment_of(wc, post).attempts == 2


def test_a_comment_still_failing_on_the_last_receive_ends_failed_and_the_message_is_done(
    wc: Container, post: Post, linkedin: FakePublisher
) -> None:
    linkedin.comment_script.append(transient())
    last = wc.settings.publish_max_receives

    assert worker.handle_message(wc.engine_ports, body_of(post), last) == "published"
    assert comment_of(wc, post).status == TargetStatus.FAILED
