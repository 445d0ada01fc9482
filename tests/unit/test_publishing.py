"""The publishing engine, with stateful fakes: what goes live, is recorded and is announced."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from herald.accounts import AccountStatus, PlatformName
from herald.clock import FrozenClock, isoformat, parse_iso
from herald.container import Container
from herald.ids import new_id, stable_id
from herald.platforms.base import Content, ErrorKind, PlatformError, Published
from herald.posts import Post, PostStatus, Target, TargetStatus
from herald.publishing import publish_post
from herald.publishing_policy import PublishOutcome
from herald.settings import Settings
from herald.store.posts import OwedEvent
from tests.fakes.publishing import (
    FakeAccounts,
    FakePublisher,
    FakeSNS,
    InMemoryPostRepository,
    account,
    fake_credentials,
)

BIZ = "biz_1"
ACCOUNTS: dict[str, PlatformName] = {
    "acc_li": "linkedin",
    "acc_x": "x",
    "acc_fb": "facebook",
    "acc_ig": "instagram",
}


class Engine:
    def __init__(self, **settings: Any) -> None:
        self.settings = Settings(
            HERALD_ENV="test",
            TOPIC_ARN="arn:aws:sns:us-east-1:123456789012:events",
            PUBLISH_RETRY_DELAY=0.01,
            **settings,
        )
        self.posts = InMemoryPostRepository()
        self.accounts = FakeAccounts([account(BIZ, a, p) for a, p in ACCOUNTS.items()])
        self.publishers = {p: FakePublisher(p) for p in ACCOUNTS.values()}
        self.sns = FakeSNS()
        self.clock = FrozenClock()
        self.container = Container(
            self.settings,
            posts=self.posts,
            accounts=self.accounts,
            publishers=self.publishers,
            sns=self.sns,
            clock=self.clock,
        )

    def post(
        self,
        *account_ids: str,
        content: Content | None = None,
        status: PostStatus = PostStatus.PUBLISHING,
    ) -> Post:
        now = isoformat(self.clock.now())
        post = Post(
            post_id=new_id("post"),
            business_id=BIZ,
            status=status,
            content=content or Content(text="Fresh bread at 7"),
            targets={a: Target(account_id=a, platform=ACCOUNTS[a]) for a in account_ids},
            created_at=now,
            updated_at=now,
        )
        self.posts.create(post)
        return post

    async def publish(self, post: Post, **kw: Any) -> PublishOutcome:
        kw.setdefault("retry_in_process", True)
        return await publish_post(
            self.container.engine_ports,
            BIZ,
            post.post_id,
            credentials=fake_credentials(self.accounts),
            **kw,
        )

    def stored(self, post: Post) -> Post:
        return self.posts.get(BIZ, post.post_id)

    def target(self, post: Post, account_id: str) -> Target:
        return self.stored(post).targets[account_id]


@pytest.fixture
def engine() -> Engine:
    return Engine()


def transient() -> PlatformError:
    return PlatformError("x", ErrorKind.TRANSIENT, "503 from the platform", status=503)


def ambiguous() -> PlatformError:
    return PlatformError("x", ErrorKind.AMBIGUOUS, "read timeout after sending")


async def test_every_target_is_published_and_recorded_with_its_platform_id(engine: Engine) -> None:
    post = engine.post(*ACCOUNTS)
    outcome = await engine.publish(post)
    stored = engine.stored(post)
    assert outcome.status == stored.status == PostStatus.PUBLISHED
    for account_id, platform in ACCOUNTS.items():
        target = stored.targets[account_id]
        assert target.status == TargetStatus.PUBLISHED
        assert target.platform_post_id == engine.publishers[platform].live[0].post_id
        assert target.url
        assert target.published_at
        assert target.attempts == 1


async def test_targets_are_published_concurrently(engine: Engine) -> None:
    for publisher in engine.publishers.values():
        publisher.delay = 0.2
    post = engine.post(*ACCOUNTS)
    started = time.perf_counter()
    await engine.publish(post)
    assert time.perf_counter() - started < 0.5  # one platform's time, not four


async def test_a_target_whose_record_fails_is_raised_after_its_siblings_have_finished(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine.publishers["linkedin"].delay = 0.2  # X's target fails while LinkedIn's is in flight
    recorded = engine.posts.record_published

    def out_of_reach_for_x(
        business_id: str, post_id: str, account_id: str, *a: Any, **kw: Any
    ) -> None:
        if account_id == "acc_x":
            raise ConnectionError("DynamoDB out of reach")
        recorded(business_id, post_id, account_id, *a, **kw)

    monkeypatch.setattr(engine.posts, "record_published", out_of_reach_for_x)
    post = engine.post("acc_li", "acc_x")

    with pytest.raises(ConnectionError):
        await engine.publish(post, retry_in_process=False)

    # Nothing of the run is left running to publish later, after the message has come back.
    assert engine.target(post, "acc_li").status == TargetStatus.PUBLISHED
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []


async def test_no_upload_part_starts_unless_a_platform_call_fits_before_the_callers_cutoff(
    engine: Engine,
) -> None:
    post = engine.post("acc_li")
    stop_by = time.monotonic() + 12  # sooner than the engine's own 25 s

    await engine.publish(post, retry_in_process=False, stop_by=stop_by)

    (deadline,) = engine.publishers["linkedin"].deadlines
    assert deadline == stop_by - engine.settings.platform_timeout_seconds


async def test_a_held_run_counts_its_own_deadline_from_the_posts_second(engine: Engine) -> None:
    post = engine.post("acc_li")
    before = time.monotonic()

    await engine.publish(
        post, retry_in_process=False, fire_at=engine.clock.now() + timedelta(seconds=20)
    )

    (deadline,) = engine.publishers["linkedin"].deadlines
    assert deadline is not None
    assert deadline - before >= 20 + engine.settings.publish_deadline_seconds


async def test_a_transient_error_is_retried_then_published(engine: Engine) -> None:
    engine.publishers["x"].fail(transient())
    post = engine.post("acc_x")
    await engine.publish(post)
    target = engine.target(post, "acc_x")
    assert target.status == TargetStatus.PUBLISHED
    assert target.attempts == 2
    assert engine.publishers["x"].texts() == ["Fresh bread at 7"]


async def test_retry_after_from_the_platform_is_waited_before_the_next_attempt(
    engine: Engine,
) -> None:
    engine.publishers["x"].fail(
        PlatformError("x", ErrorKind.RATE_LIMITED, "429", status=429, retry_after=0.3)
    )
    post = engine.post("acc_x")
    await engine.publish(post)
    first, second = engine.publishers["x"].call_times
    assert second - first >= 0.3
    assert engine.target(post, "acc_x").status == TargetStatus.PUBLISHED


async def test_retries_stop_after_the_configured_attempts(engine: Engine) -> None:
    engine.publishers["x"].fail(transient(), times=5)
    post = engine.post("acc_x")
    outcome = await engine.publish(post)
    target = engine.target(post, "acc_x")
    assert engine.publishers["x"].calls == 3
    assert target.status == TargetStatus.FAILED
    assert target.attempts == 3
    assert target.error_kind == "transient"
    assert outcome.status == PostStatus.FAILED


async def test_an_error_a_retry_cannot_fix_is_not_retried(engine: Engine) -> None:
    engine.publishers["x"].fail(PlatformError("x", ErrorKind.INVALID_CONTENT, "too long"))
    post = engine.post("acc_x")
    await engine.publish(post)
    assert engine.publishers["x"].calls == 1
    assert engine.target(post, "acc_x").error_kind == "invalid_content"


async def test_a_retired_platform_version_fails_once_and_tells_the_operators(
    engine: Engine,
) -> None:
    engine.publishers["linkedin"].fail(
        PlatformError(
            "linkedin", ErrorKind.PLATFORM_CONTRACT, "LinkedIn no longer accepts 202511",
            status=426, platform_code="NONEXISTENT_VERSION",
        )
    )  # fmt: skip
    post = engine.post("acc_li")

    outcome = await engine.publish(post)

    target = engine.target(post, "acc_li")
    assert engine.publishers["linkedin"].calls == 1
    assert target.error_kind == "platform_contract"
    assert "no longer accepts 202511" in (target.last_error or "")
    [failed] = engine.sns.of_type("post.failed")
    assert failed["data"]["targets"][0]["error_kind"] == "platform_contract"
    [action] = engine.sns.of_type("platform.action_required")
    assert action["data"]["platform"] == "linkedin"
    assert "NONEXISTENT_VERSION" in action["data"]["reason"]
    assert outcome.status == PostStatus.FAILED


@pytest.mark.parametrize(
    ("kind", "operators_told"),
    [
        (ErrorKind.CREDITS_EXHAUSTED, True),
        (ErrorKind.REPLY_FORBIDDEN, False),
        (ErrorKind.SPAM_SUSPECTED, False),
    ],
)
async def test_refusals_no_retry_can_fix_fail_once_with_their_reason(
    engine: Engine, kind: ErrorKind, operators_told: bool
) -> None:
    engine.publishers["x"].fail(PlatformError("x", kind, "refused"))
    post = engine.post("acc_x")

    await engine.publish(post)

    assert engine.publishers["x"].calls == 1
    assert engine.target(post, "acc_x").error_kind == kind.value
    assert bool(engine.sns.of_type("platform.action_required")) is operators_told


async def test_a_temporary_policy_block_is_retried_later(engine: Engine) -> None:
    engine.publishers["facebook"].fail(
        PlatformError("facebook", ErrorKind.POLICY_BLOCKED, "368", retry_after=0.01)
    )
    post = engine.post("acc_fb")

    await engine.publish(post)

    assert engine.publishers["facebook"].calls == 2
    assert engine.target(post, "acc_fb").status == TargetStatus.PUBLISHED


async def test_a_retry_after_beyond_the_deadline_is_not_waited_for(engine: Engine) -> None:
    engine.publishers["x"].fail(
        PlatformError("x", ErrorKind.RATE_LIMITED, "429", status=429, retry_after=900)
    )
    post = engine.post("acc_x")
    started = time.perf_counter()
    outcome = await engine.publish(post)
    assert time.perf_counter() - started < 1
    assert engine.publishers["x"].calls == 1
    assert outcome.results[0].retry_after == 900
    assert engine.target(post, "acc_x").error_kind == "rate_limited"


async def test_an_ambiguous_outcome_that_landed_is_reconciled_as_published(
    engine: Engine,
) -> None:
    engine.publishers["x"].fail(ambiguous(), lands=True)
    post = engine.post("acc_x")
    await engine.publish(post)
    target = engine.target(post, "acc_x")
    assert engine.publishers["x"].calls == 1  # never retried blind
    assert len(engine.publishers["x"].live) == 1
    assert target.status == TargetStatus.PUBLISHED
    assert target.platform_post_id == engine.publishers["x"].live[0].post_id


async def test_an_ambiguous_outcome_not_found_is_unconfirmed_with_an_event(
    engine: Engine,
) -> None:
    engine.publishers["x"].fail(ambiguous())
    post = engine.post("acc_x")
    outcome = await engine.publish(post)
    target = engine.target(post, "acc_x")
    assert engine.publishers["x"].calls == 1
    assert engine.publishers["x"].lookups == 1
    assert target.status == TargetStatus.UNCONFIRMED
    assert "no record proves it" in (target.last_error or "")
    [event] = engine.sns.of_type("post.target_unconfirmed")
    assert event["data"]["account_id"] == "acc_x"
    assert outcome.status == PostStatus.FAILED


async def test_an_unexpected_publisher_error_is_reconciled_not_retried(engine: Engine) -> None:
    engine.publishers["linkedin"].fail(KeyError("x-restli-id"), lands=True)
    post = engine.post("acc_li")
    await engine.publish(post)
    assert engine.publishers["linkedin"].calls == 1
    assert engine.target(post, "acc_li").status == TargetStatus.PUBLISHED


async def test_a_revoked_token_marks_the_account_needs_reauth_and_fails_the_target(
    engine: Engine,
) -> None:
    engine.publishers["facebook"].fail(PlatformError("facebook", ErrorKind.AUTH_REVOKED, "190"))
    post = engine.post("acc_fb", "acc_li")
    outcome = await engine.publish(post)
    assert engine.accounts.get(BIZ, "acc_fb").status == AccountStatus.NEEDS_REAUTH
    assert engine.target(post, "acc_fb").status == TargetStatus.FAILED
    assert engine.target(post, "acc_fb").error_kind == "auth_revoked"
    assert engine.publishers["facebook"].calls == 1
    assert outcome.status == PostStatus.PARTIALLY_PUBLISHED


async def test_a_token_the_platform_says_is_revoked_announces_account_needs_reauth(
    engine: Engine,
) -> None:
    refused = PlatformError("facebook", ErrorKind.AUTH_REVOKED, "Error validating access token")
    engine.publishers["facebook"].fail(refused)
    post = engine.post("acc_fb")

    await engine.publish(post)

    [event] = engine.sns.of_type("account.needs_reauth")
    assert event["business_id"] == BIZ
    assert event["event_id"].startswith("evt_")
    assert event["data"] == {
        "business_id": BIZ,
        "account_id": "acc_fb",
        "platform": "facebook",
        "display_name": "acc_fb",
        "token_expires_at": None,
        "reason": refused.reason(),
    }


async def test_an_account_already_flagged_is_not_announced_again_by_each_post(
    engine: Engine,
) -> None:
    engine.accounts.mark_status(BIZ, "acc_x", AccountStatus.NEEDS_REAUTH, "revoked")

    await engine.publish(engine.post("acc_x"))

    assert engine.sns.of_type("account.needs_reauth") == []


async def test_an_account_already_needing_reauth_fails_without_a_platform_call(
    engine: Engine,
) -> None:
    engine.accounts.mark_status(BIZ, "acc_x", AccountStatus.NEEDS_REAUTH, "revoked")
    post = engine.post("acc_x")
    await engine.publish(post)
    assert engine.publishers["x"].calls == 0
    assert engine.target(post, "acc_x").error_kind == "auth_revoked"


async def test_a_thread_retry_resumes_at_the_failed_tweet_without_reposting(
    engine: Engine,
) -> None:
    x = engine.publishers["x"]
    post = engine.post("acc_x", content=Content(thread=("1/3 story", "2/3 more", "3/3 end")))
    x.fail_at_call[2] = PlatformError("x", ErrorKind.PLATFORM_ERROR, "tweet 2 refused")
    await engine.publish(post)
    failed = engine.target(post, "acc_x")
    assert failed.status == TargetStatus.FAILED
    assert failed.part_ids == (x.live[0].post_id,)  # recorded the moment X confirmed it

    outcome = await engine.publish(post, retry_failed=True)
    assert x.texts() == ["1/3 story", "2/3 more", "3/3 end"]
    assert [p.reply_to for p in x.live] == [None, x.live[0].post_id, x.live[1].post_id]
    assert engine.target(post, "acc_x").part_ids == tuple(p.post_id for p in x.live)
    assert outcome.status == PostStatus.PUBLISHED


async def test_two_concurrent_runs_publish_each_target_once(engine: Engine) -> None:
    for publisher in engine.publishers.values():
        publisher.delay = 0.05
    post = engine.post(*ACCOUNTS)
    first, second = await asyncio.gather(engine.publish(post), engine.publish(post))
    for publisher in engine.publishers.values():
        assert len(publisher.live) == 1
    assert len(first.results) + len(second.results) == 4
    assert engine.stored(post).status == PostStatus.PUBLISHED
    assert len(engine.sns.of_type("post.published")) == 1


async def test_a_published_post_is_left_alone_when_delivered_again(engine: Engine) -> None:
    post = engine.post("acc_li")
    await engine.publish(post)
    again = await engine.publish(post, retry_in_process=False)
    assert again.skipped == "post is published"
    assert engine.publishers["linkedin"].calls == 1
    assert len(engine.sns.messages) == 1


async def test_a_cancelled_post_is_skipped(engine: Engine) -> None:
    post = engine.post("acc_li", status=PostStatus.CANCELLED)
    outcome = await engine.publish(post, retry_in_process=False)
    assert outcome.skipped
    assert engine.publishers["linkedin"].calls == 0


async def test_a_queued_post_from_the_worker_moves_to_publishing_then_published(
    engine: Engine,
) -> None:
    post = engine.post("acc_li", status=PostStatus.QUEUED)
    outcome = await engine.publish(post, retry_in_process=False)
    assert outcome.status == PostStatus.PUBLISHED


async def test_the_worker_leaves_a_retryable_failure_for_redelivery(engine: Engine) -> None:
    engine.publishers["x"].fail(PlatformError("x", ErrorKind.RATE_LIMITED, "429", retry_after=30))
    post = engine.post("acc_x", "acc_li", status=PostStatus.QUEUED)
    first = await engine.publish(post, retry_in_process=False, last_attempt=False)
    assert first.retry_later
    assert first.retry_after == 30
    assert engine.publishers["x"].calls == 1  # no in-process retry in the worker
    assert engine.stored(post).status == PostStatus.PUBLISHING
    assert engine.sns.messages == []  # nothing final to announce yet

    second = await engine.publish(post, retry_in_process=False, last_attempt=False)
    assert not second.retry_later
    assert [r.account_id for r in second.results] == ["acc_x"]  # LinkedIn is not reposted
    assert engine.publishers["linkedin"].calls == 1
    assert second.status == PostStatus.PUBLISHED
    assert len(engine.sns.of_type("post.published")) == 1


async def test_the_workers_last_attempt_finishes_the_post_as_failed_with_an_event(
    engine: Engine,
) -> None:
    engine.publishers["x"].fail(transient())
    post = engine.post("acc_x", status=PostStatus.QUEUED)
    outcome = await engine.publish(post, retry_in_process=False, last_attempt=True)
    assert not outcome.retry_later
    assert outcome.status == PostStatus.FAILED
    [event] = engine.sns.of_type("post.failed")
    assert event["data"]["post_id"] == post.post_id
    assert event["business_id"] == BIZ
    assert event["data"]["targets"][0]["error_kind"] == "transient"
    assert "503 from the platform" in event["data"]["reasons"][0]


async def test_a_partial_failure_is_announced_with_each_targets_reason(engine: Engine) -> None:
    engine.publishers["instagram"].fail(
        PlatformError("instagram", ErrorKind.DUPLICATE, "duplicate", platform_code="506")
    )
    post = engine.post("acc_li", "acc_ig")
    outcome = await engine.publish(post)
    assert outcome.status == PostStatus.PARTIALLY_PUBLISHED
    [event] = engine.sns.of_type("post.partially_published")
    statuses = {t["account_id"]: t["status"] for t in event["data"]["targets"]}
    assert statuses == {"acc_li": "published", "acc_ig": "failed"}
    assert "(506)" in event["data"]["reasons"][0]


async def test_a_final_event_lost_in_a_crash_is_sent_on_redelivery_with_the_same_id(
    engine: Engine,
) -> None:
    post = engine.post("acc_li")
    await engine.publish(post)
    [sent] = engine.sns.messages
    # The run that finished the post died before it could forget the event: a redelivery
    # announces it again, with the same id for subscribers to drop.
    closed = engine.stored(post)
    engine.posts._events[(BIZ, post.post_id)] = OwedEvent("post.published", closed.version)
    await engine.publish(post, retry_in_process=False)
    assert [m["event_id"] for m in engine.sns.messages] == [sent["event_id"]] * 2


async def test_a_run_that_finds_the_post_closed_by_another_announces_its_event_too(
    engine: Engine,
) -> None:
    # The same message at two workers at once: the other run holds the target, and closes the
    # post while this one looks. Its event may still wait in its batch; this run's success
    # deletes the message that would bring it back, so this run announces it (same id).
    post = engine.post("acc_x")
    now = isoformat(engine.clock.now())
    other = engine.posts.claim_target(BIZ, post.post_id, "acc_x", now=now, stale_before="")
    assert other is not None
    real_finish = engine.posts.finish

    def finish_after_the_other_run(business_id: str, post_id: str, now: str) -> Post | None:
        engine.posts.record_published(business_id, post_id, "acc_x", Published("9", "u"), now)
        real_finish(business_id, post_id, now)  # the other run closes it and owes the event
        return real_finish(business_id, post_id, now)

    engine.posts.finish = finish_after_the_other_run  # type: ignore[method-assign]
    outcome = await engine.publish(post, retry_in_process=False)

    assert outcome.status == PostStatus.PUBLISHED
    closed = engine.stored(post)
    [event] = engine.sns.of_type("post.published")
    expected_id = stable_id("evt", "post.published", f"{post.post_id}:{closed.version}")
    assert event["event_id"] == expected_id


async def _claimed_long_ago(engine: Engine, post: Post, account_id: str) -> None:
    long_ago = isoformat(engine.clock.now() - timedelta(minutes=10))
    stored = engine.stored(post)
    target = replace(
        stored.targets[account_id], status=TargetStatus.PUBLISHING, claimed_at=long_ago, attempts=1
    )
    engine.posts._posts[(BIZ, post.post_id)] = stored.with_target(target)


async def test_a_stale_claim_whose_post_is_live_is_recorded_without_posting_again(
    engine: Engine,
) -> None:
    post = engine.post("acc_x")
    await _claimed_long_ago(engine, post, "acc_x")
    # The dead run got the tweet out before dying.
    await engine.publishers["x"]._post_one(
        fake_account_creds(engine, "acc_x"), "Fresh bread at 7", None
    )
    await engine.publish(post, retry_in_process=False)
    assert len(engine.publishers["x"].live) == 1
    assert engine.target(post, "acc_x").status == TargetStatus.PUBLISHED


async def test_a_taken_over_claim_is_looked_for_from_the_dead_runs_claim_not_from_ours(
    engine: Engine,
) -> None:
    post = engine.post("acc_x")
    await _claimed_long_ago(engine, post, "acc_x")
    dead_claim = parse_iso(engine.target(post, "acc_x").claimed_at or "")

    await engine.publish(post, retry_in_process=False)

    [since] = engine.publishers["x"].looked_since
    assert since <= dead_claim  # the dead run may have posted any time after its own claim


async def test_a_stale_claim_with_no_trace_is_unconfirmed_not_reposted(engine: Engine) -> None:
    post = engine.post("acc_x")
    await _claimed_long_ago(engine, post, "acc_x")
    await engine.publish(post, retry_in_process=False)
    assert engine.publishers["x"].calls == 0
    assert engine.target(post, "acc_x").status == TargetStatus.UNCONFIRMED


async def test_a_stale_claim_on_an_account_since_disconnected_is_unconfirmed_not_failed(
    engine: Engine,
) -> None:
    post = engine.post("acc_x")
    await _claimed_long_ago(engine, post, "acc_x")
    del engine.accounts.accounts[(BIZ, "acc_x")]  # the dead run may have posted before this

    await engine.publish(post, retry_in_process=False)

    target = engine.target(post, "acc_x")
    assert target.status == TargetStatus.UNCONFIRMED
    assert "disconnected" in (target.last_error or "")
    assert engine.sns.of_type("post.target_unconfirmed")


async def test_a_stale_claim_on_a_revoked_account_is_unconfirmed_and_the_account_needs_reauth(
    engine: Engine,
) -> None:
    post = engine.post("acc_x")
    await _claimed_long_ago(engine, post, "acc_x")
    engine.accounts.mark_status(BIZ, "acc_x", AccountStatus.NEEDS_REAUTH, "revoked")

    await engine.publish(post, retry_in_process=False)

    assert engine.target(post, "acc_x").status == TargetStatus.UNCONFIRMED
    assert engine.publishers["x"].calls == 0


async def test_a_stale_claim_whose_credentials_fail_for_now_is_held_for_a_later_run(
    engine: Engine,
) -> None:
    post = engine.post("acc_x")
    await _claimed_long_ago(engine, post, "acc_x")

    async def unavailable(*_: Any) -> Any:
        raise PlatformError("x", ErrorKind.TRANSIENT, "token endpoint returned 503", status=503)

    outcome = await publish_post(
        engine.container.engine_ports,
        BIZ,
        post.post_id,
        retry_in_process=False,
        last_attempt=False,
        credentials=unavailable,
    )

    assert outcome.retry_later
    # Still held, so the next run takes it over again and looks before posting; it is asked
    # to come once the claim is stale, not before, when it would only find it live.
    assert engine.target(post, "acc_x").status == TargetStatus.PUBLISHING
    assert outcome.retry_after is not None
    assert outcome.retry_after > engine.settings.publish_claim_stale_seconds
    assert engine.publishers["x"].calls == 0


async def test_a_fresh_claim_held_by_another_run_is_left_to_it(engine: Engine) -> None:
    post = engine.post("acc_x")
    engine.posts.claim_target(
        BIZ, post.post_id, "acc_x", now=isoformat(engine.clock.now()), stale_before=""
    )
    outcome = await engine.publish(post, retry_in_process=False)
    assert outcome.results == ()
    assert engine.publishers["x"].calls == 0
    assert engine.stored(post).status == PostStatus.PUBLISHING  # the holder will finish it


async def test_retry_of_a_failed_post_retries_only_the_failed_targets(engine: Engine) -> None:
    engine.publishers["x"].fail(PlatformError("x", ErrorKind.DUPLICATE, "duplicate"))
    post = engine.post("acc_x", "acc_li")
    assert (await engine.publish(post)).status == PostStatus.PARTIALLY_PUBLISHED
    retried = await engine.publish(post, retry_failed=True)
    assert [r.account_id for r in retried.results] == ["acc_x"]
    assert engine.publishers["linkedin"].calls == 1
    assert retried.status == PostStatus.PUBLISHED


def fake_account_creds(engine: Engine, account_id: str) -> Any:
    from herald.accounts import Credentials

    acc = engine.accounts.get(BIZ, account_id)
    return Credentials(acc.account_id, acc.platform, acc.external_id, "token")
