"""What the publish worker does with one SQS message.

    body -> publishing.publish_post -> done (published, failed, or skipped: cancelled, already out)
                       ├── retry_later -> RetryLater
                       └── another run holds a target -> RetryLater (see below)

The record handler raises for what SQS should deliver again and returns for everything final,
as Powertools' batch examples do; publish-once comes from the engine's conditional claims, not
from the queue, so a message delivered twice, or to two workers at once, publishes once.

    RetryLater          a target failed with a retryable error and receives remain, or DynamoDB
                        did not answer: SQS brings the message back after a short backoff
    (processing)        a platform is still processing a target's media: the message is sent
                        again with DelaySeconds and this delivery ends (herald.media.processing)
    MalformedMessage    the body is not a publish message, or names no post: it can never
                        succeed, so it is failed on every receive until SQS moves it to the DLQ
                        after maxReceiveCount (never an endless loop)

On the receive numbered `publish_max_receives` (the queue's maxReceiveCount) the engine is told
it is the last attempt: it marks the remaining targets failed with their reason and emits
`post.failed`, so the message ends as a final outcome rather than in the DLQ. A last receive
that ends with the post unsettled (the record not started, cut off at the deadline, or a target
held by another run) is handed to a new message instead (`Invocation._hand_over`): the receives
count attempts at the post, not deliveries that could not make one.

A batch's records run at once (`Invocation`), on the one event loop of the process (herald.aio),
at most `worker_concurrency` of them together: posts due at the same second go out together, not
one platform call apart. Each record's deadline is the invocation's: the Lambda time left less
`worker_safety_ms`. A record is started only with `worker_record_budget_seconds` of it left (else
it goes straight back to the queue, unclaimed), and one still running at the deadline is reported
failed rather than killed with the invocation: what it claimed is taken over and reconciled by the
delivery that follows, as after a crash (herald.publishing). Before that, the engine starts no
attempt, upload part or comment unless a platform call's timeout fits before the deadline
(`stop_by`): a long upload saves its state and the next delivery carries on from it.

Claim ahead, fire on time. The tick has a message arrive its lead before the post is due
(DISPATCH_EARLY_SECONDS, 3 s, more in a burst: herald.tick.lead_seconds). The record claims the
post and readies its credentials at once, then holds it and calls the platform when the clock
reaches the post's second, never before (`fire_at`, herald.publishing). A record is held only
within its invocation: one due later than the invocation could wait for it, and still have its
budget after, is returned unclaimed as a batch item failure, made visible again when a new
invocation can hold it. A second delivery of a held message finds the claim live and comes back
later (RetryLater), so the post still goes out once.

A batch shares its reads and its events (`Batch`): the accounts its messages name are read in one
request before the first record, and the final events go out in PublishBatch calls after the
last. A final event is not marked sent in DynamoDB: the message is the record that it is owed.
If the Lambda dies before the events go out, or SNS refuses one, the message comes back, the
engine finds the post finished and announces its event again under the same id.

The worker takes the engine's ports (herald.publishing.EnginePorts): the batch's accounts, its
outbox, the queue it sends a message again on and the visibility of the ones it received.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import AsyncBatchProcessor, EventType

from herald import aio
from herald.clock import parse_iso, seconds_until
from herald.errors import DependencyUnavailable, NotFound
from herald.observability import logger
from herald.posts import PostStatus

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    from herald.accounts import Account
    from herald.posts import Post
    from herald.publishing import Announce, CredentialsFor, EnginePorts


BOTO_CONNECTIONS = 50  # herald.container's max_pool_connections
# ChangeMessageVisibility's ceiling, 12 hours from the receive ("The maximum is 12 hours":
# https://docs.aws.amazon.com/sdkfornet/v3/apidocs/items/SQS/TChangeMessageVisibilityRequest.html)
MAX_VISIBILITY_SECONDS = 43_200


class RetryLater(Exception):
    """A transient failure: leave the message for SQS to deliver again.

    `delay_seconds`, when set, is how soon the message should come back. Without it the message
    waits out the queue's whole visibility timeout (370 s), which is right when another run holds
    a target but far too long for a platform 5xx or a short rate-limit window.
    """

    def __init__(self, detail: str, delay_seconds: int | None = None) -> None:
        super().__init__(detail)
        self.delay_seconds = delay_seconds


RETRY_BASE_SECONDS = 10
RETRY_MAX_SECONDS = 300


def retry_delay(receive_count: int, retry_after: float | None) -> int:
    """Exponential backoff by receive (10 s, 20 s, 40 s, ...), never sooner than the platform's
    own Retry-After, and never past the visibility timeout it replaces."""
    backoff = RETRY_BASE_SECONDS * 2 ** max(0, receive_count - 1)
    return int(min(RETRY_MAX_SECONDS, max(backoff, math.ceil(retry_after or 0))))


class MalformedMessage(Exception):
    """A message no delivery can ever handle."""


class HeldElsewhere(RetryLater):
    """Another run holds a target (the same message delivered to two workers at once)."""


class NotStarted(Exception):
    """Too little of the invocation was left to hold the record until its second and publish
    it: it goes back to the queue, nothing claimed, for an invocation with time to, in
    `back_in` seconds."""

    def __init__(self, detail: str, back_in: int) -> None:
        super().__init__(detail)
        self.back_in = back_in


class OutOfTime(Exception):
    """The record was still running at the invocation's deadline: reported failed so the
    invocation ends in time. SQS delivers it again after the visibility timeout, by when any
    claim it made is stale and the next run takes it over and reconciles it."""


@dataclass(frozen=True)
class PublishMessage:
    business_id: str
    post_id: str
    scheduled_for: str | None = None
    # The post's targets, as the tick queued it: the worker claims them all in its first write
    # and reads their accounts for the whole batch at once. Absent from older messages.
    account_ids: tuple[str, ...] = ()

    def due(self) -> datetime | None:
        """The second the post may go out, no earlier; None when the message names none."""
        if not self.scheduled_for:
            return None
        try:
            return parse_iso(self.scheduled_for)
        except ValueError:
            return None

    @classmethod
    def parse(cls, body: str) -> PublishMessage:
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise MalformedMessage("the body is not JSON") from exc
        if not isinstance(data, dict):
            raise MalformedMessage("the body is not a JSON object")
        business_id, post_id = data.get("business_id"), data.get("post_id")
        if not isinstance(business_id, str) or not isinstance(post_id, str):
            raise MalformedMessage("business_id and post_id are required strings")
        if not business_id or not post_id:
            raise MalformedMessage("business_id and post_id must not be empty")
        scheduled_for = data.get("scheduled_for")
        ids = data.get("account_ids")
        account_ids: tuple[str, ...] = ()
        if isinstance(ids, list) and all(isinstance(a, str) and a for a in ids):
            account_ids = tuple(ids)
        return cls(
            business_id,
            post_id,
            scheduled_for if isinstance(scheduled_for, str) else None,
            account_ids,
        )


class Batch:
    """What the records of one SQS batch share.

    Before the first record: every account the batch publishes to, in one BatchGetItem (the
    messages name them). After the last: every final event, in PublishBatch calls (see
    herald.events.EventOutbox). A full batch of single-target posts then costs one account read
    and one SNS request instead of ten each.
    """

    def __init__(self, ports: EnginePorts, bodies: list[str]) -> None:
        self.outbox = ports.outbox()
        wanted: list[tuple[str, str]] = []
        for body in bodies:
            try:
                message = PublishMessage.parse(body)
            except MalformedMessage:
                continue  # its own record fails; the rest of the batch goes on
            wanted += [(message.business_id, a) for a in message.account_ids]
        self.accounts: dict[tuple[str, str], Account] = {}
        if wanted:
            try:
                self.accounts = ports.accounts.get_many(wanted)
            except Exception:  # noqa: BLE001 - each record then reads its own accounts
                logger.warning("could not read the batch's accounts at once", exc_info=True)
        # Every record's credentials: from the accounts read here, else read as usual.
        self.credentials: CredentialsFor = ports.tokens.credentials_from(self.accounts)

    def announcer(self, owner: str) -> Announce:
        """The engine's `announce` for one record: its final event waits in the outbox."""

        async def announce(post: Post, event_type: str) -> str:
            from herald.publishing import final_event_key
            from herald.publishing_policy import event_payload

            return self.outbox.add(
                owner,
                event_type,
                event_payload(post),
                dedupe_key=final_event_key(post.post_id, post.version),
            )

        return announce

    def finish(self, response: Mapping[str, Any], stop_by: float | None = None) -> dict[str, Any]:
        """Send the batch's events, none starting after `stop_by`; a record whose event did not
        go out is reported failed, so it comes back and announces it again (the post, already
        final, is not republished)."""
        undelivered = self.outbox.flush(stop_by)
        failures: list[dict[str, str]] = list(response.get("batchItemFailures", []))
        reported = {f["itemIdentifier"] for f in failures}
        failures += [{"itemIdentifier": m} for m in sorted(undelivered - reported)]
        return {**response, "batchItemFailures": failures}


