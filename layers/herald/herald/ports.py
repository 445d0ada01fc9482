"""The ports: what the use cases and the engine ask of the outside world, one small Protocol each.

    PostStore       the post item the engine writes: start, claim, record, close (store/posts.py)
    CommentStore    the first comments' claims and outcomes on the same item (store/comments.py)
    ScheduleStore   a scheduled post: create, read, edit, cancel, the calendar (store/schedule.py)
    DueIndex        the tick's view of the schedule: due posts, pending -> queued / missed
    PublishQueue    the publish messages, with their delay (SqsPublishQueue, herald.queue)
    EventPublisher  the domain events (TopicEvents, herald.events)
    AccountReader   accounts by key, many at once (store/accounts.py)
    AccountFlags    an account flagged for a person when a platform refuses its token
    EngineAccounts  the engine's and the worker's accounts: both of the above
    Tokens          an account's usable credentials, refreshed when they end soon (herald.tokens)
    Publishers      the platform's publisher, by name (herald.platforms.registry)
    Redelivery      when SQS delivers a received message again (herald.queue)
    Businesses      a business's own settings (store/businesses.py)
    MediaAttacher   the media library's files a post attaches (media/library.py)
    PostPublisher   the engine, herald.publishing.publish_post, bound to its ports
    Clock           herald.clock.Clock, re-used as it is

Each lists only the methods its callers use, with the arguments they pass, so a fake implements
what is asked and no more; mypy holds the real adapters and the fakes of tests/fakes/ to them
(tests/unit/test_ports.py). At run time this module imports the standard library and herald.clock;
the types the ports name are imported for type checking alone, so a handler that imports a use
case pays for no adapter.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from herald.clock import Clock

if TYPE_CHECKING:
    from herald.accounts import Account, AccountStatus, Credentials, PlatformName
    from herald.errors import FieldError
    from herald.media.model import Attachment, MediaRef
    from herald.platforms.base import Published, Publisher
    from herald.posts import Post, Target, TargetStatus
    from herald.publishing import CredentialsFor
    from herald.publishing_policy import PublishOutcome
    from herald.store.businesses import Business
    from herald.store.comments import CommentClaim
    from herald.store.posts import Claim, OwedEvent, Started
    from herald.store.schedule import DueEntry, Page

__all__ = [
    "AccountFlags",
    "AccountReader",
    "Businesses",
    "Clock",
    "CommentStore",
    "DueIndex",
    "EngineAccounts",
    "EventPublisher",
    "MediaAttacher",
    "PostPublisher",
    "PostStore",
    "PublishQueue",
    "Publishers",
    "Redelivery",
    "ScheduleStore",
    "Tokens",
]


class PostStore(Protocol):
    """The post item as the engine (herald.publishing) and publish-now write it: each write
    conditional, so two runs never publish a target twice."""

    def get(self, business_id: str, post_id: str) -> Post: ...

    def create(self, post: Post) -> None: ...

    def start(
        self,
        business_id: str,
        post_id: str,
        now: str,
        *,
        reopen: bool = False,
        scheduled_for: str | None = None,
    ) -> Post: ...

    def start_claiming(
        self,
        business_id: str,
        post_id: str,
        account_ids: list[str],
        *,
        now: str,
        stale_before: str,
        scheduled_for: str | None = None,
    ) -> Started | None: ...

    def claim_target(
        self,
        business_id: str,
        post_id: str,
        account_id: str,
        *,
        now: str,
        stale_before: str,
        any_failure: bool = False,
    ) -> Claim | None: ...

    def record_part_ids(
        self, business_id: str, post_id: str, account_id: str, part_ids: list[str], now: str
    ) -> None: ...

    def record_published(
        self,
        business_id: str,
        post_id: str,
        account_id: str,
        published: Published,
        now: str,
        *,
        attempts: int | None = None,
    ) -> None: ...

    def record_failure(
        self,
        business_id: str,
        post_id: str,
        account_id: str,
        *,
        status: TargetStatus,
        reason: str,
        kind: str,
        claimed_at: str,
        now: str,
        attempts: int | None = None,
        clear_state: bool = False,
    ) -> bool: ...

    def record_media_state(
        self,
        business_id: str,
        post_id: str,
        account_id: str,
        state: dict[str, Any],
        *,
        claimed_at: str,
        now: str,
    ) -> None: ...

    def record_processing(
        self,
        business_id: str,
        post_id: str,
        account_id: str,
        state: dict[str, Any],
        *,
        claimed_at: str,
        since: str,
        now: str,
    ) -> bool: ...

    def finish(self, business_id: str, post_id: str, now: str) -> Post | None: ...

    def finish_with(self, expected: Post, target: Target, now: str) -> Post | None: ...

    def pending_event(self, business_id: str, post_id: str) -> OwedEvent | None: ...

    def clear_pending_event(self, business_id: str, post_id: str, version: int) -> None: ...


class CommentStore(Protocol):
    """A published target's first comment, one level down on the post item (herald.comments)."""

    def get(self, business_id: str, post_id: str) -> Post: ...

    def claim_comment(
        self,
        business_id: str,
        post_id: str,
        account_id: str,
        *,
        now: str,
        stale_before: str,
        any_failure: bool = False,
    ) -> CommentClaim | None: ...

    def record_comment_published(
        self,
        business_id: str,
        post_id: str,
        account_id: str,
        comment_id: str,
        now: str,
        *,
        attempts: int,
    ) -> None: ...

    def record_comment_failure(
        self,
        business_id: str,
        post_id: str,
        account_id: str,
        *,
        status: TargetStatus,
        reason: str,
        kind: str,
        claimed_at: str,
        now: str,
        attempts: int,
    ) -> bool: ...


