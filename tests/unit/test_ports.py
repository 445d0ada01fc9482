"""The ports (herald.ports) are met by what the container builds and by the fakes tests hand in.

mypy is the check that matters here: each assignment to a port's type below fails type checking
when an adapter or a fake drifts from the port. The tests then use each through its port.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from herald.clock import FrozenClock
from herald.container import Container
from herald.events import TopicEvents
from herald.platforms.base import Content
from herald.ports import (
    AccountReader,
    Businesses,
    Clock,
    CommentStore,
    DueIndex,
    EventPublisher,
    PostStore,
    PublishQueue,
    Redelivery,
    ScheduleStore,
)
from herald.posts import Post, PostStatus, Target
from herald.queue import SqsPublishQueue
from herald.settings import Settings
from tests.fakes.publishing import FakeSNS, InMemoryPostRepository

NOW = "2026-01-01T00:00:00.000000Z"


def _post() -> Post:
    return Post(
        post_id="post_1",
        business_id="biz",
        status=PostStatus.PUBLISHING,
        content=Content(text="hello"),
        targets={"acc_x": Target(account_id="acc_x", platform="x")},
        created_at=NOW,
        updated_at=NOW,
    )


class _RecordingSqs:
    def __init__(self, *, refuse_visibility: bool = False) -> None:
        self.calls: list[dict[str, Any]] = []
        self.visibility: list[tuple[str, int]] = []
        self._refuse_visibility = refuse_visibility

    def change_message_visibility(self, **kwargs: Any) -> None:
        if self._refuse_visibility:
            error: Any = {"Error": {"Code": "ReceiptHandleIsInvalid", "Message": "expired"}}
            raise ClientError(error, "ChangeMessageVisibility")
        self.visibility.append((kwargs["ReceiptHandle"], kwargs["VisibilityTimeout"]))

    def send_message_batch(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return {"Failed": [{"Id": "1"}]}


def _container(**overrides: Any) -> Container:
    settings = Settings(
        HERALD_ENV="test",
        TOPIC_ARN="arn:aws:sns:us-east-1:123456789012:events",
        QUEUE_URL="https://sqs.us-east-1.amazonaws.com/123456789012/publish",
    )
    return Container(settings, table=object(), clock=FrozenClock(), **overrides)


def test_the_in_memory_post_repository_is_the_engines_post_and_comment_store() -> None:
    fake = InMemoryPostRepository()
    posts: PostStore = fake
    comments: CommentStore = fake
    posts.create(_post())
    assert comments.get("biz", "post_1").targets["acc_x"].platform == "x"


def test_the_container_builds_every_store_port_from_its_repositories() -> None:
    c = _container()
    posts: PostStore = c.posts
    comments: CommentStore = c.posts
    schedule: ScheduleStore = c.schedule
    due: DueIndex = c.schedule
    accounts: AccountReader = c.accounts
    businesses: Businesses = c.businesses
    clock: Clock = c.clock
    # One repository each for the post item and the schedule, seen through two ports.
    assert {id(posts), id(comments)} == {id(c.posts)}
    assert {id(schedule), id(due)} == {id(c.schedule)}
    assert (accounts, businesses, clock) == (c.accounts, c.businesses, c.clock)


def test_the_topic_events_publish_through_the_sns_client_they_are_given() -> None:
    sns = FakeSNS()
    events: EventPublisher = _container(sns=sns).events
    assert isinstance(events, TopicEvents)
    event_id = events.publish("post.missed", {"post_id": "post_1"}, dedupe_key="post_1:missed")
    assert [e["event_id"] for e in sns.of_type("post.missed")] == [event_id]


def test_the_publish_queue_says_which_of_a_batch_sqs_refused() -> None:
    sqs = _RecordingSqs()
    queue: PublishQueue = _container(sqs=sqs).publish_queue
    assert isinstance(queue, SqsPublishQueue)
    assert queue.send_batch([("a", 0), ("b", 5)]) == [1]
    (call,) = sqs.calls
    assert [(e["MessageBody"], e["DelaySeconds"]) for e in call["Entries"]] == [("a", 0), ("b", 5)]


def test_the_engines_ports_are_built_once_per_container_and_build_no_client() -> None:
    c = _container()
    ports = c.engine_ports
    assert c.engine_ports is ports
    # SNS, SQS, S3 and the platforms' HTTP client wait for the first event, message or post.
    assert not {"sns", "sqs", "s3", "http", "publishers", "media_files"} & set(c.__dict__)
    assert (ports.posts, ports.comments, ports.clock) == (c.posts, c.posts, c.clock)


def test_a_batchs_credentials_build_no_vault_or_redis_client_until_one_is_asked_for() -> None:
    c = _container()
    c.engine_ports.tokens.credentials_from({})
    # A batch whose records are all skipped (duplicates, cancelled posts) needs neither.
    assert not {"vault", "redis", "secrets_provider", "secretsmanager"} & set(c.__dict__)


def test_an_override_of_a_container_in_use_reaches_the_engine() -> None:
    c = _container()
    before = c.engine_ports
    swapped = InMemoryPostRepository()
    c.override(posts=swapped)
    assert c.engine_ports is not before
    assert c.engine_ports.posts is swapped


def test_the_redelivery_asks_sqs_to_bring_the_message_back_after_the_delay() -> None:
    sqs = _RecordingSqs()
    redelivery: Redelivery = _container(sqs=sqs).engine_ports.redelivery
    redelivery.bring_back_after("receipt-1", 40)
    assert sqs.visibility == [("receipt-1", 40)]


def test_a_visibility_change_sqs_refuses_is_left_to_the_full_timeout() -> None:
    sqs = _RecordingSqs(refuse_visibility=True)
    _container(sqs=sqs).engine_ports.redelivery.bring_back_after("receipt-1", 40)
    assert sqs.visibility == []


def test_the_token_ports_build_no_http_client_or_secrets_provider_before_a_flow() -> None:
    c = _container()
    flows = c.token_ports.flows
    # A token that needs no refresh builds neither; settings may hold the app's credentials.
    assert not {"http", "secrets_provider", "secretsmanager", "redis"} & set(c.__dict__)
    assert flows.http() is c.http


def test_the_metrics_sync_ports_make_no_reader_or_token_client_until_an_account_is_read() -> None:
    c = _container()
    ports = c.metrics_sync_ports
    assert not {"http", "metrics_readers", "redis", "vault"} & set(c.__dict__)
    assert (ports.accounts, ports.metrics, ports.posts) == (c.accounts, c.metrics, c.posts)