def handle_message(
    ports: EnginePorts,
    body: str,
    receive_count: int,
    *,
    batch: Batch | None = None,
    message_id: str = "",
) -> str:
    """Handle one message on its own; returns what happened (for the log). Raises to have it
    redelivered.

    Without `batch` (a message handled on its own) the accounts are read and the final event
    is sent by the engine itself."""

    async def handle() -> str:
        message = PublishMessage.parse(body)
        return await publish_message(
            ports, message, receive_count, batch=batch, message_id=message_id
        )

    return aio.run(handle())


async def publish_message(
    ports: EnginePorts,
    message: PublishMessage,
    receive_count: int,
    *,
    batch: Batch | None = None,
    message_id: str = "",
    stop_by: float | None = None,
) -> str:
    """Publish a message's post; returns what happened. Raises to have it redelivered.
    `stop_by`: the invocation's deadline (time.monotonic()), see publishing.publish_post."""
    from herald.publishing import publish_post  # httpx and the publishers: only when needed

    last = receive_count >= ports.settings.publish_max_receives
    try:
        # The engine loads the post and skips a cancelled, missed or finished one itself (and
        # announces a final event an earlier run died before sending): no second read here.
        outcome = await publish_post(
            ports,
            message.business_id,
            message.post_id,
            retry_in_process=False,
            last_attempt=last,
            account_ids=message.account_ids,
            # A post rescheduled after this message was sent is left to its new message.
            scheduled_for=message.scheduled_for,
            credentials=batch.credentials if batch else None,
            announce=batch.announcer(message_id) if batch else None,
            # Claimed and readied now; the platform call waits for the post's second.
            fire_at=message.due(),
            stop_by=stop_by,
        )
    except NotFound as exc:
        raise MalformedMessage(f"post {message.post_id} does not exist") from exc
    except DependencyUnavailable as exc:
        # DynamoDB (or another store) did not answer: what was written is conditional and what
        # was claimed goes stale, so the message may come back soon rather than after the whole
        # visibility timeout, while the post is still due now.
        raise RetryLater(
            f"post {message.post_id}: {exc}", delay_seconds=retry_delay(receive_count, None)
        ) from exc
    if outcome.check_again_in is not None:
        return await _check_again(ports, message, receive_count, outcome)
    if outcome.retry_later:
        raise RetryLater(
            f"post {message.post_id}: a target or a first comment failed with a retryable error "
            f"(receive {receive_count} of {ports.settings.publish_max_receives})",
            delay_seconds=retry_delay(receive_count, outcome.retry_after),
        )
    post = outcome.post
    if post is not None and post.status == PostStatus.PUBLISHING:
        # Another run holds a target (the same message delivered to two workers at once). If
        # this delivery were deleted and that run then died, nothing would bring the post back;
        # so it returns after the visibility timeout, by when the other run has finished (and
        # this delivery is a skip) or its claim is stale and is taken over and reconciled.
        raise HeldElsewhere(f"post {message.post_id}: another run still holds a target")
    if outcome.skipped:
        return f"skipped: {outcome.skipped}"
    return post.status.value if post is not None else "done"


