"""The store enforces herald.posts.lifecycle, and nothing else: for every move and every status a
post may be in, the real write (on moto) is accepted exactly when the lifecycle says the move may
start there, and leaves the post in one of the move's ends; a target or a first comment is
claimed exactly when the lifecycle's claim rule allows it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from herald.container import Container
from herald.errors import Conflict
from herald.platforms.base import Content, ErrorKind
from herald.posts import Comment, Post, PostStatus, Target, TargetStatus
from herald.posts.lifecycle import (
    CANCEL,
    CLOSE,
    EDIT,
    MISS,
    QUEUE,
    REOPEN,
    START,
    Move,
    may_claim,
    may_claim_comment,
)
from herald.store.schedule import DueEntry, due_keys, due_sk

BIZ = "biz_lifecycle"
CREATED = "2026-01-01T00:00:00.000000Z"
STALE_BEFORE = "2026-01-01T00:00:10.000000Z"
NOW = "2026-01-01T00:00:30.000000Z"
WHEN = "2026-01-02T09:00:00.000000Z"
ACCOUNT = "acc_li"

# A failed target's kinds that matter: none, each retryable one, and one a retry will not fix.
KINDS = [None, *sorted(k.value for k in ErrorKind if k.retryable), ErrorKind.INVALID_CONTENT.value]
CLAIMS = [None, "2026-01-01T00:00:00.000000Z", "2026-01-01T00:00:20.000000Z"]  # none, stale, live


def _post(status: PostStatus, post_id: str, targets: list[Target] | None = None) -> Post:
    targets = targets or [Target(ACCOUNT, "linkedin", TargetStatus.PENDING)]
    return Post(
        post_id=post_id,
        business_id=BIZ,
        status=status,
        content=Content(text="Fresh bread at nine"),
        targets={t.account_id: t for t in targets},
        created_at=CREATED,
        updated_at=CREATED,
        scheduled_for=WHEN,
    )


def _stored(container: Container, status: PostStatus) -> Post:
    """A post in `status` that carries its due keys whatever its status, so that only the status
    decides whether a move may start (the due keys are the tick's concern, not the lifecycle's)."""
    post = _post(status, f"post_{status.value}")
    keys = due_keys(replace(post, status=PostStatus.PENDING), container.settings.due_shards)
    container.posts.create(post, extra=keys)
    return post


def _accepted(write: Callable[[Container, Post], Any], container: Container, post: Post) -> bool:
    try:
        return write(container, post) not in (None, False)
    except Conflict:
        return False


def _status(container: Container, post: Post) -> PostStatus:
    return container.posts.get(post.business_id, post.post_id).status


def _entry(post: Post) -> DueEntry:
    return DueEntry(BIZ, post.post_id, WHEN, due_sk(WHEN, post.post_id))


def _edit(container: Container, post: Post) -> Any:
    edited = replace(post, status=PostStatus.PENDING, version=post.version + 1, updated_at=NOW)
    return container.schedule.update_scheduled(edited, expected_version=post.version)


def _close(container: Container, post: Post) -> Any:
    # The caller believes the post is publishing at the version it read: only the store's
    # condition stands between this write and a post in any other status.
    done = replace(post.targets[ACCOUNT], status=TargetStatus.FAILED, last_error="refused")
    return container.posts.finish_with(replace(post, status=PostStatus.PUBLISHING), done, NOW)


WRITES: dict[str, Callable[[Container, Post], Any]] = {
    "queue": lambda c, p: c.schedule.mark_queued(_entry(p), "dispatch_1"),
    "miss": lambda c, p: c.schedule.mark_missed(_entry(p), "too late"),
    "edit": _edit,
    "cancel": lambda c, p: c.schedule.cancel(BIZ, p.post_id),
    "start": lambda c, p: c.posts.start(BIZ, p.post_id, NOW),
    "start and claim": lambda c, p: c.posts.start_claiming(
        BIZ, p.post_id, [ACCOUNT], now=NOW, stale_before=STALE_BEFORE
    ),
    "reopen": lambda c, p: c.posts.start(BIZ, p.post_id, NOW, reopen=True),
    "close": _close,
}
RULES: list[tuple[str, tuple[Move, ...]]] = [
    ("queue", (QUEUE,)),
    ("miss", (MISS,)),
    ("edit", (EDIT,)),
    ("cancel", (CANCEL,)),
    ("start", (START,)),
    ("start and claim", (START,)),
    # A person's retry reopens a finished post, and continues one on its way as a start would.
    ("reopen", (START, REOPEN)),
    ("close", (CLOSE,)),
]


@pytest.mark.parametrize(("write", "moves"), RULES, ids=[name for name, _ in RULES])
def test_the_store_makes_a_move_from_exactly_the_states_the_lifecycle_allows(
    container: Container, write: str, moves: tuple[Move, ...]
) -> None:
    wrong: list[str] = []
    for status in PostStatus:
        post = _stored(container, status)
        allowed = any(move.allows(status) for move in moves)
        accepted = _accepted(WRITES[write], container, post)
        if accepted != allowed:
            wrong.append(f"{status.value}: store {accepted}, lifecycle {allowed}")
        elif accepted and not any(_status(container, post) in m.ends for m in moves):
            wrong.append(f"{status.value}: left {_status(container, post).value}")
    assert wrong == []


def _cases() -> list[Target]:
    """A target in every status, failed for every kind that matters, claimed at every time."""
    return [
        Target(ACCOUNT, "linkedin", status, error_kind=kind, claimed_at=claimed)
        for status in TargetStatus
        for kind in KINDS
        for claimed in CLAIMS
    ]


def _comment_cases() -> list[Target]:
    """A published target with every comment there may be (or none), and a pending comment on a
    target in every other status."""
    comments = [
        Comment(status, error_kind=kind, claimed_at=claimed)
        for status in TargetStatus
        for kind in KINDS
        for claimed in CLAIMS
    ]
    published = [
        Target(ACCOUNT, "linkedin", TargetStatus.PUBLISHED, comment=comment)
        for comment in [None, *comments]
    ]
    others = [
        Target(ACCOUNT, "linkedin", status, comment=Comment())
        for status in TargetStatus
        if status != TargetStatus.PUBLISHED
    ]
    return published + others


def _each_alone(
    container: Container, status: PostStatus, cases: list[Target]
) -> list[tuple[Post, Target]]:
    """Each case the one target of a post of its own: a claim then reads nothing else."""
    posts = []
    for i, target in enumerate(cases):
        post = _post(status, f"post_case_{i}", [target])
        container.posts.create(post)
        posts.append((post, target))
    return posts


def _describe(target: Target) -> str:
    return f"{target.status.value}/{target.error_kind}/{target.claimed_at}/{target.comment}"


@pytest.mark.parametrize("any_failure", [False, True], ids=["worker", "person"])
def test_the_store_claims_exactly_the_targets_the_lifecycle_lets_a_run_claim(
    container: Container, any_failure: bool
) -> None:
    wrong = []
    for post, target in _each_alone(container, PostStatus.PUBLISHING, _cases()):
        claim = container.posts.claim_target(
            BIZ, post.post_id, ACCOUNT, now=NOW, stale_before=STALE_BEFORE, any_failure=any_failure
        )
        if (claim is not None) != may_claim(target, STALE_BEFORE, any_failure):
            wrong.append(_describe(target))
    assert wrong == []


def test_the_store_starts_and_claims_exactly_the_targets_the_lifecycle_lets_a_run_claim(
    container: Container,
) -> None:
    wrong = []
    for post, target in _each_alone(container, PostStatus.QUEUED, _cases()):
        started = container.posts.start_claiming(
            BIZ, post.post_id, [ACCOUNT], now=NOW, stale_before=STALE_BEFORE
        )
        if (started is not None) != may_claim(target, STALE_BEFORE):
            wrong.append(_describe(target))
    assert wrong == []


@pytest.mark.parametrize("any_failure", [False, True], ids=["worker", "person"])
def test_the_store_claims_exactly_the_comments_the_lifecycle_lets_a_run_claim(
    container: Container, any_failure: bool
) -> None:
    wrong = []
    for post, target in _each_alone(container, PostStatus.PUBLISHED, _comment_cases()):
        claim = container.posts.claim_comment(
            BIZ, post.post_id, ACCOUNT, now=NOW, stale_before=STALE_BEFORE, any_failure=any_failure
        )
        if (claim is not None) != may_claim_comment(target, STALE_BEFORE, any_failure):
            wrong.append(_describe(target))
    assert wrong == []
