"""How a post moves between its states, and who may claim a target or its first comment.

These rules are data: the store turns each into the condition of its conditional write
(herald.store.conditions), and the in-memory fakes decide with the same predicates, so the rule a
test exercises is the rule DynamoDB enforces.

    pending ──> queued ──> publishing ──> published | partially_published | failed
       │  <──edit──┘  │       ↺ redelivery     ↑                                  │
       ├──> cancelled <─┘                      └──────────── reopen ──────────────┘
       └──> missed        (found later than the business's maximum lateness)

A post is edited or cancelled until the worker claims it (`publishing`): queued, its message is
already in the publish queue, so a new text or new accounts ride with it (the worker reads the
post when it claims it), and a new time sends it back to `pending` for the tick to queue again
(the message for the old time is dropped when it arrives: see `Rescheduled`). An immediate
publish is created at `publishing`; a scheduled one at `pending`.
"""

from __future__ import annotations

from dataclasses import dataclass

from herald.errors import Conflict
from herald.platforms.base import ErrorKind
from herald.posts.model import Comment, PostStatus, Target, TargetStatus


@dataclass(frozen=True)
class Move:
    """One conditional write of a post's status: allowed from any of `sources`, it leaves the
    post in one of `ends` (which one is the writer's to say: an edit's new time, a close's
    outcome)."""

    name: str
    sources: frozenset[PostStatus]
    ends: frozenset[PostStatus]

    def allows(self, status: PostStatus) -> bool:
        return status in self.sources


def _move(name: str, sources: set[PostStatus], ends: set[PostStatus]) -> Move:
    return Move(name, frozenset(sources), frozenset(ends))


_P = PostStatus
# Where a post is created: pending when scheduled, publishing when published now.
INITIAL_STATES = frozenset({_P.PENDING, _P.PUBLISHING})

QUEUE = _move("queue", {_P.PENDING}, {_P.QUEUED})  # the tick sent its message
MISS = _move("miss", {_P.PENDING}, {_P.MISSED})  # found later than its maximum lateness
# A new text, new accounts or a new time; a new time sends a queued post back to pending.
EDIT = _move("edit", {_P.PENDING, _P.QUEUED}, {_P.PENDING, _P.QUEUED})
# Queued too: the worker's start requires queued, so its message then finds a cancelled post.
CANCEL = _move("cancel", {_P.PENDING, _P.QUEUED}, {_P.CANCELLED})
# The worker (or publish-now) starts the run; already publishing, a redelivery continues it.
START = _move("start", {_P.QUEUED, _P.PUBLISHING}, {_P.PUBLISHING})
# A person's retry of the targets that did not go out.
REOPEN = _move("reopen", {_P.FAILED, _P.PARTIALLY_PUBLISHED}, {_P.PUBLISHING})
# Once no target is on its way any more: the status its targets add up to (Post.outcome).
CLOSE = _move("close", {_P.PUBLISHING}, {_P.PUBLISHED, _P.PARTIALLY_PUBLISHED, _P.FAILED})

MOVES: tuple[Move, ...] = (QUEUE, MISS, EDIT, CANCEL, START, REOPEN, CLOSE)

# What a client may still change: until the worker claims the post.
EDITABLE_POST_STATES = EDIT.sources


def _transitions() -> dict[PostStatus, frozenset[PostStatus]]:
    table: dict[PostStatus, set[PostStatus]] = {status: set() for status in PostStatus}
    for move in MOVES:
        for source in move.sources:
            table[source] |= move.ends
    return {status: frozenset(ends) for status, ends in table.items()}


# Every status a post may go to from each status, read off the moves (a move may leave the
# status as it is: an edit of a pending post, a redelivery of a publishing one).
TRANSITIONS: dict[PostStatus, frozenset[PostStatus]] = _transitions()


def can_transition(current: PostStatus, new: PostStatus) -> bool:
    return new in TRANSITIONS[current]


class Rescheduled(Conflict):
    """A publish message for a time the post no longer has: it was rescheduled after the tick
    queued it, and the message for its new time is (or will be) on its way. The worker drops
    this one, so a post never goes out at a time it was moved away from."""


# --- claims -------------------------------------------------------------------------------------
# A target (or a first comment) is claimed by a conditional write before any platform call, so
# two runs never publish it both. A claim older than `stale_before` belongs to a run that died
# mid-publish: it may be taken over, and the taker must look for what the dead run posted.

RETRYABLE_KINDS = frozenset(kind.value for kind in ErrorKind if kind.retryable)


@dataclass(frozen=True)
class ClaimRule:
    """Which states a run may claim from: `fresh` ones as they are, `failed` for a retryable
    kind (for any kind when a person asked for the retry), `publishing` once its claim is stale."""

    fresh: frozenset[TargetStatus]

    def allows(
        self,
        status: TargetStatus,
        error_kind: str | None,
        claimed_at: str | None,
        *,
        stale_before: str,
        any_failure: bool = False,
    ) -> bool:
        if status in self.fresh:
            return True
        if status == TargetStatus.FAILED:
            return any_failure or error_kind in RETRYABLE_KINDS
        # A claim with no time is never stale, as DynamoDB compares a missing attribute.
        return (
            status == TargetStatus.PUBLISHING
            and claimed_at is not None
            and (claimed_at < stale_before)
        )


# A target whose media the platform is processing is claimed like a pending one: its media
# state says where the publisher resumes.
TARGET_CLAIM = ClaimRule(frozenset({TargetStatus.PENDING, TargetStatus.PROCESSING}))
COMMENT_CLAIM = ClaimRule(frozenset({TargetStatus.PENDING}))

# A post is closed only once none of its targets is still on its way: a target whose media the
# platform is processing is as unfinished as one being published.
UNFINISHED_TARGET_STATES = frozenset({TargetStatus.PUBLISHING, TargetStatus.PROCESSING})


def may_claim(target: Target, stale_before: str, any_failure: bool = False) -> bool:
    return TARGET_CLAIM.allows(
        target.status,
        target.error_kind,
        target.claimed_at,
        stale_before=stale_before,
        any_failure=any_failure,
    )


def may_claim_comment(target: Target, stale_before: str, any_failure: bool = False) -> bool:
    """Only a published target's comment is ever claimed: it answers the target's post."""
    comment: Comment | None = target.comment
    return (
        target.status == TargetStatus.PUBLISHED
        and comment is not None
        and COMMENT_CLAIM.allows(
            comment.status,
            comment.error_kind,
            comment.claimed_at,
            stale_before=stale_before,
            any_failure=any_failure,
        )
    )


def holds_claim(status: TargetStatus, claimed_at: str | None, claim: str) -> bool:
    """Whether the claim a run made at `claim` is still its own: a run records its result only
    then (a stale claim taken over belongs to the run that took it)."""
    return status == TargetStatus.PUBLISHING and claimed_at == claim