class ScheduleStore(Protocol):
    """Scheduled posts as the API's use cases keep them (herald.scheduled_posts)."""

    def get(self, business_id: str, post_id: str) -> Post: ...

    def create(self, post: Post) -> Post: ...

    def update_scheduled(self, post: Post, expected_version: int) -> Post: ...

    def cancel(self, business_id: str, post_id: str) -> Post: ...

    def calendar(
        self,
        business_id: str,
        *,
        statuses: list[str] | None = None,
        platform: str | None = None,
        start: str | None = None,
        end: str | None = None,
        newest_first: bool = True,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page: ...


class DueIndex(Protocol):
    """The schedule as the tick reads and moves it (herald.tick)."""

    def due(self, until: datetime, *, shards: Sequence[int] | None = None) -> list[DueEntry]: ...

    def mark_queued(self, entry: DueEntry, dispatch_id: str) -> DueEntry | None: ...

    def mark_missed(self, entry: DueEntry, reason: str) -> bool: ...

    def statuses(self, entries: list[DueEntry]) -> dict[str, dict[str, Any]]: ...


class PublishQueue(Protocol):
    """The publish messages the worker receives, each released after its delay."""

    def send(self, body: str, delay_seconds: int) -> None:
        """One message; raises when the queue refuses it."""
        ...

    def send_batch(self, messages: Sequence[tuple[str, int]]) -> list[int]:
        """Up to ten (body, delay) at once; the indexes of those the queue did not accept.
        Raises when the call itself failed (none was sent)."""
        ...


class EventPublisher(Protocol):
    """Domain events (herald.events): `dedupe_key` makes the event's id stable, so announcing
    the same fact twice gives subscribers one id to drop. Synchronous: async callers run it in
    a thread."""

    def publish(
        self, event_type: str, payload: dict[str, Any], *, dedupe_key: str | None = None
    ) -> str: ...


class AccountReader(Protocol):
    def get_many(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Account]: ...


class AccountFlags(Protocol):
    def mark_status(
        self, business_id: str, account_id: str, status: AccountStatus, reason: str | None
    ) -> Account: ...


class EngineAccounts(AccountReader, AccountFlags, Protocol):
    """The worker reads a batch's accounts at once; the engine flags one whose token a platform
    refused."""


class Tokens(Protocol):
    """Usable credentials for an account (herald.tokens): refreshed first when they end soon,
    under the account's refresh lock."""

    def credentials(self, business_id: str, account_id: str) -> Awaitable[Credentials]: ...

    def credentials_from(self, accounts: Mapping[tuple[str, str], Account]) -> CredentialsFor:
        """The same, over accounts already read (a worker batch's, publish-now's)."""
        ...


class Publishers(Protocol):
    """The publisher of each platform, looked up by the target's platform."""

    def __getitem__(self, platform: PlatformName) -> Publisher: ...


class Redelivery(Protocol):
    """A received publish message's own visibility: how soon SQS delivers it again."""

    def bring_back_after(self, receipt_handle: str, delay_seconds: int) -> None:
        """Best effort: if SQS refuses, the message comes back after the full timeout."""
        ...


class Businesses(Protocol):
    def get(self, business_id: str) -> Business: ...


class MediaAttacher(Protocol):
    def resolve(
        self, business_id: str, refs: Sequence[MediaRef]
    ) -> tuple[tuple[Attachment, ...], list[FieldError]]: ...

    def mark_used(self, attachments: Sequence[Attachment]) -> None: ...


class PostPublisher(Protocol):
    """Publish a stored post's unpublished targets, then its first comments (the engine)."""

    def __call__(
        self,
        business_id: str,
        post_id: str,
        *,
        retry_in_process: bool,
        retry_failed: bool = False,
        credentials: CredentialsFor | None = None,
        account_ids: Sequence[str] = (),
    ) -> Awaitable[PublishOutcome]: ...