async def _send_again(ports: EnginePorts, message: PublishMessage, delay: int) -> None:
    """The message sent again, delivered after `delay` seconds (raises if SQS refuses it)."""
    from herald.media.processing import send_again

    await asyncio.to_thread(
        send_again,
        ports.queue,
        message.business_id,
        message.post_id,
        delay=delay,
        scheduled_for=message.scheduled_for,
        account_ids=message.account_ids,
    )


async def _check_again(
    ports: EnginePorts, message: PublishMessage, receive_count: int, outcome: Any
) -> str:
    """A platform is processing a target's media: the message is sent again with DelaySeconds
    and this delivery ends as handled (herald.media.processing). A failed target that is
    retryable rides along: the same message comes back for it, sooner if its backoff is."""
    from herald.media.processing import delay_seconds

    wait = float(outcome.check_again_in)
    if outcome.retry_later:
        wait = min(wait, retry_delay(receive_count, outcome.retry_after))
    delay = delay_seconds(wait)
    try:
        await _send_again(ports, message, delay)
    except Exception as exc:
        logger.warning("could not send the message again; the delivery comes back instead")
        raise RetryLater(
            f"post {message.post_id}: media still processing", delay_seconds=delay
        ) from exc
    return f"processing: back in {delay} s"


class Invocation:
    """One invocation of the worker: its batch, its deadline and its concurrency.

    `handle` is the record handler of an asynchronous batch processor (the function's
    `RecordProcessor`): every record of the batch is handed to it at once, and at most
    `worker_concurrency` of them publish together. The deadline is taken from the Lambda
    context when the invocation starts (`remaining_ms`, its get_remaining_time_in_millis).
    """

    def __init__(
        self,
        ports: EnginePorts,
        records: list[dict[str, Any]],
        remaining_ms: Callable[[], int] | None = None,
    ) -> None:
        settings = ports.settings
        self.ports = ports
        self.batch = Batch(ports, [r.get("body", "") for r in records])
        self.slots = asyncio.Semaphore(max(1, settings.worker_concurrency))
        self.deadline: float | None = None
        # The batch's events may start in the first half of the time kept after the records;
        # the second half is the answer's.
        self.events_deadline: float | None = None
        if remaining_ms is not None:
            left = (remaining_ms() - settings.worker_safety_ms) / 1000
            self.deadline = time.monotonic() + left
            self.events_deadline = self.deadline + settings.worker_safety_ms / 2000
        # Each record's engine hands its DynamoDB calls to the loop's threads: one a record, up
        # to the 50 connections boto3 keeps (herald.container).
        aio.ensure_threads(min(BOTO_CONNECTIONS, max(1, settings.worker_concurrency)))

    def time_left(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()

    def back_in(self, early: float) -> int:
        """When a record returned unclaimed should be visible again: at once if it is due soon
        enough for a new invocation to hold it, else when it is (its lead at most before)."""
        hold = self.ports.settings.dispatch_early_max_seconds
        return min(MAX_VISIBILITY_SECONDS - 60, max(0, math.floor(early - hold)))

    async def handle(self, record: SQSRecord) -> str:
        """The record handler: every record that does not end here says why, in the log
        (Powertools' own failure handler says so only at debug level)."""
        said = {"message_id": record.message_id}
        receives = int(record.attributes.approximate_receive_count or 1)
        try:
            message = PublishMessage.parse(record.body)
            return await self._handle(record, message, receives)
        except (NotStarted, OutOfTime, HeldElsewhere) as unsettled:
            if receives >= self.ports.settings.publish_max_receives:
                return await self._hand_over(record, message, unsettled)
            logger.info("record back to the queue", extra={**said, "reason": str(unsettled)})
            raise
        except RetryLater as back:
            logger.info("record back to the queue", extra={**said, "reason": str(back)})
            raise
        except MalformedMessage as bad:
            logger.warning(
                "a message no delivery can handle: failed on every receive, then dead-lettered",
                extra={**said, "reason": str(bad)},
            )
            raise
        except Exception:
            logger.exception("record failed; SQS delivers it again", extra=said)
            raise

    async def _hand_over(
        self, record: SQSRecord, message: PublishMessage, unsettled: Exception
    ) -> str:
        """The queue's last receive, ending with the post unsettled: not started, cut off at the
        deadline, or held by another run. Rather than have SQS dead-letter a post whose last
        attempt was never made, a new message carries it on, once the hold or the claim it
        waits for is over (a claim cut off or held goes stale, and is then taken over and
        reconciled). If SQS refuses the new message, this one takes its usual way."""
        from herald.publishing import CLAIM_STALE_MARGIN_SECONDS

        settings = self.ports.settings
        if isinstance(unsettled, NotStarted):
            delay = unsettled.back_in
        else:
            delay = int(settings.publish_claim_stale_seconds) + CLAIM_STALE_MARGIN_SECONDS
        said = {"message_id": record.message_id, "reason": str(unsettled)}
        try:
            await _send_again(self.ports, message, delay)
        except Exception:  # noqa: BLE001 - the record fails as it would have, with its reason
            logger.exception("could not hand the last receive to a new message", extra=said)
            raise unsettled from None
        logger.warning("last receive handed to a new message", extra={**said, "delay": delay})
        return f"handed over: back in {delay} s"

    async def _handle(self, record: SQSRecord, message: PublishMessage, receives: int) -> str:
        ports = self.ports
        async with self.slots:
            # The record holds its slot while it waits for its second: its claim is made.
            early = seconds_until(ports.clock, message.due())
            left = self.time_left()
            if left is not None and left < early + ports.settings.worker_record_budget_seconds:
                back = self.back_in(early)
                await asyncio.to_thread(
                    ports.redelivery.bring_back_after, record.receipt_handle, back
                )
                raise NotStarted(
                    f"post {message.post_id}: due in {early:.1f} s with {max(0.0, left):.1f} s "
                    f"of the invocation left, too little to hold and publish it; back in {back} s",
                    back,
                )
            timer = asyncio.timeout(left)
            try:
                async with timer:
                    outcome = await publish_message(
                        ports,
                        message,
                        receives,
                        batch=self.batch,
                        message_id=record.message_id,
                        stop_by=self.deadline,
                    )
            except RetryLater as retry:
                if retry.delay_seconds is not None:
                    await asyncio.to_thread(
                        ports.redelivery.bring_back_after,
                        record.receipt_handle,
                        retry.delay_seconds,
                    )
                raise
            except TimeoutError as exc:
                if not timer.expired():
                    raise
                logger.warning(
                    "record still running at the invocation's deadline; reported failed",
                    extra={"message_id": record.message_id, "post_id": message.post_id},
                )
                raise OutOfTime(f"post {message.post_id}: still running at the deadline") from exc
        logger.info("message handled", extra={"message_id": record.message_id, "outcome": outcome})
        return outcome

    def finish(self, response: Mapping[str, Any]) -> dict[str, Any]:
        return self.batch.finish(response, stop_by=self.events_deadline)


class RecordProcessor(AsyncBatchProcessor):
    """Powertools' AsyncBatchProcessor (every record's handler at once, `batchItemFailures` for
    those that raised), run on the process's one event loop.

    Outside Lambda Powertools runs the batch with `asyncio.run`, a new loop per invocation,
    which would strand the container's Redis and httpx clients on a closed loop (herald.aio);
    inside Lambda it uses whichever loop is current. Here it is always herald.aio's.
    """

    def __init__(self) -> None:
        # A batch whose every record failed is answered like any other (each record listed)
        # rather than by raising: the outcome for SQS is the same, without an invocation error
        # and its alarm.
        super().__init__(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    def async_process(self) -> list[tuple[Any, ...]]:
        async def every_record() -> list[tuple[Any, ...]]:
            return list(await asyncio.gather(*map(self._async_process_record, self.records)))

        return aio.run(every_record())
