"""Retrying a post (herald.retry_post) on its ports: what a person's retry picks up, and what it
leaves alone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from herald.clock import FrozenClock, isoformat
from herald.errors import Conflict
from herald.platforms.base import Content
from herald.posts import Post, PostStatus, Target, TargetStatus
from herald.publishing_policy import PublishOutcome, TargetResult
from herald.retry_post import RetryPorts, retry_post
from herald.settings import Settings
from tests.fakes.publishing import InMemoryPostRepository

BIZ = "biz_1"


@dataclass
class Engine:
    """Stands in for the engine: remembers what it was asked, and publishes every target that
    is not published yet."""

    posts: InMemoryPostRepository
    asked: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    async def __call__(
        self,
        business_id: str,
        post_id: str,
        *,
        retry_in_process: bool,
        retry_failed: bool = False,
        credentials: Any = None,
        account_ids: Sequence[str] = (),
    ) -> PublishOutcome:
        self.asked.append((post_id, {"retry_failed": retry_failed}))
        post = self.posts.get(business_id, post_id)
        todo = [t for t in post.targets.values() if t.status != TargetStatus.PUBLISHED]
        done = {t.account_id: replace(t, status=TargetStatus.PUBLISHED) for t in todo}
        published = replace(post, status=PostStatus.PUBLISHED, targets={**post.targets, **done})
        results = tuple(
            TargetResult(t.account_id, t.platform, TargetStatus.PUBLISHED) for t in todo
        )
        return PublishOutcome(post_id, published.status, results, post=published)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def posts() -> InMemoryPostRepository:
    return InMemoryPostRepository()


@pytest.fixture
def engine(posts: InMemoryPostRepository) -> Engine:
    return Engine(posts)


@pytest.fixture
def ports(posts: InMemoryPostRepository, clock: FrozenClock, engine: Engine) -> RetryPorts:
    return RetryPorts(
        settings=Settings(HERALD_ENV="test"), posts=posts, clock=clock, publish=engine
    )


def _stored(posts: InMemoryPostRepository, clock: FrozenClock, *targets: Target) -> Post:
    now = isoformat(clock.now())
    post = Post(
        post_id="post_1",
        business_id=BIZ,
        status=PostStatus.PARTIALLY_PUBLISHED,
        content=Content(text="Fresh bread at 7"),
        targets={t.account_id: t for t in targets},
        created_at=now,
        updated_at=now,
    )
    posts.create(post)
    return post


def _target(account_id: str, status: TargetStatus, **kw: Any) -> Target:
    return replace(Target(account_id=account_id, platform="x"), status=status, **kw)


async def test_a_post_with_only_published_and_unconfirmed_targets_is_a_conflict(
    ports: RetryPorts, posts: InMemoryPostRepository, clock: FrozenClock, engine: Engine
) -> None:
    _stored(
        posts,
        clock,
        _target("acc_a", TargetStatus.PUBLISHED),
        _target("acc_b", TargetStatus.UNCONFIRMED),
    )
    with pytest.raises(Conflict):
        await retry_post(ports, BIZ, "post_1")
    assert engine.asked == []


async def test_a_failed_target_is_handed_to_the_engine_to_publish_again_whatever_its_reason(
    ports: RetryPorts, posts: InMemoryPostRepository, clock: FrozenClock, engine: Engine
) -> None:
    failed = _target("acc_a", TargetStatus.FAILED, error_kind="invalid_content")
    _stored(posts, clock, failed)
    answer = await retry_post(ports, BIZ, "post_1")
    assert engine.asked == [("post_1", {"retry_failed": True})]
    assert answer.status == PostStatus.PUBLISHED


async def test_a_target_held_by_a_run_that_died_is_retried_once_its_claim_is_stale(
    ports: RetryPorts, posts: InMemoryPostRepository, clock: FrozenClock, engine: Engine
) -> None:
    claimed = isoformat(clock.now())
    _stored(posts, clock, _target("acc_a", TargetStatus.PUBLISHING, claimed_at=claimed))
    with pytest.raises(Conflict):
        await retry_post(ports, BIZ, "post_1")  # a live claim: nothing to retry yet
    assert engine.asked == []

    clock.advance(ports.settings.publish_claim_stale_seconds + 1)
    answer = await retry_post(ports, BIZ, "post_1")
    assert answer.targets["acc_a"].status == TargetStatus.PUBLISHED


async def test_a_resumed_retry_with_nothing_left_answers_the_post_as_it_stands(
    ports: RetryPorts, posts: InMemoryPostRepository, clock: FrozenClock, engine: Engine
) -> None:
    stored = _stored(posts, clock, _target("acc_a", TargetStatus.PUBLISHED))
    assert await retry_post(ports, BIZ, "post_1", resumed=True) == stored
    assert engine.asked == []
