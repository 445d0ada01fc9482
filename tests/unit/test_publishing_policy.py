"""The engine's pure decisions: retry or not, and how long to wait; the API's status."""

from __future__ import annotations

import pytest

from herald.platforms.base import Content, ErrorKind, PlatformError
from herald.posts import Post, PostStatus, Target, TargetStatus
from herald.publishing_policy import RetryPolicy, http_status, retry_decision

POLICY = RetryPolicy(attempts=3, initial=1.0, deadline=100.0, attempt_budget=10.0)


def error(kind: ErrorKind, retry_after: float | None = None) -> PlatformError:
    return PlatformError("x", kind, "detail", retry_after=retry_after)


@pytest.mark.parametrize("kind", [ErrorKind.TRANSIENT, ErrorKind.RATE_LIMITED])
def test_retryable_kinds_use_the_exponential_backoff(kind: ErrorKind) -> None:
    assert retry_decision(error(kind), remaining=25, policy=POLICY) is True


@pytest.mark.parametrize(
    "kind",
    [
        ErrorKind.AMBIGUOUS,
        ErrorKind.AUTH_REVOKED,
        ErrorKind.DUPLICATE,
        ErrorKind.INVALID_CONTENT,
        ErrorKind.PLATFORM_ERROR,
    ],
)
def test_other_kinds_are_never_retried(kind: ErrorKind) -> None:
    assert retry_decision(error(kind), remaining=25, policy=POLICY) is False


def test_a_platform_wait_replaces_the_backoff() -> None:
    assert retry_decision(error(ErrorKind.RATE_LIMITED, 4.5), remaining=25, policy=POLICY) == 4.5


def test_no_retry_when_the_wait_and_one_more_attempt_do_not_fit_the_deadline() -> None:
    assert retry_decision(error(ErrorKind.RATE_LIMITED, 16), remaining=25, policy=POLICY) is False
    assert retry_decision(error(ErrorKind.TRANSIENT), remaining=12, policy=POLICY) is False


async def test_past_its_deadline_a_policy_still_makes_the_first_attempt_and_no_retry() -> None:
    tried = 0

    async def call_until_given_up() -> None:
        nonlocal tried
        async for attempt in POLICY.attempts_of(lambda: POLICY.deadline + 1):
            with attempt:
                tried += 1
                raise error(ErrorKind.TRANSIENT)

    with pytest.raises(PlatformError):
        await call_until_given_up()
    assert tried == 1


def test_an_error_outside_the_model_is_not_retried() -> None:
    assert retry_decision(TimeoutError(), remaining=25, policy=POLICY) is False


def _post(*statuses: TargetStatus) -> Post:
    targets = {
        f"acc_{i}": Target(account_id=f"acc_{i}", platform="x", status=s)
        for i, s in enumerate(statuses)
    }
    return Post("post_1", "biz", PostStatus.PUBLISHING, Content("t"), targets)


@pytest.mark.parametrize(
    ("statuses", "status"),
    [
        ((TargetStatus.PUBLISHED, TargetStatus.PUBLISHED), 200),
        ((TargetStatus.PUBLISHED, TargetStatus.FAILED), 207),
        ((TargetStatus.FAILED, TargetStatus.UNCONFIRMED), 207),
        ((TargetStatus.FAILED, TargetStatus.FAILED), 502),
        ((TargetStatus.PUBLISHED, TargetStatus.PUBLISHING), 202),
    ],
)
def test_the_api_status_sums_up_the_targets(
    statuses: tuple[TargetStatus, ...], status: int
) -> None:
    assert http_status(_post(*statuses)) == status
