"""The post's lifecycle as data: the moves, the transitions read off them, and who may claim a
target or its first comment."""

from __future__ import annotations

from typing import Any

import pytest

from herald.platforms.base import ErrorKind
from herald.posts import TRANSITIONS, Comment, PostStatus, Target, TargetStatus, can_transition
from herald.posts.lifecycle import (
    CANCEL,
    CLOSE,
    EDIT,
    EDITABLE_POST_STATES,
    INITIAL_STATES,
    MISS,
    MOVES,
    QUEUE,
    REOPEN,
    START,
    Move,
    holds_claim,
    may_claim,
    may_claim_comment,
)
from herald.posts.model import FINAL_POST_STATES

STALE_BEFORE = "2026-01-01T00:00:10.000000Z"
OLD_CLAIM = "2026-01-01T00:00:00.000000Z"
LIVE_CLAIM = "2026-01-01T00:00:20.000000Z"
P = PostStatus


def _target(status: TargetStatus, **kw: Any) -> Target:
    return Target("acc_li", "linkedin", status, **kw)


def test_transitions_are_exactly_the_moves_sources_to_their_ends() -> None:
    pairs = {(s, e) for move in MOVES for s in move.sources for e in move.ends}
    assert {(s, e) for s, ends in TRANSITIONS.items() for e in ends} == pairs


def test_every_status_has_an_entry_in_transitions() -> None:
    assert set(TRANSITIONS) == set(PostStatus)


@pytest.mark.parametrize(
    ("move", "sources", "ends"),
    [
        (QUEUE, {P.PENDING}, {P.QUEUED}),
        (MISS, {P.PENDING}, {P.MISSED}),
        (EDIT, {P.PENDING, P.QUEUED}, {P.PENDING, P.QUEUED}),
        (CANCEL, {P.PENDING, P.QUEUED}, {P.CANCELLED}),
        (START, {P.QUEUED, P.PUBLISHING}, {P.PUBLISHING}),
        (REOPEN, {P.FAILED, P.PARTIALLY_PUBLISHED}, {P.PUBLISHING}),
        (CLOSE, {P.PUBLISHING}, {P.PUBLISHED, P.PARTIALLY_PUBLISHED, P.FAILED}),
    ],
    ids=lambda v: getattr(v, "name", ""),
)
def test_each_move_starts_and_ends_where_the_store_has_always_enforced(
    move: Move, sources: set[PostStatus], ends: set[PostStatus]
) -> None:
    assert move.sources == sources
    assert move.ends == ends


def test_a_move_allows_exactly_its_sources() -> None:
    assert [s for s in PostStatus if CANCEL.allows(s)] == [P.PENDING, P.QUEUED]


def test_a_post_is_editable_until_the_worker_starts_it() -> None:
    assert {P.PENDING, P.QUEUED} == EDITABLE_POST_STATES


def test_a_queued_post_never_fails_without_being_started() -> None:
    assert not can_transition(P.QUEUED, P.FAILED)


def test_a_redelivery_continues_a_publishing_post() -> None:
    assert can_transition(P.PUBLISHING, P.PUBLISHING)


@pytest.mark.parametrize("status", [P.PUBLISHED, P.CANCELLED, P.MISSED])
def test_a_post_that_went_out_was_cancelled_or_missed_never_moves_again(status: P) -> None:
    assert TRANSITIONS[status] == frozenset()


def test_every_status_is_reached_from_where_a_post_is_created() -> None:
    reached = set(INITIAL_STATES)
    frontier = list(INITIAL_STATES)
    while frontier:
        for end in TRANSITIONS[frontier.pop()]:
            if end not in reached:
                reached.add(end)
                frontier.append(end)
    assert reached == set(PostStatus)


def test_only_a_final_status_is_announced_by_the_close_or_left_by_the_tick() -> None:
    assert CLOSE.ends <= FINAL_POST_STATES
    assert MISS.ends <= FINAL_POST_STATES
    assert CANCEL.ends <= FINAL_POST_STATES


# --- claims ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [TargetStatus.PENDING, TargetStatus.PROCESSING])
def test_a_pending_or_processing_target_may_be_claimed(status: TargetStatus) -> None:
    assert may_claim(_target(status), STALE_BEFORE)


@pytest.mark.parametrize("kind", sorted(k for k in ErrorKind if k.retryable))
def test_a_target_failed_for_a_retryable_kind_may_be_claimed_again(kind: ErrorKind) -> None:
    assert may_claim(_target(TargetStatus.FAILED, error_kind=kind.value), STALE_BEFORE)


def test_a_target_failed_for_good_is_claimed_only_when_a_person_asks() -> None:
    target = _target(TargetStatus.FAILED, error_kind=ErrorKind.INVALID_CONTENT.value)
    assert not may_claim(target, STALE_BEFORE)
    assert may_claim(target, STALE_BEFORE, any_failure=True)


def test_a_target_held_by_a_live_claim_is_not_claimed() -> None:
    assert not may_claim(_target(TargetStatus.PUBLISHING, claimed_at=LIVE_CLAIM), STALE_BEFORE)


def test_a_target_held_by_a_stale_claim_may_be_taken_over() -> None:
    assert may_claim(_target(TargetStatus.PUBLISHING, claimed_at=OLD_CLAIM), STALE_BEFORE)


def test_a_publishing_target_with_no_claim_time_is_not_taken_over() -> None:
    assert not may_claim(_target(TargetStatus.PUBLISHING), STALE_BEFORE)


@pytest.mark.parametrize("status", [TargetStatus.PUBLISHED, TargetStatus.UNCONFIRMED])
def test_a_published_or_unconfirmed_target_is_never_claimed(status: TargetStatus) -> None:
    assert not may_claim(_target(status), STALE_BEFORE, any_failure=True)


def test_a_comment_is_claimed_only_once_its_target_is_published() -> None:
    comment = Comment()
    assert may_claim_comment(_target(TargetStatus.PUBLISHED, comment=comment), STALE_BEFORE)
    assert not may_claim_comment(_target(TargetStatus.PUBLISHING, comment=comment), STALE_BEFORE)


def test_a_target_without_a_comment_has_none_to_claim() -> None:
    assert not may_claim_comment(_target(TargetStatus.PUBLISHED), STALE_BEFORE, any_failure=True)


def test_a_comment_is_never_processing_so_a_processing_one_is_not_claimed() -> None:
    comment = Comment(TargetStatus.PROCESSING)
    assert not may_claim_comment(_target(TargetStatus.PUBLISHED, comment=comment), STALE_BEFORE)


def test_a_comment_failed_for_a_retryable_kind_may_be_claimed_again() -> None:
    comment = Comment(TargetStatus.FAILED, error_kind=ErrorKind.RATE_LIMITED.value)
    assert may_claim_comment(_target(TargetStatus.PUBLISHED, comment=comment), STALE_BEFORE)


def test_a_claim_is_still_a_runs_own_only_while_its_time_is_on_the_target() -> None:
    assert holds_claim(TargetStatus.PUBLISHING, LIVE_CLAIM, LIVE_CLAIM)
    assert not holds_claim(TargetStatus.PUBLISHING, LIVE_CLAIM, OLD_CLAIM)
    assert not holds_claim(TargetStatus.FAILED, LIVE_CLAIM, LIVE_CLAIM)
