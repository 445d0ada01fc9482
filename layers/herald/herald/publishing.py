"""The publishing engine: one post, all its targets at once, each published at most once.

    load post ──> start (queued/publishing -> publishing) ──> per target, concurrently:
        claim (conditional write) ──> credentials ──> [hold until fire_at] ──> publisher.publish
        ──> record result
                     │                                     │ transient / rate limited: retry with
                     │                                     │ backoff + jitter, Retry-After honoured,
                     │                                     │ all inside the deadline
                     │                                     │ ambiguous: reconcile, never retry
                     └ not ours (published, claimed by a live run, unconfirmed): skip
    ──> finish (post status from its targets) ──> post.published | partially_published | failed

When the caller knows the post's targets (the worker's message names them; the API has just
created them), the start and every claim are one conditional write. The result of the post's
last unfinished target and the close of the post are one conditional write when this run knows
the post item exactly (its version). So a single-target post costs two writes and its event;
the worker reads a batch's accounts and sends its events once per batch (herald.worker). A
thread's parts are stored as each is confirmed, except the last, which the result write carries.
Anything failing before the platform was called (no credentials: Redis down while the token needs
a refresh) is not ambiguous: the claim is released as a transient failure.

The API calls it with `retry_in_process=True` (retries happen here, inside the 29 s of API
Gateway); the SQS worker with `retry_in_process=False`: a retryable failure leaves the target
failed-retryable and asks for redelivery (`PublishOutcome.retry_later`), so the queue's own
visibility timeout is the backoff and the DLQ the end of the line.

Claim ahead, fire on time: the worker passes `fire_at`, the second the post is due. Everything
before the platform call (the claim, the credentials, a token refresh) happens as soon as the
message arrives, and the call itself waits for the clock to reach `fire_at`, never earlier; so a
burst's claims are done before its second and its posts go out at it (herald.worker).

The window no conditional write can close: the platform accepted a post and this Lambda died
before recording it. The target stays `publishing`; once the claim is stale the next run takes it
over and reconciles against the account's recent posts before it would post again, and marks it
`unconfirmed` when it cannot prove either way.

The engine, its first comments (herald.comments) and the worker read and write through their
ports (EnginePorts, from `Container.engine_ports`, built once per container): the post and
comment stores, the accounts, the publishers, the media bucket, tokens, events, the queue and
the clock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from herald import aio
from herald.accounts import AccountStatus, Credentials
from herald.clock import isoformat, parse_iso, seconds_until
from herald.errors import Conflict, NotFound
from herald.media.streams import MediaReadError
from herald.observability import logger
from herald.platforms.base import (
    Content,
    ErrorKind,
    PlatformError,
    Progress,
    Published,
    Publisher,
    StillProcessing,
)
from herald.posts import FINAL_POST_STATES, Post, PostStatus, Rescheduled, Target, TargetStatus
from herald.posts.events import event_type_for
from herald.publishing_policy import (
    PublishOutcome,
    RetryPolicy,
    TargetResult,
    event_payload,
    longest_wait,
    wants_redelivery,
)

if TYPE_CHECKING:
    from herald.events import EventOutbox
    from herald.media.model import ChunkSource
    from herald.ports import (
        Clock,
        CommentStore,
        EngineAccounts,
        EventPublisher,
        PostStore,
        Publishers,
        PublishQueue,
        Redelivery,
        Tokens,
    )
    from herald.settings import Settings
    from herald.store.posts import Claim, Started

# An account's usable credentials, by (business_id, account_id).
CredentialsFor = Callable[[str, str], Awaitable[Credentials]]
# Sends a finished post's final event (`post.published`, ...) and returns its id.
Announce = Callable[[Post, str], Awaitable[str]]
UNCONFIRMED_EVENT = "post.target_unconfirmed"
ACTION_REQUIRED_EVENT = "platform.action_required"
CLAIM_STALE_MARGIN_SECONDS = 5


@dataclass(frozen=True)
class EnginePorts:
    """What the engine, its first comments and the worker use (herald.ports), from
    `Container.engine_ports`: built once per container, so a record costs attribute reads."""

    settings: Settings
    posts: PostStore
    comments: CommentStore
    accounts: EngineAccounts
    publishers: Publishers
    media: ChunkSource  # the media bucket, which a target's attachments are read from
    tokens: Tokens
    events: EventPublisher
    outbox: Callable[[], EventOutbox]  # a worker batch's final events, sent at its end
    queue: PublishQueue  # where the worker sends a message again (media still processing)
    redelivery: Redelivery
    clock: Clock


def _now(ports: EnginePorts) -> str:
    return isoformat(ports.clock.now())


@dataclass
class _Run:
    ports: EnginePorts
    post: Post
    policy: RetryPolicy
    retry_in_process: bool
    any_failure: bool
    credentials: CredentialsFor
    # Every write of a run lands on the one post item, which DynamoDB serializes anyway; doing
    # them one at a time here costs little and keeps them in order. Runs of different posts (the
    # worker's concurrent records) call the shared table from several threads at once: its
    # client is thread-safe, and the repositories' expressions are strings, never Attr()
    # conditions, whose builder is shared by every thread (see herald.store.accounts).
    db_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last_attempt: bool = True  # a retryable failure is final: no redelivery will follow
    # The post item exactly as this run's own writes left it, while nothing else is known to
    # have changed it: what lets the last result and the post's close share one write.
    state: Post | None = None
    finished: Post | None = None  # closed by this run's last result write
    # A target's last confirmed part ids, not written yet: the result write carries them.
    unsaved_parts: dict[str, list[str]] = field(default_factory=dict)
    fire_at: datetime | None = None  # no platform call before this (the post's second)

    @property
    def repo(self) -> PostStore:
        return self.ports.posts

    def content_for(self, target: Target) -> Content:
        """What `target` publishes (the shared content with its variants applied), its
        attachments bound to the media bucket, so a publisher can stream their bytes
        (herald.media.streams)."""
        content = self.post.content_for(target)
        if not content.attachments:
            return content
        source = self.ports.media
        return replace(content, attachments=tuple(a.bound(source) for a in content.attachments))

    def claimed(self, claim: Claim, now: str) -> None:
        state = self.state
        if state is None or claim.version is None or claim.version != state.version + 1:
            self.state = None
        else:
            self.state = replace(
                state.with_target(claim.target),
                status=PostStatus.PUBLISHING,
                version=claim.version,
                updated_at=now,
            )

    async def db[T](self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        async with self.db_lock:
            return await asyncio.to_thread(fn, *args, **kwargs)


async def publish_post(
    ports: EnginePorts,
    business_id: str,
    post_id: str,
    *,
    retry_in_process: bool,
    last_attempt: bool = True,
    retry_failed: bool = False,
    credentials: CredentialsFor | None = None,
    account_ids: Sequence[str] = (),
    announce: Announce | None = None,
    scheduled_for: str | None = None,
    fire_at: datetime | None = None,
    stop_by: float | None = None,
) -> PublishOutcome:
    """Publish every unpublished target of a post, then the first comments its published
    targets owe (herald.comments); safe to call twice at once or again later.

    See `_publish_targets` for the arguments. `stop_by` (time.monotonic()) is when the caller
    will cut the run off (the worker's invocation deadline): no attempt, upload part or comment
    starts unless a platform call's timeout still fits before it, so a long upload saves its
    state and hands over to the next delivery rather than being cut off mid-call.
    """
    # Counted from the post's second when the call waits for it.
    deadline = (
        time.monotonic()
        + ports.settings.publish_deadline_seconds
        + seconds_until(ports.clock, fire_at)
    )
    if stop_by is not None:
        deadline = min(deadline, stop_by - ports.settings.platform_timeout_seconds)
    if credentials is None:
        credentials = ports.tokens.credentials
    outcome = await _publish_targets(
        ports,
        business_id,
        post_id,
        retry_in_process=retry_in_process,
        last_attempt=last_attempt,
        retry_failed=retry_failed,
        credentials=credentials,
        account_ids=account_ids,
        announce=announce,
        scheduled_for=scheduled_for,
        fire_at=fire_at,
        deadline=deadline,
    )
    return await _then_comments(
        ports,
        outcome,
        credentials,
        deadline=deadline,
        retry_in_process=retry_in_process,
        last_attempt=last_attempt or retry_in_process,
        any_failure=retry_failed,
    )


async def _then_comments(
    ports: EnginePorts,
    outcome: PublishOutcome,
    credentials: CredentialsFor,
    *,
    deadline: float,
    retry_in_process: bool,
    last_attempt: bool,
    any_failure: bool,
) -> PublishOutcome:
    """The first comments the post's published targets owe, once the targets' outcome is
    written and announced: a comment never holds up or changes its post's outcome. A comment
    that failed retryably, or that another live run holds, asks for redelivery like a target."""
    from herald.comments import CommentRun, owed, publish_comments

    post = outcome.post
    if post is None or not owed(post, any_failure=any_failure):
        return outcome
    settings = ports.settings
    run = CommentRun(
        ports=ports,
        post=post,
        policy=RetryPolicy(
            attempts=max(1, settings.publish_retry_attempts) if retry_in_process else 1,
            initial=settings.publish_retry_delay,
            deadline=deadline,
            attempt_budget=settings.platform_timeout_seconds,
        ),
        credentials=credentials,
        last_attempt=last_attempt,
        any_failure=any_failure,
    )
    results = tuple(await publish_comments(run))
    latest: Post = await asyncio.to_thread(ports.posts.get, post.business_id, post.post_id)
    held = any(r.held for r in results)
    again = held or (not last_attempt and any(r.retryable_failure for r in results))
    waits = [r.retry_after for r in results if r.retry_after is not None]
    if held:
        waits.append(settings.publish_claim_stale_seconds + CLAIM_STALE_MARGIN_SECONDS)
    retry_after = max([w for w in (outcome.retry_after, *waits) if w is not None], default=None)
    return replace(
        outcome,
        post=latest,
        comments=results,
        retry_later=outcome.retry_later or again,
        retry_after=retry_after,
    )


async def _publish_targets(
    ports: EnginePorts,
    business_id: str,
    post_id: str,
    *,
    retry_in_process: bool,
    last_attempt: bool,
    retry_failed: bool,
    credentials: CredentialsFor,
    account_ids: Sequence[str],
    announce: Announce | None,
    scheduled_for: str | None,
    fire_at: datetime | None,
    deadline: float,
) -> PublishOutcome:
    """Publish every unpublished target of a post.

    `retry_failed` re-opens a failed or partly published post and retries its failed targets
    whatever the reason (a person asked); otherwise only retryable failures are picked up again.
    `account_ids`, when the caller knows the post's targets (the worker, from its message), lets
    the start and every claim be one write. `announce` sends the final event; by default it is
    published at once and then forgotten (see `_announce_now`). `scheduled_for`: the time the
    worker's message is for. The post is read by the write that claims it, so a queued post
    edited since publishes as edited; one rescheduled since is left alone (`skipped`, no post:
    the message for its new time publishes it). `fire_at`: claim and prepare now, call the
    platform no earlier than this (by `ports.clock`). `deadline` (time.monotonic()): no attempt
    or upload part starts after it.
    """
    repo: PostStore = ports.posts
    started: Started | None = None
    try:
        if account_ids and not retry_failed:
            started = await asyncio.to_thread(
                repo.start_claiming,
                business_id,
                post_id,
                list(account_ids),
                now=_now(ports),
                stale_before=_stale_before(ports),
                scheduled_for=scheduled_for,
            )
        post: Post = (
            started.post
            if started is not None
            else await asyncio.to_thread(
                partial(repo.start, reopen=retry_failed, scheduled_for=scheduled_for),
                business_id,
                post_id,
                _now(ports),
            )
        )
    except Rescheduled as exc:
        logger.info("message for a rescheduled post dropped", extra={"post_id": post_id})
        return PublishOutcome(post_id, None, skipped=exc.detail)
    except Conflict:
        current: Post = await asyncio.to_thread(repo.get, business_id, post_id)
        event_ids: list[str] = []
        if current.status in FINAL_POST_STATES:
            # A redelivery after the run that finished it may have died before announcing it.
            event_ids = await _announce_pending(ports, current)
        skipped = f"post is {current.status}"
        return PublishOutcome(
            post_id, current.status, post=current, skipped=skipped, event_ids=event_ids
        )

    settings = ports.settings
    run = _Run(
        ports=ports,
        post=post,
        policy=RetryPolicy(
            attempts=max(1, settings.publish_retry_attempts) if retry_in_process else 1,
            initial=settings.publish_retry_delay,
            deadline=deadline,
            attempt_budget=settings.platform_timeout_seconds,
        ),
        retry_in_process=retry_in_process,
        any_failure=retry_failed,
        credentials=credentials,
        last_attempt=last_attempt or retry_in_process,
        state=post,
        fire_at=fire_at,
    )
    claims = started.claims if started is not None else {}
    todo = [
        t
        for t in post.targets.values()
        if t.status not in (TargetStatus.PUBLISHED, TargetStatus.UNCONFIRMED)
        or t.account_id in claims
    ]
    # Every target at once: a 4-target post takes as long as its slowest platform, not the sum.
    # One target's failure is raised only once every target has finished: a sibling left
    # running would outlive this run (on Lambda, frozen with the invocation and resumed by a
    # later one) and could publish after the message came back and its claim was taken over.
    gathered = await asyncio.gather(
        *(_publish_target(run, t, claims.get(t.account_id)) for t in todo),
        return_exceptions=True,
    )
    for failed in gathered:
        if isinstance(failed, BaseException):
            raise failed
    results = tuple(r for r in gathered if isinstance(r, TargetResult))
    announce = announce or partial(_announce_now, ports)

    if run.finished is not None:
        done = run.finished
        event_ids = [await announce(done, event_type_for(done.status))]
        return PublishOutcome(
            post_id,
            done.status,
            results,
            post=done,
            retry_after=longest_wait(results),
            event_ids=event_ids,
        )
    waiting = [r.retry_after or 1.0 for r in results if r.status == TargetStatus.PROCESSING]
    if waiting:
        # A platform is still processing a target's media: the post is not finished. The
        # caller has the message come back then (herald.media.processing).
        now_stored: Post = await asyncio.to_thread(repo.get, business_id, post_id)
        return PublishOutcome(
            post_id,
            now_stored.status,
            results,
            post=now_stored,
            retry_later=wants_redelivery(results, last_attempt=last_attempt or retry_in_process),
            retry_after=longest_wait(
                tuple(r for r in results if r.status != TargetStatus.PROCESSING)
            ),
            check_again_in=min(waiting),
        )
    if wants_redelivery(results, last_attempt=last_attempt or retry_in_process):
        latest: Post = await asyncio.to_thread(repo.get, business_id, post_id)
        return PublishOutcome(
            post_id,
            latest.status,
            results,
            post=latest,
            retry_later=True,
            retry_after=longest_wait(results),
        )
    finished: Post | None = await asyncio.to_thread(repo.finish, business_id, post_id, _now(ports))
    event_ids = [await announce(finished, event_type_for(finished.status))] if finished else []
    final: Post = (
        finished
        if finished is not None
        else await asyncio.to_thread(repo.get, business_id, post_id)
    )
    if finished is None and final.status in FINAL_POST_STATES:
        # Another run closed it (the same message delivered to two workers at once). Its event
        # may still wait in that run's batch, and this delivery's success deletes the message
        # that would bring it back: announce it here too, under the same id.
        event_ids = await _announce_pending(ports, final)
    return PublishOutcome(
        post_id,
        final.status,
        results,
        post=final,
        retry_after=longest_wait(results),
        event_ids=event_ids,
    )


def final_event_key(post_id: str, version: int) -> str:
    """The dedupe key of a post's final event: the post and the version its close wrote, so
    announcing the same outcome twice (a crash between the close and the send, a redelivery)
    gives subscribers the same event id to drop."""
    return f"{post_id}:{version}"


async def _announce_now(
    ports: EnginePorts, post: Post, event_type: str, version: int | None = None
) -> str:
    """Publish the final event, then forget that the post owes it (the close wrote
    `pending_event`), so a later call that finds the post finished does not announce it again.
    The worker passes its own `announce` instead: its message is the record of the debt."""
    from herald.events import publish_event

    closed_at = post.version if version is None else version
    event_id = await publish_event(
        ports.events,
        event_type,
        event_payload(post),
        dedupe_key=final_event_key(post.post_id, closed_at),
    )
    await asyncio.to_thread(
        ports.posts.clear_pending_event, post.business_id, post.post_id, closed_at
    )
    return event_id


async def _announce_pending(ports: EnginePorts, post: Post) -> list[str]:
    """The final event a finished post still owes (its run died before announcing it, or the
    worker announced it and its message came back): published again, same id."""
    owed = await asyncio.to_thread(ports.posts.pending_event, post.business_id, post.post_id)
    if owed is None:
        return []
    return [await _announce_now(ports, post, owed.event_type, owed.version)]


def _stale_before(ports: EnginePorts) -> str:
    """Claims older than this belong to a run that died mid-publish."""
    age = timedelta(seconds=ports.settings.publish_claim_stale_seconds)
    return isoformat(ports.clock.now() - age)


async def _publish_target(run: _Run, target: Target, claim: Claim | None) -> TargetResult | None:
    """`claim` is the target's claim when the start already made it (the post's state then
    includes it), else the target is claimed here."""
    ports, post = run.ports, run.post
    if claim is None:
        now = _now(ports)
        claim = await run.db(
            run.repo.claim_target,
            post.business_id,
            post.post_id,
            target.account_id,
            now=now,
            stale_before=_stale_before(ports),
            any_failure=run.any_failure,
        )
        if claim is None:
            return None  # published, unconfirmed, or another live run holds it
        run.claimed(claim, now)
    claimed: Target = claim.target
    try:
        creds = await run.credentials(post.business_id, claimed.account_id)
    except NotFound:
        if claim.took_over:
            return await _unprovable(run, claimed, _cannot_look("the account is disconnected"))
        return await _fail(run, claimed, ErrorKind.PLATFORM_ERROR, "the account is disconnected")
    except PlatformError as exc:
        if claim.took_over and exc.kind.retryable:
            return await _unsent(run, claim, exc)
        if claim.took_over:
            # The dead run may have posted and, without credentials, nothing can look: a
            # person decides. The account still needs reconnecting if the platform said so.
            if exc.kind == ErrorKind.AUTH_REVOKED:
                await _needs_reauth(run, claimed, exc, announce=False)
            return await _unprovable(run, claimed, _cannot_look(exc.reason()))
        return await _platform_failure(run, claimed, exc, None)
    except Exception as exc:  # noqa: BLE001 - nothing was sent, so nothing is ambiguous
        return await _unsent(run, claim, exc)
    publisher: Publisher = ports.publishers[claimed.platform]
    state = claimed.media_state or {}
    if claim.took_over and state and not state.get("posting"):
        # The dead run was still uploading (its state says the post-creating call was never
        # made): nothing can be out, so this run resumes the uploads from that state.
        logger.warning(
            "taking over a stale claim mid-upload: resuming from its media state",
            extra={"post_id": post.post_id, "account_id": claimed.account_id},
        )
    elif claim.took_over:
        # The run that held this claim died mid-publish: it may have posted. Never post again
        # blind; look for it first.
        logger.warning(
            "taking over a stale claim",
            extra={"post_id": post.post_id, "account_id": claimed.account_id},
        )
        return await _reconcile(
            run,
            claimed,
            publisher,
            creds,
            "a previous run died mid-publish",
            # That run may have posted any time after its own claim, not only after ours.
            since_claim=claim.previous_claimed_at,
        )

    content = run.content_for(claimed)

    async def record(part_ids: list[str]) -> None:
        if len(part_ids) >= len(content.parts):
            # The last part (the only one of a single post): the result write stores it, so a
            # retry after a failure past this point still resumes after it.
            run.unsaved_parts[claimed.account_id] = list(part_ids)
            return
        run.state = None
        await run.db(
            run.repo.record_part_ids,
            post.business_id,
            post.post_id,
            claimed.account_id,
            part_ids,
            _now(ports),
        )

    async def save(media_state: dict[str, Any]) -> None:
        run.state = None
        await run.db(
            run.repo.record_media_state,
            post.business_id,
            post.post_id,
            claimed.account_id,
            media_state,
            claimed_at=claimed.claimed_at or "",
            now=_now(ports),
        )

    progress = Progress(
        part_ids=list(claimed.part_ids),
        record=record,
        state=dict(state),
        save=save,
        deadline=run.policy.deadline,
    )
    if run.fire_at is not None:
        # Claimed and ready: the platform call itself waits for the post's second.
        await aio.ready_http_backend()
        await ports.clock.sleep_until(run.fire_at)
    attempts = 0
    try:
        while True:
            try:
                async for attempt in run.policy.attempts_of(time.monotonic):
                    with attempt:
                        attempts += 1
                        published = await publisher.publish(creds, content, progress)
                break
            except StillProcessing as wait:
                if not _waits_here(run, wait):
                    return await _processing(run, claimed, wait, progress)
                await asyncio.sleep(wait.after_seconds)
    except PlatformError as exc:
        return await _platform_failure(run, claimed, exc, publisher, creds, attempts)
    except MediaReadError as exc:
        # A media file could not be read from the bucket (gone, S3 out of reach): nothing was
        # posted (files are read before the post is made), so it is retried like any transient
        # failure and the uploads resume from the saved state.
        return await _fail(run, claimed, ErrorKind.TRANSIENT, f"media: {exc}", attempts=attempts)
    except Conflict:
        # Saving the media state found the claim taken over: a later run owns the target now.
        logger.warning(
            "lost the claim while uploading media; the run that took it over continues",
            extra={"post_id": post.post_id, "account_id": claimed.account_id},
        )
        return None
    except Exception as exc:  # noqa: BLE001 - anything may have happened after sending
        # A bug or an unmapped error after the request went out (a 201 we failed to parse):
        # the post may be live, so it is treated like a timeout, never retried blind.
        logger.exception("publisher raised an unexpected error", extra={"post_id": post.post_id})
        reason = f"{claimed.platform}: unexpected error ({type(exc).__name__})"
        return await _reconcile(run, claimed, publisher, creds, reason)
    return await _published(run, claimed, published, attempts)


def _waits_here(run: _Run, wait: StillProcessing) -> bool:
    """The API (publish now) waits out a short processing in process, inside its deadline; the
    worker never does: its message comes back instead."""
    if not run.retry_in_process:
        return False
    settings = run.ports.settings
    left = run.policy.deadline - time.monotonic() - run.policy.attempt_budget
    return wait.after_seconds <= min(settings.media_inline_wait_seconds, left)


async def _processing(
    run: _Run, target: Target, wait: StillProcessing, progress: Progress
) -> TargetResult | None:
    """Record the target `processing` with its media state, for the delivery that comes back
    after `wait.after_seconds`; past the processing timeout, fail it instead."""
    ports = run.ports
    now = ports.clock.now()
    since = target.processing_since or isoformat(now)
    waited = (now - parse_iso(since)).total_seconds()
    limit = ports.settings.media_processing_timeout_seconds
    if waited >= limit:
        reason = (
            f"{target.platform}: the {wait.what} was still processing after {waited:.0f} s "
            f"(Herald waits {limit} s): nothing was posted; retry the post to upload it again"
        )
        return await _fail(run, target, ErrorKind.PLATFORM_ERROR, reason)
    run.state = None
    recorded = await run.db(
        run.repo.record_processing,
        run.post.business_id,
        run.post.post_id,
        target.account_id,
        progress.state,
        claimed_at=target.claimed_at or "",
        since=since,
        now=isoformat(now),
    )
    if not recorded:
        return None  # the claim was taken over: that run carries on
    return TargetResult(
        target.account_id,
        target.platform,
        TargetStatus.PROCESSING,
        attempts=target.attempts,
        reason=str(wait),
        retry_after=wait.after_seconds,
    )


async def _unsent(run: _Run, claim: Claim, exc: Exception) -> TargetResult:
    """The credentials could not be had (Redis down while the token needs a refresh, say):
    the platform was never called, so the claim is released as a transient failure and the
    next delivery publishes normally, instead of taking a stale claim over and reconciling a
    post that was never sent."""
    target = claim.target
    reason = f"credentials unavailable ({type(exc).__name__}: {exc})"
    logger.warning(
        "no credentials for a claimed target",
        extra={"post_id": run.post.post_id, "account_id": target.account_id},
        exc_info=True,
    )
    if claim.took_over and run.last_attempt:
        # No later run will take it over again: unconfirmed rather than left publishing.
        return await _unprovable(run, target, _cannot_look(reason))
    if claim.took_over:
        # The claim we replaced belonged to a run that may have posted: keep holding it so the
        # next run takes it over again and reconciles, rather than publishing blind. That run
        # should come once the claim is stale: sooner, it would only find the claim live.
        stale = run.ports.settings.publish_claim_stale_seconds
        return TargetResult(
            target.account_id,
            target.platform,
            TargetStatus.FAILED,
            attempts=target.attempts,
            error_kind=ErrorKind.TRANSIENT.value,
            reason=reason,
            retry_after=stale + CLAIM_STALE_MARGIN_SECONDS,
        )
    # The claim counted an attempt the platform never saw.
    return await _fail(run, target, ErrorKind.TRANSIENT, reason, attempts=0)


async def _published(
    run: _Run, target: Target, published: Published, attempts: int = 1
) -> TargetResult:
    post = run.post
    total = target.attempts + max(0, attempts - 1)
    now = _now(run.ports)
    done = replace(
        target,
        status=TargetStatus.PUBLISHED,
        attempts=total,
        platform_post_id=published.platform_post_id,
        url=published.url,
        part_ids=tuple(published.part_ids) or (published.platform_post_id,),
        last_error=None,
        error_kind=None,
        published_at=now,
    )
    if not await _finish_with(run, done):
        await run.db(
            run.repo.record_published,
            post.business_id,
            post.post_id,
            target.account_id,
            published,
            now,
            attempts=total,
        )
    return TargetResult(
        target.account_id,
        target.platform,
        TargetStatus.PUBLISHED,
        attempts=total,
        platform_post_id=published.platform_post_id,
        url=published.url,
    )


async def _finish_with(run: _Run, target: Target) -> bool:
    """Record `target`'s result and close the post in one write, when it is the post's last
    unfinished target and this run knows the post exactly; False when it is not (nothing was
    written) and the caller records the result on its own."""
    expected, run.state = run.state, None
    if expected is None:
        return False
    finished: Post | None = await run.db(run.repo.finish_with, expected, target, _now(run.ports))
    if finished is None:
        return False
    run.finished = finished
    return True


async def _platform_failure(
    run: _Run,
    target: Target,
    exc: PlatformError,
    publisher: Publisher | None,
    creds: Credentials | None = None,
    attempts: int = 1,
) -> TargetResult:
    if exc.kind == ErrorKind.AMBIGUOUS and publisher is not None and creds is not None:
        return await _reconcile(run, target, publisher, creds, exc.reason())
    if exc.kind == ErrorKind.AUTH_REVOKED:
        # From the platform itself: news to announce. From the credentials: the account was
        # flagged (and announced) already, by the refresh or an earlier post.
        await _needs_reauth(run, target, exc, announce=publisher is not None)
    result = await _fail(run, target, exc.kind, exc.reason(), exc.retry_after, attempts)
    if exc.kind.needs_operator:
        await _announce_action_required(run, target, result)
    return result


async def _announce_action_required(run: _Run, target: Target, result: TargetResult) -> None:
    """A failure no post can fix (a retired API version, used-up credits): besides the post's
    own failure event, one the people running Herald subscribe to."""
    from herald.events import publish_event

    post = run.post
    payload = {
        "post_id": post.post_id,
        "business_id": post.business_id,
        "account_id": target.account_id,
        "platform": target.platform,
        "error_kind": result.error_kind,
        "reason": result.reason,
    }
    logger.error("platform needs an operator", extra=payload)
    await publish_event(
        run.ports.events,
        ACTION_REQUIRED_EVENT,
        payload,
        dedupe_key=f"{post.post_id}:{target.account_id}:{result.error_kind}:{result.attempts}",
    )


async def _needs_reauth(run: _Run, target: Target, exc: PlatformError, *, announce: bool) -> None:
    account = await run.db(
        run.ports.accounts.mark_status,
        run.post.business_id,
        target.account_id,
        AccountStatus.NEEDS_REAUTH,
        exc.reason(),
    )
    if announce:
        from herald.tokens import announce_needs_reauth

        try:
            await announce_needs_reauth(run.ports.events, account, exc.reason())
        except Exception:  # noqa: BLE001 - the account's status is the record; the event a courtesy
            logger.exception("could not announce account.needs_reauth")


async def _fail(
    run: _Run,
    target: Target,
    kind: ErrorKind,
    reason: str,
    retry_after: float | None = None,
    attempts: int = 1,
    status: TargetStatus = TargetStatus.FAILED,
) -> TargetResult:
    post = run.post
    total = max(0, target.attempts + attempts - 1)
    now = _now(run.ports)
    unsaved = run.unsaved_parts.get(target.account_id)
    # A failure a retry will not fix forgets the media state: a person's retry uploads afresh
    # rather than resume from ids the platform refused. A retryable one keeps it to resume.
    clear_state = not kind.retryable and target.media_state is not None
    done = replace(
        target,
        status=status,
        attempts=total,
        last_error=reason,
        error_kind=kind.value,
        part_ids=tuple(unsaved) if unsaved is not None else target.part_ids,
        media_state=None if clear_state else target.media_state,
        processing_since=None if clear_state else target.processing_since,
    )
    final = not (status == TargetStatus.FAILED and kind.retryable and not run.last_attempt)
    if not (final and await _finish_with(run, done)):
        run.state = None
        if unsaved is not None:
            await run.db(
                run.repo.record_part_ids,
                post.business_id,
                post.post_id,
                target.account_id,
                unsaved,
                now,
            )
        await run.db(
            run.repo.record_failure,
            post.business_id,
            post.post_id,
            target.account_id,
            status=status,
            reason=reason,
            kind=kind.value,
            claimed_at=target.claimed_at or "",
            now=now,
            attempts=total,
            clear_state=clear_state,
        )
    return TargetResult(
        target.account_id,
        target.platform,
        status,
        attempts=total,
        error_kind=kind.value,
        reason=reason,
        retry_after=retry_after,
    )


async def _reconcile(
    run: _Run,
    target: Target,
    publisher: Publisher,
    creds: Credentials,
    reason: str,
    since_claim: str | None = None,
) -> TargetResult:
    """After an ambiguous outcome: published if the account's recent posts show it, else
    `unconfirmed` with an event, so a person decides. Never a blind retry. The look starts at
    `since_claim` (a dead run's claim) or this run's own claim, less the allowed clock skew."""
    skew = timedelta(seconds=run.ports.settings.publish_reconcile_skew_seconds)
    claimed_at = since_claim or target.claimed_at
    since = parse_iso(claimed_at) - skew if claimed_at else run.ports.clock.now()
    found: Published | None = None
    try:
        found = await publisher.find_recent(creds, run.post.content_for(target), since)
    except Exception:  # noqa: BLE001 - a failed lookup proves nothing: unconfirmed
        logger.warning(
            "reconciliation lookup failed",
            extra={"post_id": run.post.post_id, "account_id": target.account_id},
            exc_info=True,
        )
    if found is not None:
        logger.info(
            "ambiguous outcome reconciled: the post is live",
            extra={"post_id": run.post.post_id, "account_id": target.account_id},
        )
        return await _published(run, target, found)
    return await _unprovable(
        run, target, f"{reason}; the platform may have the post and no record proves it either way"
    )


def _cannot_look(why: str) -> str:
    return f"a previous run died mid-publish and may have posted; it cannot be checked: {why}"


async def _unprovable(run: _Run, target: Target, reason: str) -> TargetResult:
    """`unconfirmed`, with an event: the platform may have the post and nothing here can tell."""
    result = await _fail(run, target, ErrorKind.AMBIGUOUS, reason, status=TargetStatus.UNCONFIRMED)
    await _announce_unconfirmed(run, target, result)
    return result


async def _announce_unconfirmed(run: _Run, target: Target, result: TargetResult) -> None:
    from herald.events import publish_event

    post = run.post
    payload = {
        "post_id": post.post_id,
        "business_id": post.business_id,
        "account_id": target.account_id,
        "platform": target.platform,
        "attempts": target.attempts,
        "reason": result.reason,
    }
    await publish_event(
        run.ports.events,
        UNCONFIRMED_EVENT,
        payload,
        dedupe_key=f"{post.post_id}:{target.account_id}:{target.attempts}",
    )
