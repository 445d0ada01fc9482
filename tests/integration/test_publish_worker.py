"""The publish worker's handler: SQS records in, partial batch responses out, every post once.

The platform is a stateful fake that keeps what it accepted, so "published once" is asserted on
the platform's side. Posts are queued by the real tick.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Coroutine
from typing import Any

import pytest

from herald import aio, tick, worker
from herald.accounts import AccountStatus
from herald.admin.commands import create_business
from herald.clock import FrozenClock, isoformat, parse_iso
from herald.container import Container
from herald.posts import Post, PostStatus, TargetStatus
from herald.store.schedule import DueEntry, due_sk
from tests.conftest import LambdaContext
from tests.fakes.scheduling import (
    FakePublisher,
    LambdaKilled,
    at,
    connect_account,
    drain,
    install_publishers,
    pending_post,
    received_to_record,
    sqs_event,
    sqs_record,
    transient,
)


@pytest.fixture
def wc(container: Container, clock: FrozenClock) -> Container:
    container.__dict__["clock"] = clock
    return container


@pytest.fixture
def platforms(wc: Container) -> dict[str, FakePublisher]:
    return install_publishers(wc)


@pytest.fixture
def linkedin(platforms: dict[str, FakePublisher]) -> FakePublisher:
    return platforms["linkedin"]


@pytest.fixture
def biz(wc: Container) -> str:
    business_id: str = create_business(wc, "Acme Bakery")["business_id"]
    return business_id


@pytest.fixture
def events(wc: Container) -> list[dict[str, Any]]:
    published: list[dict[str, Any]] = []
    wc.sns.meta.events.register(
        "before-parameter-build.sns.Publish",
        lambda params, **_: published.append(json.loads(params["Message"])),
    )
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


def queued_post(c: Container, business_id: str, platform: str = "linkedin") -> Post:
    account = connect_account(c, business_id, platform)  # type: ignore[arg-type]
    post = pending_post(c, business_id, [account], at(c, 5), platform=platform)  # type: ignore[arg-type]
    assert tick.dispatch_due(c.tick_ports).sent == 1
    return post


def body_of(post: Post) -> str:
    assert post.scheduled_for is not None
    return tick.message_body(
        DueEntry(
            post.business_id,
            post.post_id,
            post.scheduled_for,
            due_sk(post.scheduled_for, post.post_id),
        )
    )


def deliver(handler: Any, body: str, receive: int = 1, message_id: str = "m-1") -> Any:
    record = sqs_record(body, message_id=message_id, receive_count=receive)
    return handler(sqs_event(record), LambdaContext())


def stored(c: Container, post: Post) -> Post:
    return c.posts.get(post.business_id, post.post_id)


def due_of(post: Post) -> Any:
    assert post.scheduled_for is not None
    return parse_iso(post.scheduled_for)


def only_target(post: Post) -> Any:
    (target,) = post.targets.values()
    return target


def test_a_due_message_publishes_the_post_and_reports_no_failures(
    wc: Container, biz: str, linkedin: FakePublisher, handler: Any, events: list[dict[str, Any]]
) -> None:
    post = queued_post(wc, biz)
    assert deliver(handler, body_of(post)) == {"batchItemFailures": []}
    after = stored(wc, post)
    assert after.status == PostStatus.PUBLISHED
    assert only_target(after).platform_post_id == "linkedin-1"
    assert len(linkedin.accepted) == 1
    assert [e["type"] for e in events] == ["post.published"]


def test_the_same_message_delivered_twice_publishes_once(
    wc: Container, biz: str, linkedin: FakePublisher, handler: Any
) -> None:
    post = queued_post(wc, biz)
    assert deliver(handler, body_of(post), receive=1) == {"batchItemFailures": []}
    assert deliver(handler, body_of(post), receive=2) == {"batchItemFailures": []}
    assert len(linkedin.accepted) == 1
    assert stored(wc, post).status == PostStatus.PUBLISHED


def _thread_loop_runner() -> Any:
    """Each thread its own event loop, as each Lambda instance has its own process."""

    def run(coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run(coro)

    return run


def test_the_same_message_to_two_workers_at_once_publishes_once_and_the_second_checks_back(
    wc: Container,
    biz: str,
    linkedin: FakePublisher,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(aio, "run", _thread_loop_runner())
    post = queued_post(wc, biz)
    second: list[BaseException | str] = []

    def second_worker_runs_now() -> None:
        # Worker A's platform call is in flight (its claim is fresh) when B gets the copy.
        def b() -> None:
            try:
                second.append(worker.handle_message(wc.engine_ports, body_of(post), 1))
            except BaseException as exc:
                second.append(exc)

        t = threading.Thread(target=b)
        t.start()
        t.join()

    linkedin.fail_next(second_worker_runs_now)
    assert worker.handle_message(wc.engine_ports, body_of(post), 1) == "published"
    (b_result,) = second
    assert isinstance(b_result, worker.RetryLater)  # B's copy comes back after the timeout...
    again = worker.handle_message(wc.engine_ports, body_of(post), 2)
    assert again.startswith("skipped")  # ...and is a skip
    assert len(linkedin.accepted) == 1


def test_the_platform_failing_twice_then_succeeding_is_retried_by_sqs_and_published_once(
    wc: Container, biz: str, linkedin: FakePublisher, handler: Any, events: list[dict[str, Any]]
) -> None:
    post = queued_post(wc, biz)
    linkedin.fail_next(transient(), transient())
    failed_item = {"batchItemFailures": [{"itemIdentifier": "m-1"}]}

    assert deliver(handler, body_of(post), receive=1) == failed_item
    assert only_target(stored(wc, post)).status == TargetStatus.FAILED  # retryable, for now
    assert deliver(handler, body_of(post), receive=2) == failed_item
    assert deliver(handler, body_of(post), receive=3) == {"batchItemFailures": []}

    after = stored(wc, post)
    assert after.status == PostStatus.PUBLISHED
    assert only_target(after).attempts == 3
    assert linkedin.calls == 3
    assert len(linkedin.accepted) == 1
    assert [e["type"] for e in events] == ["post.published"]


def test_the_last_receive_marks_the_targets_failed_with_the_reason_and_emits_post_failed(
    wc: Container, biz: str, linkedin: FakePublisher, handler: Any, events: list[dict[str, Any]]
) -> None:
    post = queued_post(wc, biz)
    linkedin.fail_next(*[transient() for _ in range(5)])
    for receive in range(1, 5):
        assert deliver(handler, body_of(post), receive=receive) == {
            "batchItemFailures": [{"itemIdentifier": "m-1"}]
        }
    assert deliver(handler, body_of(post), receive=5) == {"batchItemFailures": []}
    after = stored(wc, post)
    assert after.status == PostStatus.FAILED
    assert "503 from the platform" in (only_target(after).last_error or "")
    assert [e["type"] for e in events] == ["post.failed"]
    assert events[0]["data"]["reasons"]


def test_a_batch_reports_exactly_the_records_that_failed(
    wc: Container, biz: str, platforms: dict[str, FakePublisher], handler: Any
) -> None:
    good = queued_post(wc, biz, "linkedin")
    flaky = queued_post(wc, biz, "x")
    platforms["x"].fail_next(transient("x"))
    event = sqs_event(
        sqs_record(body_of(good), message_id="good"),
        sqs_record("not json", message_id="poison"),
        sqs_record(body_of(flaky), message_id="flaky"),
    )
    response = handler(event, LambdaContext())
    assert response == {
        "batchItemFailures": [{"itemIdentifier": "poison"}, {"itemIdentifier": "flaky"}]
    }
    assert stored(wc, good).status == PostStatus.PUBLISHED


def test_a_record_that_fails_unexpectedly_is_logged_with_its_error(
    wc: Container,
    biz: str,
    handler: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from herald import publishing

    post = queued_post(wc, biz)

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the store broke")

    monkeypatch.setattr(publishing, "publish_post", broken)

    assert deliver(handler, body_of(post)) == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}

    (failed,) = [r for r in caplog.records if r.getMessage().startswith("record failed")]
    assert failed.levelname == "ERROR"
    assert failed.__dict__["message_id"] == "m-1"
    assert failed.exc_info is not None
    assert repr(failed.exc_info[1]) == "RuntimeError('the store broke')"


@pytest.mark.parametrize(
    "body",
    [
        "Hello from SQS!",  # the stored sample's own body
        "[]",
        '{"post_id": "post_1"}',
        '{"business_id": "", "post_id": "post_1"}',
        '{"business_id": "biz_1", "post_id": "post_does_not_exist"}',
    ],
)
def test_a_message_no_delivery_can_handle_is_failed_so_sqs_dead_letters_it(
    wc: Container, handler: Any, body: str
) -> None:
    assert deliver(handler, body) == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    with pytest.raises(worker.MalformedMessage):
        worker.handle_message(wc.engine_ports, body, 1)


def test_a_cancelled_post_is_skipped(
    wc: Container, biz: str, linkedin: FakePublisher, handler: Any
) -> None:
    account = connect_account(wc, biz)
    post = pending_post(wc, biz, [account], at(wc, 5))
    wc.schedule.cancel(biz, post.post_id)
    assert deliver(handler, body_of(post)) == {"batchItemFailures": []}
    assert linkedin.calls == 0


def test_a_worker_killed_after_the_platform_accepted_is_reconciled_never_reposted(
    wc: Container, biz: str, linkedin: FakePublisher, clock: FrozenClock
) -> None:
    """The window no conditional write closes: the platform has the post, the Lambda dies before
    recording it. The target stays `publishing` with its claimed_at. SQS redelivers the message
    after the visibility timeout (370 s, longer than the 120 s after which a claim is stale); the
    next run takes the claim over and looks for the post among the account's recent posts
    (`find_recent`) before it would post, finds it, and records it as published."""
    post = queued_post(wc, biz)

    def killed() -> None:
        raise LambdaKilled("the Lambda was killed")

    linkedin.fail_next(killed)
    with pytest.raises(LambdaKilled):
        worker.handle_message(wc.engine_ports, body_of(post), 1)
    held = only_target(stored(wc, post))
    assert (held.status, held.claimed_at) == (TargetStatus.PUBLISHING, held.claimed_at)
    assert held.claimed_at
    assert len(linkedin.accepted) == 1

    clock.advance(370)  # the visibility timeout
    assert worker.handle_message(wc.engine_ports, body_of(post), 2) == "published"
    after = only_target(stored(wc, post))
    assert after.status == TargetStatus.PUBLISHED
    assert after.platform_post_id == "linkedin-1"
    assert len(linkedin.accepted) == 1  # reconciled, not posted again
    assert linkedin.calls == 1


def test_a_redelivery_while_the_claim_is_fresh_comes_back_later_instead_of_posting(
    wc: Container, biz: str, linkedin: FakePublisher, clock: FrozenClock
) -> None:
    post = queued_post(wc, biz)

    def killed() -> None:
        raise LambdaKilled("the Lambda was killed")

    linkedin.fail_next(killed)
    with pytest.raises(LambdaKilled):
        worker.handle_message(wc.engine_ports, body_of(post), 1)
    clock.advance(30)
    with pytest.raises(worker.RetryLater):
        worker.handle_message(wc.engine_ports, body_of(post), 2)
    assert linkedin.calls == 1


def test_redis_down_does_not_stop_a_post_whose_token_is_fresh(
    wc: Container, biz: str, linkedin: FakePublisher, handler: Any
) -> None:
    import redis.asyncio as aioredis

    post = queued_post(wc, biz)
    aio.run(wc.aclose())
    wc.__dict__["redis"] = aioredis.Redis.from_url(
        "redis://127.0.0.1:1/0", socket_connect_timeout=0.05, socket_timeout=0.05
    )
    assert deliver(handler, body_of(post)) == {"batchItemFailures": []}
    assert stored(wc, post).status == PostStatus.PUBLISHED


def test_redis_down_when_a_token_needs_refreshing_leaves_the_message_for_a_later_delivery(
    wc: Container, biz: str, linkedin: FakePublisher, handler: Any, clock: FrozenClock
) -> None:
    """The token refresh takes a Redis lock; with Redis down the record fails (SQS delivers it
    again) and nothing is posted or marked failed. Once Redis is back, the next delivery (after
    the visibility timeout) publishes it."""
    import redis.asyncio as aioredis

    from herald.clock import isoformat

    post = queued_post(wc, biz)
    account_id = only_target(post).account_id
    account = wc.accounts.get(biz, account_id)
    wc.accounts.upsert(
        type(account)(
            **{
                **account.__dict__,
                "refresh_token_enc": wc.vault.encrypt("refresh-token"),
                "token_expires_at": isoformat(at(wc, 60)),  # inside the refresh margin
            }
        )
    )
    real_redis = wc.redis
    wc.__dict__["redis"] = aioredis.Redis.from_url(
        "redis://127.0.0.1:1/0", socket_connect_timeout=0.05, socket_timeout=0.05
    )
    assert deliver(handler, body_of(post)) == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    assert linkedin.calls == 0
    assert stored(wc, post).status != PostStatus.FAILED
    aio.run(wc.__dict__.pop("redis").aclose())
    wc.__dict__["redis"] = real_redis
    wc.accounts.upsert(type(account)(**{**account.__dict__, "token_expires_at": None}))
    clock.advance(370)
    assert deliver(handler, body_of(post), receive=2) == {"batchItemFailures": []}
    assert stored(wc, post).status == PostStatus.PUBLISHED
    assert len(linkedin.accepted) == 1


def test_redis_down_on_the_last_receive_fails_the_post_with_the_reason_and_posts_nothing(
    wc: Container, biz: str, linkedin: FakePublisher, handler: Any, events: list[dict[str, Any]]
) -> None:
    import redis.asyncio as aioredis

    from herald.clock import isoformat

    post = queued_post(wc, biz)
    account = wc.accounts.get(biz, only_target(post).account_id)
    wc.accounts.upsert(
        type(account)(
            **{
                **account.__dict__,
                "refresh_token_enc": wc.vault.encrypt("refresh-token"),
                "token_expires_at": isoformat(at(wc, 60)),
            }
        )
    )
    real_redis = wc.redis
    wc.__dict__["redis"] = aioredis.Redis.from_url(
        "redis://127.0.0.1:1/0", socket_connect_timeout=0.05, socket_timeout=0.05
    )
    try:
        last = wc.settings.publish_max_receives
        assert deliver(handler, body_of(post), receive=last) == {"batchItemFailures": []}
    finally:
        aio.run(wc.__dict__.pop("redis").aclose())
        wc.__dict__["redis"] = real_redis
    after = stored(wc, post)
    assert after.status == PostStatus.FAILED
    assert only_target(after).status == TargetStatus.FAILED
    assert "credentials unavailable" in (only_target(after).last_error or "")
    assert linkedin.calls == 0
    assert [e["type"] for e in events] == ["post.failed"]


class ConfirmsThenFails:
    """A platform that takes the post, confirms its id, then fails the request (as a permalink
    lookup after the post went out can); asked again with the id, it answers from it."""

    platform = "linkedin"

    def __init__(self) -> None:
        self.posted = 0

    async def publish(self, creds: Any, content: Any, progress: Any) -> Any:
        from herald.platforms.base import Published

        if not progress.part_ids:
            self.posted += 1
            await progress.confirm("linkedin-1")
            raise transient()
        pid = progress.part_ids[0]
        return Published(pid, f"https://linkedin.example/{pid}", (pid,))

    async def find_recent(self, creds: Any, content: Any, since: Any) -> Any:
        return None


def test_a_failure_after_the_platform_confirmed_the_post_keeps_its_id_so_it_is_not_reposted(
    wc: Container, biz: str, platforms: dict[str, Any], handler: Any
) -> None:
    platform = platforms["linkedin"] = ConfirmsThenFails()
    post = queued_post(wc, biz)
    assert deliver(handler, body_of(post)) == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    assert only_target(stored(wc, post)).part_ids == ("linkedin-1",)
    assert deliver(handler, body_of(post), receive=2) == {"batchItemFailures": []}
    after = stored(wc, post)
    assert after.status == PostStatus.PUBLISHED
    assert only_target(after).platform_post_id == "linkedin-1"
    assert platform.posted == 1


class Witness:
    """A platform that notes the clock at each call and what Herald had stored by then."""

    platform = "linkedin"

    def __init__(self, c: Container, post: Post) -> None:
        self.c = c
        self.post = post
        self.called_at: list[Any] = []
        self.target_then: list[Any] = []

    async def publish(self, creds: Any, content: Any, progress: Any) -> Any:
        from herald.platforms.base import Published

        self.called_at.append(self.c.clock.now())
        self.target_then.append(only_target(stored(self.c, self.post)))
        pid = f"linkedin-{len(self.called_at)}"
        return Published(pid, f"https://linkedin.example/{pid}", (pid,))

    async def find_recent(self, creds: Any, content: Any, since: Any) -> Any:
        return None


# --- claim ahead, fire on time ---------------------------------------------------------------


def test_a_message_ahead_of_its_time_is_claimed_at_once_and_published_at_its_second_not_before(
    wc: Container, biz: str, platforms: dict[str, Any], handler: Any, clock: FrozenClock
) -> None:
    post = queued_post(wc, biz)  # due at +5 s; the message arrives now, 5 s ahead
    received_at = clock.now()
    platforms["linkedin"] = platform = Witness(wc, post)

    assert deliver(handler, body_of(post)) == {"batchItemFailures": []}

    [called_at] = platform.called_at
    assert called_at == due_of(post)
    [held] = platform.target_then
    assert held.status == TargetStatus.PUBLISHING
    assert held.claimed_at == isoformat(received_at)  # claimed when it arrived, 5 s before
    assert stored(wc, post).status == PostStatus.PUBLISHED


def test_a_held_message_readies_the_http_backend_while_it_waits_not_at_its_second(
    wc: Container,
    biz: str,
    platforms: dict[str, Any],
    handler: Any,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    post = queued_post(wc, biz)  # due at +5 s; the message arrives now, 5 s ahead
    received_at = clock.now()
    platforms["linkedin"] = platform = Witness(wc, post)
    readied: list[Any] = []

    async def ready() -> None:
        readied.append(clock.now())

    monkeypatch.setattr(aio, "ready_http_backend", ready)
    assert deliver(handler, body_of(post)) == {"batchItemFailures": []}

    assert readied == [received_at]
    assert platform.called_at == [due_of(post)]


@pytest.mark.parametrize("early", [0.4, 1.8, 4.9])
def test_a_message_any_fraction_of_a_second_early_is_never_published_before_its_second(
    wc: Container, biz: str, platforms: dict[str, Any], clock: FrozenClock, early: float
) -> None:
    post = queued_post(wc, biz)  # due at +5 s
    clock.advance(5 - early)
    platforms["linkedin"] = platform = Witness(wc, post)

    assert worker.handle_message(wc.engine_ports, body_of(post), 1) == "published"

    assert platform.called_at == [due_of(post)]


def test_a_record_its_invocation_could_not_hold_until_its_second_goes_back_unclaimed(
    wc: Container, biz: str, linkedin: FakePublisher, handler: Any
) -> None:
    post = queued_post(wc, biz)  # due in 5 s
    changed = _visibility_changes(wc)
    budget_ms = int(wc.settings.worker_record_budget_seconds * 1000)
    # Time to publish it now, not to wait 5 s first and still have the budget after.
    short = LambdaContext(remaining_ms=wc.settings.worker_safety_ms + budget_ms + 4_000)

    assert handler(sqs_event(sqs_record(body_of(post), message_id="held")), short) == {
        "batchItemFailures": [{"itemIdentifier": "held"}]
    }
    assert linkedin.calls == 0
    assert stored(wc, post).status == PostStatus.QUEUED  # nothing claimed
    assert [c["VisibilityTimeout"] for c in changed] == [0]  # a new invocation can hold it


def test_a_record_due_beyond_any_invocations_hold_comes_back_when_one_can_hold_it(
    wc: Container, biz: str, linkedin: FakePublisher, handler: Any, clock: FrozenClock
) -> None:
    post = queued_post(wc, biz)
    clock.advance(-100)  # received 105 s before its second (a redriven or hand-sent message)
    changed = _visibility_changes(wc)

    assert deliver(handler, body_of(post), message_id="early") == {
        "batchItemFailures": [{"itemIdentifier": "early"}]
    }
    assert linkedin.calls == 0
    assert stored(wc, post).status == PostStatus.QUEUED
    hold = wc.settings.dispatch_early_max_seconds
    assert [c["VisibilityTimeout"] for c in changed] == [int(105 - hold)]


def test_the_same_message_twice_in_a_batch_while_held_publishes_once(
    wc: Container, biz: str, linkedin: FakePublisher, handler: Any
) -> None:
    post = queued_post(wc, biz)  # due in 5 s: both copies arrive while it is held
    copies = sqs_event(
        sqs_record(body_of(post), message_id="first"),
        sqs_record(body_of(post), message_id="second"),
    )

    response = handler(copies, LambdaContext())

    # One copy publishes; the other finds the claim live and comes back later (a skip then).
    assert len(response["batchItemFailures"]) == 1
    assert len(linkedin.accepted) == 1
    assert stored(wc, post).status == PostStatus.PUBLISHED
    [failed] = response["batchItemFailures"]
    assert deliver(handler, body_of(post), receive=2, message_id=failed["itemIdentifier"]) == {
        "batchItemFailures": []
    }
    assert len(linkedin.accepted) == 1


def test_a_retryable_failure_comes_back_after_a_short_backoff_not_the_whole_visibility_timeout(
    wc: Container, biz: str, linkedin: FakePublisher, handler: Any
) -> None:
    post = queued_post(wc, biz)
    linkedin.fail_next(transient())
    changed: list[dict[str, Any]] = []
    wc.sqs.meta.events.register(
        "before-parameter-build.sqs.ChangeMessageVisibility",
        lambda params, **_: changed.append(dict(params)),
    )

    # The sample record's receipt handle is not one moto issued, so SQS refuses the change: the
    # record is still reported failed and comes back after the full timeout, nothing is lost.
    assert deliver(handler, body_of(post), receive=2) == {
        "batchItemFailures": [{"itemIdentifier": "m-1"}]
    }
    assert [c["VisibilityTimeout"] for c in changed] == [20]
    assert changed[0]["QueueUrl"] == wc.settings.queue_url


@pytest.mark.parametrize(
    ("receive", "retry_after", "delay"),
    [(1, None, 10), (2, None, 20), (3, 45.2, 46), (9, None, 300), (1, 900.0, 300)],
)
def test_the_retry_delay_backs_off_by_receive_and_honours_retry_after(
    receive: int, retry_after: float | None, delay: int
) -> None:
    from herald.worker import retry_delay

    assert retry_delay(receive, retry_after) == delay


# --- one batch, shared reads and events ---------------------------------------------------------


class _Calls:
    """AWS operations the handler makes, counted with botocore's event hooks."""

    def __init__(self, *clients: Any) -> None:
        self.counts: dict[str, int] = {}
        for client in clients:
            client.meta.events.register("before-call.*.*", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.counts[model.name] = self.counts.get(model.name, 0) + 1


def _queued_batch(c: Container, biz: str, posts: int) -> list[dict[str, Any]]:
    """`posts` due posts to one account, queued by the real tick and received as SQS hands
    them to the function (their messages name their accounts)."""
    account = connect_account(c, biz)
    for i in range(posts):
        pending_post(c, biz, [account], at(c, -1), text=f"Batch post {i}")
    assert tick.dispatch_due(c.tick_ports).sent == posts
    return [received_to_record(m, "arn:aws:sqs:us-east-1:123456789012:q") for m in drain(c)]


def test_a_batch_reads_its_accounts_at_once_and_sends_its_events_in_one_request(
    wc: Container, biz: str, linkedin: FakePublisher, handler: Any, events: list[dict[str, Any]]
) -> None:
    records = _queued_batch(wc, biz, 10)
    calls = _Calls(wc.table.meta.client, wc.sns)

    assert handler(sqs_event(*records), LambdaContext()) == {"batchItemFailures": []}

    assert len(linkedin.accepted) == 10
    assert [e["type"] for e in events] == ["post.published"] * 10
    # Per post one write to start and claim, one to record and close; per batch one read of
    # the accounts and one PublishBatch.
    assert calls.counts == {"BatchGetItem": 1, "UpdateItem": 20, "PublishBatch": 1}


def test_an_event_the_batch_call_did_not_get_out_is_sent_alone(
    wc: Container, biz: str, linkedin: FakePublisher, handler: Any, events: list[dict[str, Any]]
) -> None:
    [record] = _queued_batch(wc, biz, 1)

    def refuse(**_: Any) -> None:
        raise RuntimeError("PublishBatch is throttled")

    wc.sns.meta.events.register("before-call.sns.PublishBatch", refuse)
    assert handler(sqs_event(record), LambdaContext()) == {"batchItemFailures": []}
    assert [e["type"] for e in events] == ["post.published", "post.published"]  # tried twice
    assert len({e["event_id"] for e in events}) == 1


def test_events_not_out_by_the_deadline_are_left_to_the_redelivery_not_tried_again(
    wc: Container,
    biz: str,
    linkedin: FakePublisher,
    handler: Any,
    events: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from types import SimpleNamespace

    from herald import events as events_module

    [record] = _queued_batch(wc, biz, 1)

    def slow_then_refused(**_: Any) -> None:
        # SNS took what was left of the invocation, then failed.
        monkeypatch.setattr(events_module, "time", SimpleNamespace(monotonic=lambda: 1e12))
        raise RuntimeError("PublishBatch timed out")

    wc.sns.meta.events.register("before-call.sns.PublishBatch", slow_then_refused)
    response = handler(sqs_event(record), LambdaContext())

    assert response == {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}
    assert [e["type"] for e in events] == ["post.published"]  # not tried alone after it
    post_id = json.loads(record["body"])["post_id"]
    assert wc.posts.get(biz, post_id).status == PostStatus.PUBLISHED


def test_an_event_sns_refuses_fails_its_record_and_the_redelivery_announces_it_once_more(
    wc: Container, biz: str, linkedin: FakePublisher, handler: Any, events: list[dict[str, Any]]
) -> None:
    [record] = _queued_batch(wc, biz, 1)

    def refuse(**_: Any) -> None:
        raise RuntimeError("SNS is unavailable")

    for operation in ("PublishBatch", "Publish"):
        wc.sns.meta.events.register(f"before-call.sns.{operation}", refuse)
    failed = handler(sqs_event(record), LambdaContext())
    for operation in ("PublishBatch", "Publish"):
        wc.sns.meta.events.unregister(f"before-call.sns.{operation}", refuse)
    assert failed == {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}

    record["attributes"]["ApproximateReceiveCount"] = "2"
    assert handler(sqs_event(record), LambdaContext()) == {"batchItemFailures": []}

    assert len(linkedin.accepted) == 1  # the post went out once
    published = [e for e in events if e["type"] == "post.published"]
    assert len({e["event_id"] for e in published}) == 1  # the refused one and the resent: one id


def test_an_account_reconnected_after_the_batch_read_it_is_read_again_not_failed(
    wc: Container, biz: str, linkedin: FakePublisher
) -> None:
    [record] = _queued_batch(wc, biz, 1)
    [account_id] = json.loads(record["body"])["account_ids"]
    wc.accounts.mark_status(biz, account_id, AccountStatus.NEEDS_REAUTH, "token revoked")
    batch = worker.Batch(wc.engine_ports, [record["body"]])
    wc.accounts.mark_status(biz, account_id, AccountStatus.CONNECTED, None)  # a person reconnected

    outcome = worker.handle_message(
        wc.engine_ports, record["body"], 1, batch=batch, message_id="m-1"
    )

    assert outcome == "published"
    assert len(linkedin.accepted) == 1


# --- one batch, its records at once -------------------------------------------------------------


class Gate:
    """A platform that holds each call until as many as can be in flight are (or every call
    left is), so the most it ever saw at once is the worker's concurrency, not an accident of
    timing. Records the loop each call ran on."""

    platform = "linkedin"

    def __init__(self, total: int, limit: int) -> None:
        self.left = total
        self.limit = limit
        self.in_flight = 0
        self.most = 0
        self.accepted = 0
        self.loops: set[int] = set()
        self._changed = asyncio.Condition()

    async def publish(self, creds: Any, content: Any, progress: Any) -> Any:
        from herald.platforms.base import Published

        self.loops.add(id(asyncio.get_running_loop()))
        async with self._changed:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            self._changed.notify_all()
            await asyncio.wait_for(
                self._changed.wait_for(lambda: self.in_flight >= min(self.limit, self.left)),
                timeout=10,
            )
            self.in_flight -= 1
            self.left -= 1
            self.accepted += 1
            self._changed.notify_all()
        pid = f"linkedin-{self.accepted}"
        return Published(pid, f"https://linkedin.example/{pid}", (pid,))

    async def find_recent(self, creds: Any, content: Any, since: Any) -> Any:
        return None


@pytest.mark.parametrize(("concurrency", "most"), [(10, 10), (3, 3)])
def test_a_batchs_records_publish_at_once_at_most_the_concurrency_setting_together(
    wc: Container,
    biz: str,
    platforms: dict[str, Any],
    handler: Any,
    monkeypatch: pytest.MonkeyPatch,
    concurrency: int,
    most: int,
) -> None:
    monkeypatch.setattr(wc.settings, "worker_concurrency", concurrency)
    records = _queued_batch(wc, biz, 10)
    gate = platforms["linkedin"] = Gate(total=10, limit=concurrency)

    assert handler(sqs_event(*records), LambdaContext()) == {"batchItemFailures": []}

    assert gate.accepted == 10
    assert gate.most == most


def test_every_invocation_runs_its_records_on_the_processs_one_event_loop(
    wc: Container, biz: str, platforms: dict[str, Any], handler: Any
) -> None:
    """The container's Redis and httpx clients belong to that loop: a loop per invocation (or
    per record) would strand them."""
    records = _queued_batch(wc, biz, 4)
    loops: set[int] = set()
    for invocation in (records[:2], records[2:]):
        gate = platforms["linkedin"] = Gate(total=2, limit=2)
        assert handler(sqs_event(*invocation), LambdaContext()) == {"batchItemFailures": []}
        loops |= gate.loops

    assert loops == {id(aio.loop())}


def _visibility_changes(c: Container) -> list[dict[str, Any]]:
    changed: list[dict[str, Any]] = []
    c.sqs.meta.events.register(
        "before-parameter-build.sqs.ChangeMessageVisibility",
        lambda params, **_: changed.append(dict(params)),
    )
    return changed


def _too_short_to_start(c: Container) -> LambdaContext:
    """An invocation with a millisecond less than a record needs to be started."""
    budget = c.settings.worker_record_budget_seconds
    return LambdaContext(remaining_ms=c.settings.worker_safety_ms + int(budget * 1000) - 1)


def test_a_record_with_too_little_invocation_time_left_goes_back_at_once_unclaimed(
    wc: Container, biz: str, linkedin: FakePublisher, handler: Any
) -> None:
    [record] = _queued_batch(wc, biz, 1)
    changed = _visibility_changes(wc)
    short = _too_short_to_start(wc)

    assert handler(sqs_event(record), short) == {
        "batchItemFailures": [{"itemIdentifier": record["messageId"]}]
    }

    assert linkedin.calls == 0
    post_id = json.loads(record["body"])["post_id"]
    assert wc.posts.get(biz, post_id).status == PostStatus.QUEUED  # nothing claimed
    assert [c["VisibilityTimeout"] for c in changed] == [0]


class NotesItsDeadline:
    """A platform that answers at once and keeps when the engine said it must stop uploading."""

    platform = "linkedin"

    def __init__(self) -> None:
        self.deadlines: list[float | None] = []

    async def publish(self, creds: Any, content: Any, progress: Any) -> Any:
        from herald.platforms.base import Published

        self.deadlines.append(progress.deadline)
        return Published("linkedin-1", "https://linkedin.example/linkedin-1", ("linkedin-1",))


def test_a_record_starts_no_upload_part_that_could_outlast_its_invocation(
    wc: Container, biz: str, platforms: dict[str, Any], handler: Any, clock: FrozenClock
) -> None:
    platforms["linkedin"] = notes = NotesItsDeadline()
    post = queued_post(wc, biz)
    clock.advance(5)  # its second
    before = time.monotonic()

    response = handler(sqs_event(sqs_record(body_of(post))), LambdaContext(remaining_ms=30_000))

    after = time.monotonic()
    assert response == {"batchItemFailures": []}
    # The invocation stops 27 s from its start (3 s kept for the batch's end); a part may take
    # the platform's timeout (10 s): none starts after 17 s, where the engine's own limit is 25.
    (deadline,) = notes.deadlines
    cutoff = 30 - wc.settings.worker_safety_ms / 1000 - wc.settings.platform_timeout_seconds
    assert deadline is not None
    assert before + cutoff <= deadline <= after + cutoff


class AcceptsThenHangs:
    """A platform that takes the post and never answers, until asked again."""

    platform = "linkedin"

    def __init__(self) -> None:
        self.accepted: list[Any] = []

    async def publish(self, creds: Any, content: Any, progress: Any) -> Any:
        self.accepted.append(content)
        await asyncio.sleep(3600)
        raise AssertionError("the record should have been stopped at its deadline")

    async def find_recent(self, creds: Any, content: Any, since: Any) -> Any:
        from herald.platforms.base import Published

        if content in self.accepted:
            return Published("linkedin-1", "https://linkedin.example/linkedin-1", ("linkedin-1",))
        return None


def test_a_record_still_running_at_the_deadline_fails_alone_and_is_reconciled_not_reposted(
    wc: Container,
    biz: str,
    platforms: dict[str, Any],
    handler: Any,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(wc.settings, "worker_safety_ms", 1000)
    monkeypatch.setattr(wc.settings, "worker_record_budget_seconds", 0.1)
    hung_record = _queued_batch(wc, biz, 1)[0]
    platforms["linkedin"] = hangs = AcceptsThenHangs()
    x_post = queued_post(wc, biz, "x")
    clock.advance(5)  # its second: nothing to hold
    x_record = sqs_record(body_of(x_post), message_id="x-1")

    # Time enough for the other record on a loaded machine; the hung one never finishes.
    response = handler(sqs_event(hung_record, x_record), LambdaContext(remaining_ms=4000))

    # The invocation ended in time; only the record that could not finish is reported.
    assert response == {"batchItemFailures": [{"itemIdentifier": hung_record["messageId"]}]}
    assert stored(wc, x_post).status == PostStatus.PUBLISHED
    hung_id = json.loads(hung_record["body"])["post_id"]
    held = only_target(wc.posts.get(biz, hung_id))
    assert held.status == TargetStatus.PUBLISHING  # claimed, as after a crash

    clock.advance(370)  # SQS brings it back after the visibility timeout: the claim is stale
    hung_record["attributes"]["ApproximateReceiveCount"] = "2"
    assert handler(sqs_event(hung_record), LambdaContext()) == {"batchItemFailures": []}
    after = only_target(wc.posts.get(biz, hung_id))
    assert (after.status, after.platform_post_id) == (TargetStatus.PUBLISHED, "linkedin-1")
    assert len(hangs.accepted) == 1  # found on the platform, not posted again


# --- the last receive: a post left unsettled is handed to a new message, not dead-lettered ---


def _sent_messages(c: Container) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    c.sqs.meta.events.register(
        "before-parameter-build.sqs.SendMessage", lambda params, **_: sent.append(dict(params))
    )
    return sent


def _last_receive(c: Container, record: dict[str, Any]) -> dict[str, Any]:
    record["attributes"]["ApproximateReceiveCount"] = str(c.settings.publish_max_receives)
    return record


def test_a_last_receive_its_invocation_could_not_start_is_handed_to_a_new_message(
    wc: Container, biz: str, linkedin: FakePublisher, handler: Any
) -> None:
    [record] = _queued_batch(wc, biz, 1)
    sent = _sent_messages(wc)
    short = _too_short_to_start(wc)

    response = handler(sqs_event(_last_receive(wc, record)), short)

    assert response == {"batchItemFailures": []}  # this delivery ends; the new message goes on
    (again,) = sent
    assert json.loads(again["MessageBody"]) == json.loads(record["body"])
    assert again["DelaySeconds"] == 0  # due now: any invocation with time can hold it
    post_id = json.loads(record["body"])["post_id"]
    assert wc.posts.get(biz, post_id).status == PostStatus.QUEUED  # nothing claimed
    assert linkedin.calls == 0


def test_a_last_receive_whose_target_another_run_holds_comes_back_when_that_claim_is_stale(
    wc: Container, biz: str, linkedin: FakePublisher, handler: Any, clock: FrozenClock
) -> None:
    post = queued_post(wc, biz)
    clock.advance(5)  # its second
    now = isoformat(clock.now())
    account_ids = list(post.targets)
    assert wc.posts.start_claiming(biz, post.post_id, account_ids, now=now, stale_before=now)
    sent = _sent_messages(wc)

    response = deliver(handler, body_of(post), receive=wc.settings.publish_max_receives)

    assert response == {"batchItemFailures": []}
    (again,) = sent
    stale = wc.settings.publish_claim_stale_seconds
    assert again["DelaySeconds"] > stale  # by then the claim is finished or taken over
    assert linkedin.calls == 0
    assert only_target(stored(wc, post)).status == TargetStatus.PUBLISHING  # the other run's


def test_a_last_receive_cut_off_at_its_deadline_comes_back_to_reconcile_its_claim(
    wc: Container,
    biz: str,
    platforms: dict[str, Any],
    handler: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(wc.settings, "worker_safety_ms", 0)
    monkeypatch.setattr(wc.settings, "worker_record_budget_seconds", 0.1)
    [record] = _queued_batch(wc, biz, 1)
    platforms["linkedin"] = hangs = AcceptsThenHangs()
    sent = _sent_messages(wc)

    response = handler(sqs_event(_last_receive(wc, record)), LambdaContext(remaining_ms=500))

    assert response == {"batchItemFailures": []}
    (again,) = sent
    assert again["DelaySeconds"] > wc.settings.publish_claim_stale_seconds
    assert len(hangs.accepted) == 1


def test_a_last_receive_sqs_will_not_hand_over_fails_as_it_would_have(
    wc: Container,
    biz: str,
    linkedin: FakePublisher,
    handler: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from herald.media import processing

    def refused(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("SQS out of reach")

    monkeypatch.setattr(processing, "send_again", refused)
    [record] = _queued_batch(wc, biz, 1)
    short = _too_short_to_start(wc)

    response = handler(sqs_event(_last_receive(wc, record)), short)

    assert response == {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}
    assert linkedin.calls == 0


def test_dynamodb_out_of_reach_at_the_claim_brings_the_record_back_in_seconds_not_minutes(
    wc: Container, biz: str, linkedin: FakePublisher, handler: Any
) -> None:
    from botocore.exceptions import ConnectionClosedError

    [record] = _queued_batch(wc, biz, 1)
    changed = _visibility_changes(wc)
    refused: list[str] = []

    def closed_once(**_: Any) -> None:
        if not refused:
            refused.append("UpdateItem")
            raise ConnectionClosedError(endpoint_url="http://127.0.0.1:8000/")

    wc.table.meta.client.meta.events.register("before-call.dynamodb.UpdateItem", closed_once)

    response = handler(sqs_event(record), LambdaContext())

    assert response == {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}
    assert [c["VisibilityTimeout"] for c in changed] == [worker.RETRY_BASE_SECONDS]
    post_id = json.loads(record["body"])["post_id"]
    assert wc.posts.get(biz, post_id).status == PostStatus.QUEUED  # nothing claimed
    record["attributes"]["ApproximateReceiveCount"] = "2"
    assert handler(sqs_event(record), LambdaContext()) == {"batchItemFailures": []}
    assert len(linkedin.accepted) == 1
