"""The post repository's conditional writes, on moto; the in-memory fake the engine's unit tests
use is held to the same specification."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from herald.errors import Conflict, NotFound
from herald.platforms.base import Content, Published
from herald.posts import Post, PostStatus, Target, TargetStatus
from herald.store.posts import OwedEvent
from tests.fakes.publishing import InMemoryPostRepository

T0 = "2026-01-01T00:00:00.000000Z"
T1 = "2026-01-01T00:00:10.000000Z"
LATER = "2026-01-01T01:00:00.000000Z"


@pytest.fixture(params=["dynamodb", "memory"])
def repo(request: pytest.FixtureRequest) -> Any:
    if request.param == "memory":
        return InMemoryPostRepository()
    return request.getfixturevalue("container").posts


def _post(status: PostStatus = PostStatus.PUBLISHING, post_id: str = "post_1") -> Post:
    return Post(
        post_id=post_id,
        business_id="biz",
        status=status,
        content=Content(text="hello", thread=("a", "b")),
        targets={
            "acc_x": Target(account_id="acc_x", platform="x"),
            "acc_li": Target(account_id="acc_li", platform="linkedin"),
        },
        created_at=T0,
        updated_at=T0,
    )


def _claim(repo: Any, account_id: str = "acc_x", *, now: str = T1, **kw: Any) -> Any:
    kw.setdefault("stale_before", T0)
    return repo.claim_target("biz", "post_1", account_id, now=now, **kw)


def test_a_created_post_reads_back_with_its_targets(repo: Any) -> None:
    repo.create(_post())
    post = repo.get("biz", "post_1")
    assert post.content == Content(text="hello", thread=("a", "b"))
    assert set(post.targets) == {"acc_x", "acc_li"}
    assert post.targets["acc_x"].status == TargetStatus.PENDING


def test_creating_the_same_post_twice_is_a_conflict(repo: Any) -> None:
    repo.create(_post())
    with pytest.raises(Conflict):
        repo.create(_post())


def test_another_business_does_not_see_the_post(repo: Any) -> None:
    repo.create(_post())
    with pytest.raises(NotFound):
        repo.get("other", "post_1")


def test_a_target_is_claimed_once(repo: Any) -> None:
    repo.create(_post())
    claim = _claim(repo)
    assert claim.target.status == TargetStatus.PUBLISHING
    assert claim.target.attempts == 1
    assert not claim.took_over
    assert _claim(repo) is None


def test_a_stale_claim_may_be_taken_over_and_says_so(repo: Any) -> None:
    repo.create(_post())
    _claim(repo, now=T0)
    claim = _claim(repo, now=LATER, stale_before=T1)
    assert claim.took_over
    assert claim.target.attempts == 2


def test_a_published_target_is_never_claimed_again(repo: Any) -> None:
    repo.create(_post())
    _claim(repo)
    repo.record_published("biz", "post_1", "acc_x", Published("1", "u", ("1", "2")), T1)
    assert _claim(repo, now=LATER, stale_before=LATER, any_failure=True) is None
    target = repo.get("biz", "post_1").targets["acc_x"]
    assert (target.platform_post_id, target.part_ids) == ("1", ("1", "2"))


def test_a_failure_for_good_is_reclaimed_only_when_a_person_asks(repo: Any) -> None:
    repo.create(_post())
    claim = _claim(repo)
    repo.record_failure(
        "biz", "post_1", "acc_x", status=TargetStatus.FAILED, reason="dup", kind="duplicate",
        claimed_at=claim.target.claimed_at, now=T1,
    )  # fmt: skip
    assert _claim(repo) is None
    assert _claim(repo, any_failure=True) is not None


def test_a_retryable_failure_is_reclaimed(repo: Any) -> None:
    repo.create(_post())
    claim = _claim(repo)
    repo.record_failure(
        "biz", "post_1", "acc_x", status=TargetStatus.FAILED, reason="429", kind="rate_limited",
        claimed_at=claim.target.claimed_at, now=T1, attempts=1,
    )  # fmt: skip
    assert _claim(repo).target.attempts == 2


def test_a_failure_is_not_recorded_over_someone_elses_claim(repo: Any) -> None:
    repo.create(_post())
    _claim(repo, now=T0)
    _claim(repo, now=LATER, stale_before=T1)  # taken over
    recorded = repo.record_failure(
        "biz", "post_1", "acc_x", status=TargetStatus.FAILED, reason="late", kind="transient",
        claimed_at=T0, now=LATER,
    )  # fmt: skip
    assert recorded is False


def test_media_progress_is_stored_while_the_claim_is_ours_and_refused_once_taken_over(
    repo: Any,
) -> None:
    repo.create(_post())
    _claim(repo, now=T0)
    repo.record_media_state("biz", "post_1", "acc_x", {"media_id": "m1"}, claimed_at=T0, now=T1)
    saved = repo.get("biz", "post_1").targets["acc_x"].media_state
    _claim(repo, now=LATER, stale_before=T1)  # taken over
    with pytest.raises(Conflict):
        repo.record_media_state(
            "biz", "post_1", "acc_x", {"media_id": "m2"}, claimed_at=T0, now=LATER
        )
    assert saved == {"media_id": "m1"}
    assert repo.get("biz", "post_1").targets["acc_x"].media_state == {"media_id": "m1"}


def test_waiting_for_processing_is_recorded_only_under_our_own_claim(repo: Any) -> None:
    repo.create(_post())
    _claim(repo, now=T0)
    _claim(repo, now=LATER, stale_before=T1)  # taken over
    stale = repo.record_processing(
        "biz", "post_1", "acc_x", {"media_id": "m1"}, claimed_at=T0, since=LATER, now=LATER
    )
    ours = repo.record_processing(
        "biz", "post_1", "acc_x", {"media_id": "m1"}, claimed_at=LATER, since=LATER, now=LATER
    )
    target = repo.get("biz", "post_1").targets["acc_x"]
    assert (stale, ours) == (False, True)
    assert (target.status, target.processing_since) == (TargetStatus.PROCESSING, LATER)


def test_thread_progress_is_stored_as_it_happens(repo: Any) -> None:
    repo.create(_post())
    _claim(repo)
    repo.record_part_ids("biz", "post_1", "acc_x", ["10", "11"], T1)
    assert repo.get("biz", "post_1").targets["acc_x"].part_ids == ("10", "11")


def test_finish_waits_for_every_target_then_sums_them_up(repo: Any) -> None:
    repo.create(_post())
    _claim(repo, "acc_x")
    claim = _claim(repo, "acc_li")
    repo.record_published("biz", "post_1", "acc_x", Published("1", "u"), T1)
    assert repo.finish("biz", "post_1", T1) is None  # LinkedIn is still being published
    repo.record_failure(
        "biz", "post_1", "acc_li", status=TargetStatus.FAILED, reason="boom", kind="platform_error",
        claimed_at=claim.target.claimed_at, now=T1,
    )  # fmt: skip
    post = repo.finish("biz", "post_1", T1)
    assert post.status == PostStatus.PARTIALLY_PUBLISHED
    assert post.published_at == T1
    assert "boom" in post.status_reason
    owed = repo.pending_event("biz", "post_1")
    assert owed == OwedEvent("post.partially_published", post.version)
    assert post == repo.get("biz", "post_1")
    assert repo.finish("biz", "post_1", T1) is None  # only once
    repo.clear_pending_event("biz", "post_1", post.version)
    assert repo.pending_event("biz", "post_1") is None


def test_start_moves_a_queued_post_and_refuses_a_cancelled_one(repo: Any) -> None:
    repo.create(_post(PostStatus.QUEUED))
    assert repo.start("biz", "post_1", T1).status == PostStatus.PUBLISHING
    repo.create(_post(PostStatus.CANCELLED, post_id="post_2"))
    with pytest.raises(Conflict):
        repo.start("biz", "post_2", T1)


def test_a_failed_post_reopens_only_for_a_retry(repo: Any) -> None:
    repo.create(_post(PostStatus.FAILED))
    with pytest.raises(Conflict):
        repo.start("biz", "post_1", T1)
    assert repo.start("biz", "post_1", T1, reopen=True).status == PostStatus.PUBLISHING


def test_the_window_lists_posts_by_calendar_time(repo: Any) -> None:
    repo.create(_post())
    assert [p.post_id for p in repo.list_window("biz", T0, T1)] == ["post_1"]
    assert repo.list_window("biz", T1, LATER) == []


def _claimed_single(repo: Any) -> tuple[Post, Target]:
    """A one-target post started and claimed, and the post exactly as those writes left it."""
    post = _post(PostStatus.QUEUED)
    repo.create(replace(post, targets={"acc_x": post.targets["acc_x"]}))
    started = repo.start("biz", "post_1", T1)
    claim = _claim(repo)
    expected = replace(started.with_target(claim.target), version=claim.version)
    return expected, claim.target


def test_the_last_result_and_the_close_of_the_post_are_one_write(repo: Any) -> None:
    expected, claimed = _claimed_single(repo)
    done = replace(
        claimed, status=TargetStatus.PUBLISHED, platform_post_id="1", part_ids=("1",),
        published_at=T1,
    )  # fmt: skip
    post = repo.finish_with(expected, done, T1)
    assert post.status == PostStatus.PUBLISHED
    assert post.published_at == T1
    assert post.targets["acc_x"].status == TargetStatus.PUBLISHED
    assert post.version == expected.version + 1
    assert post == repo.get("biz", "post_1")
    assert repo.pending_event("biz", "post_1") == OwedEvent("post.published", post.version)


def test_closing_with_the_last_result_writes_nothing_once_the_post_moved(repo: Any) -> None:
    expected, claimed = _claimed_single(repo)
    repo.record_part_ids("biz", "post_1", "acc_x", ["10"], T1)  # not in `expected`
    done = replace(claimed, status=TargetStatus.FAILED, last_error="boom", error_kind="transient")
    assert repo.finish_with(expected, done, T1) is None
    after = repo.get("biz", "post_1")
    assert (after.status, after.targets["acc_x"].status) == (
        PostStatus.PUBLISHING,
        TargetStatus.PUBLISHING,
    )


def test_closing_with_a_result_waits_while_another_target_is_unfinished(repo: Any) -> None:
    repo.create(_post(PostStatus.QUEUED))
    started = repo.start("biz", "post_1", T1)
    claim = _claim(repo)
    expected = replace(started.with_target(claim.target), version=claim.version)
    done = replace(claim.target, status=TargetStatus.PUBLISHED, platform_post_id="1")
    assert repo.finish_with(expected, done, T1) is None  # LinkedIn is still pending
    assert repo.get("biz", "post_1").targets["acc_x"].status == TargetStatus.PUBLISHING


def test_starting_with_the_targets_claims_them_all_in_the_same_write(repo: Any) -> None:
    repo.create(_post(PostStatus.QUEUED))
    started = repo.start_claiming("biz", "post_1", ["acc_x", "acc_li"], now=T1, stale_before=T0)

    stored = repo.get("biz", "post_1")
    assert stored.status == PostStatus.PUBLISHING
    assert {t.status for t in stored.targets.values()} == {TargetStatus.PUBLISHING}
    assert started.post.targets == stored.targets
    assert started.post.version == stored.version
    assert {a: c.took_over for a, c in started.claims.items()} == {"acc_x": False, "acc_li": False}


def test_starting_with_a_target_that_cannot_be_claimed_writes_nothing(repo: Any) -> None:
    repo.create(_post(PostStatus.QUEUED))
    repo.start("biz", "post_1", T0)
    assert _claim(repo, "acc_x", now=T0, stale_before=T0) is not None  # a live run holds it
    before = repo.get("biz", "post_1")

    assert (
        repo.start_claiming("biz", "post_1", ["acc_x", "acc_li"], now=T1, stale_before=T0) is None
    )
    assert repo.get("biz", "post_1") == before


def test_starting_with_the_targets_takes_over_a_stale_claim_and_says_so(repo: Any) -> None:
    repo.create(_post(PostStatus.QUEUED))
    repo.start("biz", "post_1", T0)
    _claim(repo, "acc_x", now=T0, stale_before=T0)

    started = repo.start_claiming("biz", "post_1", ["acc_x"], now=LATER, stale_before=T1)
    assert started.claims["acc_x"].took_over
    assert started.claims["acc_x"].target.attempts == 2


@pytest.mark.parametrize("status", [PostStatus.CANCELLED, PostStatus.PUBLISHED])
def test_starting_a_post_that_cannot_be_published_is_a_conflict_naming_its_status(
    repo: Any, status: PostStatus
) -> None:
    repo.create(_post(status))
    with pytest.raises(Conflict, match=status.value):
        repo.start_claiming("biz", "post_1", ["acc_x"], now=T1, stale_before=T0)


def test_starting_a_post_that_does_not_exist_is_not_found(repo: Any) -> None:
    with pytest.raises(NotFound):
        repo.start_claiming("biz", "post_9", ["acc_x"], now=T1, stale_before=T0)


def test_the_owed_event_keeps_the_version_of_the_close_whatever_is_written_after(
    repo: Any,
) -> None:
    expected, claimed = _claimed_single(repo)
    done = replace(claimed, status=TargetStatus.PUBLISHED, platform_post_id="1", published_at=T1)
    closed = repo.finish_with(expected, done, T1)
    repo.record_part_ids("biz", "post_1", "acc_x", ["1"], LATER)  # a slow run, after the close

    assert repo.get("biz", "post_1").version == closed.version + 1
    assert repo.pending_event("biz", "post_1") == OwedEvent("post.published", closed.version)


# --- first comments -------------------------------------------------------------------------
def _with_comment(target_status: TargetStatus = TargetStatus.PUBLISHED) -> Post:
    post = replace(_post(), content=Content(text="hello", first_comment="first!")).with_comments()
    published = replace(post.targets["acc_li"], status=target_status, platform_post_id="urn:1")
    return post.with_target(published)


def _claim_comment(repo: Any, *, now: str = T1, **kw: Any) -> Any:
    kw.setdefault("stale_before", T0)
    return repo.claim_comment("biz", "post_1", "acc_li", now=now, **kw)


def test_a_first_comment_is_claimed_once_and_only_under_a_published_target(repo: Any) -> None:
    repo.create(_with_comment(TargetStatus.PENDING))
    assert _claim_comment(repo) is None  # nothing to comment on yet

    repo.create(replace(_with_comment(), post_id="post_2"))
    first = repo.claim_comment("biz", "post_2", "acc_li", now=T1, stale_before=T0)
    second = repo.claim_comment("biz", "post_2", "acc_li", now=T1, stale_before=T0)
    assert (first.comment.status, first.comment.attempts, first.took_over) == (
        TargetStatus.PUBLISHING,
        1,
        False,
    )
    assert second is None


def test_a_stale_comment_claim_is_taken_over_and_says_so(repo: Any) -> None:
    repo.create(_with_comment())
    _claim_comment(repo, now=T0, stale_before="2025-01-01T00:00:00.000000Z")
    taken = _claim_comment(repo, now=LATER, stale_before=T1)
    assert (taken.took_over, taken.previous_claimed_at, taken.comment.attempts) == (True, T0, 2)


def test_a_published_comment_is_never_claimed_again(repo: Any) -> None:
    repo.create(_with_comment())
    _claim_comment(repo)
    repo.record_comment_published("biz", "post_1", "acc_li", "c-1", T1, attempts=1)
    assert _claim_comment(repo, stale_before=LATER) is None
    comment = repo.get("biz", "post_1").targets["acc_li"].comment
    assert (comment.status, comment.platform_comment_id) == (TargetStatus.PUBLISHED, "c-1")


def test_a_comment_failure_is_not_recorded_over_another_runs_claim(repo: Any) -> None:
    repo.create(_with_comment())
    _claim_comment(repo, now=T0, stale_before="2025-01-01T00:00:00.000000Z")
    _claim_comment(repo, now=LATER, stale_before=T1)  # taken over
    recorded = repo.record_comment_failure(
        "biz", "post_1", "acc_li", status=TargetStatus.FAILED, reason="late", kind="transient",
        claimed_at=T0, now=LATER, attempts=1,
    )  # fmt: skip
    assert recorded is False
    assert repo.get("biz", "post_1").targets["acc_li"].comment.status == TargetStatus.PUBLISHING


def test_a_retryable_comment_failure_is_reclaimed_and_a_final_one_only_on_request(
    repo: Any,
) -> None:
    repo.create(_with_comment())
    claim = _claim_comment(repo)
    repo.record_comment_failure(
        "biz", "post_1", "acc_li", status=TargetStatus.FAILED, reason="403", kind="platform_error",
        claimed_at=claim.comment.claimed_at, now=T1, attempts=1,
    )  # fmt: skip
    assert _claim_comment(repo) is None
    assert _claim_comment(repo, any_failure=True) is not None
