"""First comments: published right after their post, each with its own outcome, at most once.

    post's targets published (herald.publishing) ──> for each published target owing a comment:
        claim the comment (conditional write) ──> publisher.comment(parent, text) ──> record
                  │                                       │ transient / rate limited: retried
                  │                                       │ like a target (in process for the
                  │                                       │ API, by redelivery for the worker)
                  │                                       │ ambiguous: reconcile, never retry
                  └ published, held by a live run, failed for good: skip

A comment never blocks or fails its post: it runs after the post's outcome is written (and
announced), its failure is its own (`post.comment_failed`, or `post.comment_unconfirmed` when
the platform may have it), and the post stays published. Its claim is the target's, one level
down (`targets.<account>.comment`), so a duplicate delivery or a second run cannot publish it
twice; a run that died after the platform took the comment leaves the claim `publishing`, and
the run that takes the stale claim over looks for the comment under the post before anything
else, and marks it `unconfirmed` when nothing proves it either way.

Where it goes (each publisher's `comment`): a LinkedIn comment, a comment on the Facebook Page
post or on the Instagram media, a reply on X and on Threads (to a thread's last part).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from herald.clock import isoformat, parse_iso
from herald.errors import NotFound
from herald.observability import logger
from herald.platforms.base import ErrorKind, PlatformError
from herald.posts import Post, Target, TargetStatus

if TYPE_CHECKING:
    from herald.accounts import Credentials, PlatformName
    from herald.ports import CommentStore
    from herald.publishing import CredentialsFor, EnginePorts
    from herald.publishing_policy import RetryPolicy
    from herald.settings import Settings
    from herald.store.comments import CommentClaim

COMMENT_FAILED_EVENT = "post.comment_failed"
COMMENT_UNCONFIRMED_EVENT = "post.comment_unconfirmed"


def comment_problems(
    text: str, platform: PlatformName, settings: Settings
) -> list[tuple[str, str]]:
    """(message, code) for each rule a first comment breaks on `platform`. On X and Threads it
    is a reply, a post of its own, and takes their post rules; LinkedIn, Facebook and Instagram
    document no comment length apart from their posts', so only emptiness and mentions are
    checked there."""
    from herald import content_rules

    if not text.strip():
        return [("the first comment is empty: leave it out, or null to drop it", "empty")]
    out: list[tuple[str, str]] = []
    if platform == "x":
        weight = content_rules.tweet_weight(text)
        if weight > content_rules.X_MAX_WEIGHT:
            why = f"{weight} weighted characters; X allows {content_rules.X_MAX_WEIGHT} in a reply"
            out.append((why, "too_long"))
        invalid = content_rules.invalid_tweet_characters(text)
        if invalid:
            out.append((f"contains {', '.join(invalid)}, which X refuses", "invalid_character"))
    elif platform == "threads":
        length = content_rules.threads_length(text)
        if length > content_rules.THREADS_MAX:
            why = f"{length} characters; Threads allows {content_rules.THREADS_MAX} in a reply"
            out.append((why, "too_long"))
        links = content_rules.threads_links(text)
        if links > content_rules.THREADS_LINKS_MAX:
            why = f"{links} distinct links; Threads allows {content_rules.THREADS_LINKS_MAX}"
            out.append((why, "too_many_links"))
    mentions = content_rules.count_mentions(text)
    if mentions > settings.mention_limit:
        why = f"{mentions} mentions; at most {settings.mention_limit} are allowed"
        out.append((why, "too_many_mentions"))
    return out


@dataclass(frozen=True)
class CommentResult:
    """What this run did with one first comment (`held`: another live run has it)."""

    account_id: str
    platform: PlatformName
    status: TargetStatus
    attempts: int = 0
    platform_comment_id: str | None = None
    error_kind: str | None = None
    reason: str | None = None
    retry_after: float | None = None
    held: bool = False

    @property
    def retryable_failure(self) -> bool:
        return (
            self.status == TargetStatus.FAILED
            and self.error_kind is not None
            and ErrorKind(self.error_kind).retryable
        )


def owed(post: Post, *, any_failure: bool = False) -> list[Target]:
    """The published targets whose first comment is still to do: pending, failed for a reason
    a retry can fix (any failure, when a person asked), or claimed (perhaps by a run that
    died: the claim says whether it is stale)."""
    out = []
    for target in post.targets.values():
        comment = target.comment
        if target.status != TargetStatus.PUBLISHED or comment is None:
            continue
        failed = comment.status == TargetStatus.FAILED and (
            any_failure
            or (comment.error_kind is not None and ErrorKind(comment.error_kind).retryable)
        )
        if comment.status in (TargetStatus.PENDING, TargetStatus.PUBLISHING) or failed:
            out.append(target)
    return out


@dataclass
class CommentRun:
    ports: EnginePorts
    post: Post
    policy: RetryPolicy
    credentials: CredentialsFor
    last_attempt: bool
    any_failure: bool = False

    @property
    def store(self) -> CommentStore:
        return self.ports.comments

    def now(self) -> str:
        return isoformat(self.ports.clock.now())

    def stale_before(self) -> str:
        age = timedelta(seconds=self.ports.settings.publish_claim_stale_seconds)
        return isoformat(self.ports.clock.now() - age)


async def publish_comments(run: CommentRun) -> list[CommentResult]:
    """Every comment the post owes, one after the other (a post has a handful of targets, and
    each comment waits for nothing but its own platform)."""
    results = []
    for target in owed(run.post, any_failure=run.any_failure):
        result = await _one(run, target)
        if result is not None:
            results.append(result)
    return results


async def _one(run: CommentRun, target: Target) -> CommentResult | None:
    import asyncio

    post, repo = run.post, run.store
    claim: CommentClaim | None = await asyncio.to_thread(
        repo.claim_comment,
        post.business_id,
        post.post_id,
        target.account_id,
        now=run.now(),
        stale_before=run.stale_before(),
        any_failure=run.any_failure,
    )
    if claim is None:
        # Read again: another run may have claimed it since the post was read, and if that run
        # dies, only this message coming back would finish it.
        latest = await asyncio.to_thread(repo.get, post.business_id, post.post_id)
        current = latest.targets[target.account_id].comment
        held = current is not None and current.status == TargetStatus.PUBLISHING
        if not held:
            return None  # published or failed for good meanwhile: nothing to do
        return CommentResult(target.account_id, target.platform, TargetStatus.PUBLISHING, held=True)
    text = post.content_for(target).first_comment or ""
    # A reply chain is answered at its end, so the comment reads after the whole thread.
    parent = target.part_ids[-1] if target.part_ids else target.platform_post_id or ""
    try:
        creds = await run.credentials(post.business_id, target.account_id)
    except Exception as exc:  # noqa: BLE001 - nothing was sent, so nothing is ambiguous
        if claim.took_over:
            why = f"a previous run died mid-comment and it cannot be checked: {exc}"
            return await _record_failure(
                run, target, claim, ErrorKind.AMBIGUOUS, why, unconfirmed=True
            )
        if isinstance(exc, PlatformError):
            kind, reason = exc.kind, exc.reason()
        elif isinstance(exc, NotFound):
            kind, reason = ErrorKind.PLATFORM_ERROR, "the account is disconnected"
        else:
            kind, reason = ErrorKind.TRANSIENT, f"credentials unavailable ({type(exc).__name__})"
        return await _record_failure(run, target, claim, kind, reason, attempts=0)
    publisher = run.ports.publishers[target.platform]
    if claim.took_over:
        return await _reconcile(
            run, target, claim, publisher, creds, parent, text, "a previous run died mid-comment"
        )
    attempts = 0
    try:
        async for attempt in run.policy.attempts_of(time.monotonic):
            with attempt:
                attempts += 1
                comment_id = await publisher.comment(creds, parent, text)
    except PlatformError as exc:
        if exc.kind == ErrorKind.AMBIGUOUS:
            return await _reconcile(
                run, target, claim, publisher, creds, parent, text, exc.reason()
            )
        if exc.kind == ErrorKind.AUTH_REVOKED:
            await _needs_reauth(run, target, exc)
        return await _record_failure(
            run,
            target,
            claim,
            exc.kind,
            exc.reason(),
            attempts=attempts,
            retry_after=exc.retry_after,
        )
    except Exception as exc:  # noqa: BLE001 - anything may have happened after sending
        logger.exception("comment raised an unexpected error", extra={"post_id": post.post_id})
        reason = f"{target.platform}: unexpected error ({type(exc).__name__})"
        return await _reconcile(run, target, claim, publisher, creds, parent, text, reason)
    return await _record_published(run, target, claim, comment_id, attempts)


async def _needs_reauth(run: CommentRun, target: Target, exc: PlatformError) -> None:
    """The platform refused the account's token on the comment: the account needs a person,
    as when a post is refused (its next post would be refused the same way)."""
    import asyncio

    from herald.accounts import AccountStatus
    from herald.tokens import announce_needs_reauth

    account = await asyncio.to_thread(
        run.ports.accounts.mark_status,
        run.post.business_id,
        target.account_id,
        AccountStatus.NEEDS_REAUTH,
        exc.reason(),
    )
    try:
        await announce_needs_reauth(run.ports.events, account, exc.reason())
    except Exception:  # noqa: BLE001 - the account's status is the record; the event a courtesy
        logger.exception("could not announce account.needs_reauth")


async def _reconcile(
    run: CommentRun,
    target: Target,
    claim: CommentClaim,
    publisher: Any,
    creds: Credentials,
    parent: str,
    text: str,
    reason: str,
) -> CommentResult:
    skew = timedelta(seconds=run.ports.settings.publish_reconcile_skew_seconds)
    since_claim = claim.previous_claimed_at if claim.took_over else claim.comment.claimed_at
    since = parse_iso(since_claim) - skew if since_claim else run.ports.clock.now() - skew
    found: str | None = None
    try:
        found = await publisher.find_comment(creds, parent, text, since)
    except Exception:  # noqa: BLE001 - a failed lookup proves nothing: unconfirmed
        logger.warning("comment lookup failed", extra={"post_id": run.post.post_id}, exc_info=True)
    if found is not None:
        return await _record_published(run, target, claim, found, 1)
    why = f"{reason}; the platform may have the comment and no record proves it either way"
    return await _record_failure(run, target, claim, ErrorKind.AMBIGUOUS, why, unconfirmed=True)


async def _record_published(
    run: CommentRun, target: Target, claim: CommentClaim, comment_id: str, attempts: int
) -> CommentResult:
    import asyncio

    post = run.post
    total = claim.comment.attempts + max(0, attempts - 1)
    await asyncio.to_thread(
        run.store.record_comment_published,
        post.business_id,
        post.post_id,
        target.account_id,
        comment_id,
        run.now(),
        attempts=total,
    )
    return CommentResult(
        target.account_id, target.platform, TargetStatus.PUBLISHED, total, comment_id
    )


async def _record_failure(
    run: CommentRun,
    target: Target,
    claim: CommentClaim,
    kind: ErrorKind,
    reason: str,
    *,
    attempts: int = 1,
    retry_after: float | None = None,
    unconfirmed: bool = False,
) -> CommentResult:
    import asyncio

    post = run.post
    total = max(0, claim.comment.attempts + attempts - 1)
    status = TargetStatus.UNCONFIRMED if unconfirmed else TargetStatus.FAILED
    await asyncio.to_thread(
        run.store.record_comment_failure,
        post.business_id,
        post.post_id,
        target.account_id,
        status=status,
        reason=reason,
        kind=kind.value,
        claimed_at=claim.comment.claimed_at or "",
        now=run.now(),
        attempts=total,
    )
    result = CommentResult(
        target.account_id, target.platform, status, total, None, kind.value, reason, retry_after
    )
    final = unconfirmed or not kind.retryable or run.last_attempt
    if final:
        await _announce(run, target, result)
    return result


async def _announce(run: CommentRun, target: Target, result: CommentResult) -> None:
    from herald.events import publish_event

    post = run.post
    event = (
        COMMENT_UNCONFIRMED_EVENT
        if result.status == TargetStatus.UNCONFIRMED
        else COMMENT_FAILED_EVENT
    )
    payload = {
        "post_id": post.post_id,
        "business_id": post.business_id,
        "account_id": target.account_id,
        "platform": target.platform,
        "platform_post_id": target.platform_post_id,
        "attempts": result.attempts,
        "error_kind": result.error_kind,
        "reason": result.reason,
    }
    logger.warning("first comment not published", extra=payload)
    try:
        await publish_event(
            run.ports.events,
            event,
            payload,
            dedupe_key=f"{post.post_id}:{target.account_id}:comment:{result.attempts}",
        )
    except Exception:  # noqa: BLE001 - the comment's outcome is the record; the event a courtesy
        logger.exception("could not announce the first comment's failure")
