"""Stateful fakes for the publishing engine: an in-memory post repository with the same
conditional semantics as the DynamoDB one (deciding with herald.posts.lifecycle's moves and claim
rules, from which the real one builds its conditions), publishers that remember what went live
and can be told to fail, accounts, credentials and an SNS topic that records what it was sent."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from herald.accounts import Account, AccountStatus, Credentials, PlatformName
from herald.errors import Conflict, NotFound
from herald.platforms.base import Content, ErrorKind, PlatformError, Progress, Published
from herald.posts import Post, PostStatus, Rescheduled, Target, TargetStatus, event_type_for
from herald.posts.lifecycle import (
    CLOSE,
    REOPEN,
    START,
    UNFINISHED_TARGET_STATES,
    holds_claim,
    may_claim,
    may_claim_comment,
)
from herald.store.comments import CommentClaim
from herald.store.posts import Claim, OwedEvent, Started


class InMemoryPostRepository:
    """PostRepository's contract, in memory; calls arrive from worker threads, hence the lock."""

    def __init__(self) -> None:
        self._posts: dict[tuple[str, str], Post] = {}
        self._events: dict[tuple[str, str], OwedEvent] = {}
        self._lock = threading.Lock()

    def _bump(self, key: tuple[str, str], post: Post, now: str) -> None:
        self._posts[key] = replace(post, version=post.version + 1, updated_at=now)

    def get(self, business_id: str, post_id: str) -> Post:
        with self._lock:
            post = self._posts.get((business_id, post_id))
        if post is None:
            raise NotFound(f"post {post_id} not found")
        return post

    def list_window(self, business_id: str, since: str, until: str) -> list[Post]:
        with self._lock:
            return [
                p
                for (biz, _), p in self._posts.items()
                if biz == business_id and since <= (p.scheduled_for or p.created_at) <= until + "~"
            ]

    def create(self, post: Post, extra: dict[str, Any] | None = None) -> None:
        with self._lock:
            key = (post.business_id, post.post_id)
            if key in self._posts:
                raise Conflict("exists")
            self._posts[key] = post

    def start(
        self,
        business_id: str,
        post_id: str,
        now: str,
        *,
        reopen: bool = False,
        scheduled_for: str | None = None,
    ) -> Post:
        post = self.get(business_id, post_id)
        with self._lock:
            if scheduled_for is not None and post.scheduled_for != scheduled_for:
                raise Rescheduled(f"post {post_id} was rescheduled")
            if not (START.allows(post.status) or (reopen and REOPEN.allows(post.status))):
                raise Conflict(f"post {post_id} is {post.status.value}")
            self._bump((business_id, post_id), replace(post, status=PostStatus.PUBLISHING), now)
            return self._posts[(business_id, post_id)]

    def start_claiming(
        self,
        business_id: str,
        post_id: str,
        account_ids: list[str],
        *,
        now: str,
        stale_before: str,
        any_failure: bool = False,
        scheduled_for: str | None = None,
    ) -> Started | None:
        key = (business_id, post_id)
        with self._lock:
            post = self._posts.get(key)
            if post is None:
                raise NotFound(f"post {post_id} not found")
            if scheduled_for is not None and post.scheduled_for != scheduled_for:
                raise Rescheduled(f"post {post_id} was rescheduled")
            if not START.allows(post.status):
                raise Conflict(f"post {post_id} is {post.status.value}")
            olds = [post.targets.get(a) for a in account_ids]
            if not all(
                old is not None and may_claim(old, stale_before, any_failure) for old in olds
            ):
                return None
            claims: dict[str, Claim] = {}
            started = replace(
                post, status=PostStatus.PUBLISHING, version=post.version + 1, updated_at=now
            )
            for old in olds:
                assert old is not None
                new = replace(
                    old, status=TargetStatus.PUBLISHING, attempts=old.attempts + 1, claimed_at=now
                )
                claims[old.account_id] = Claim(
                    new,
                    took_over=old.status == TargetStatus.PUBLISHING,
                    version=started.version,
                    previous_claimed_at=old.claimed_at,
                )
                started = started.with_target(new)
            self._posts[key] = started
            return Started(post=started, claims=claims)

    def claim_target(
        self,
        business_id: str,
        post_id: str,
        account_id: str,
        *,
        now: str,
        stale_before: str,
        any_failure: bool = False,
    ) -> Claim | None:
        with self._lock:
            key = (business_id, post_id)
            post = self._posts[key]
            old = post.targets[account_id]
            if not may_claim(old, stale_before, any_failure):
                return None
            new = replace(
                old, status=TargetStatus.PUBLISHING, attempts=old.attempts + 1, claimed_at=now
            )
            self._bump(key, post.with_target(new), now)
            return Claim(
                target=new,
                took_over=old.status == TargetStatus.PUBLISHING,
                version=self._posts[key].version,
                previous_claimed_at=old.claimed_at,
            )

    def _update(
        self, business_id: str, post_id: str, account_id: str, now: str, **changes: Any
    ) -> None:
        key = (business_id, post_id)
        post = self._posts[key]
        self._bump(key, post.with_target(replace(post.targets[account_id], **changes)), now)

    def record_part_ids(
        self, business_id: str, post_id: str, account_id: str, part_ids: list[str], now: str
    ) -> None:
        with self._lock:
            self._update(business_id, post_id, account_id, now, part_ids=tuple(part_ids))

    def record_published(
        self,
        business_id: str,
        post_id: str,
        account_id: str,
        published: Published,
        now: str,
        *,
        attempts: int | None = None,
    ) -> None:
        with self._lock:
            changes: dict[str, Any] = {
                "status": TargetStatus.PUBLISHED,
                "platform_post_id": published.platform_post_id,
                "url": published.url,
                "part_ids": published.part_ids or (published.platform_post_id,),
                "published_at": now,
                "last_error": None,
                "error_kind": None,
            }
            if attempts is not None:
                changes["attempts"] = attempts
            self._update(business_id, post_id, account_id, now, **changes)

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
    ) -> bool:
        with self._lock:
            target = self._posts[(business_id, post_id)].targets[account_id]
            if not holds_claim(target.status, target.claimed_at, claimed_at):
                return False
            changes: dict[str, Any] = {"status": status, "last_error": reason, "error_kind": kind}
            if attempts is not None:
                changes["attempts"] = attempts
            if clear_state:
                changes.update(media_state=None, processing_since=None)
            self._update(business_id, post_id, account_id, now, **changes)
            return True

    def record_media_state(
        self,
        business_id: str,
        post_id: str,
        account_id: str,
        state: dict[str, Any],
        *,
        claimed_at: str,
        now: str,
    ) -> None:
        with self._lock:
            target = self._posts[(business_id, post_id)].targets[account_id]
            if not holds_claim(target.status, target.claimed_at, claimed_at):
                raise Conflict(f"target {account_id} of post {post_id} changed")
            self._update(business_id, post_id, account_id, now, media_state=dict(state))

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
    ) -> bool:
        with self._lock:
            target = self._posts[(business_id, post_id)].targets[account_id]
            if not holds_claim(target.status, target.claimed_at, claimed_at):
                return False
            self._update(
                business_id,
                post_id,
                account_id,
                now,
                status=TargetStatus.PROCESSING,
                media_state=dict(state),
                processing_since=since,
            )
            return True

    # --- first comments (herald.store.comments) ------------------------------------------------
    def _set_comment(
        self, business_id: str, post_id: str, account_id: str, now: str, **changes: Any
    ) -> None:
        target = self._posts[(business_id, post_id)].targets[account_id]
        assert target.comment is not None
        self._update(
            business_id, post_id, account_id, now, comment=replace(target.comment, **changes)
        )

    def claim_comment(
        self,
        business_id: str,
        post_id: str,
        account_id: str,
        *,
        now: str,
        stale_before: str,
        any_failure: bool = False,
    ) -> CommentClaim | None:
        with self._lock:
            target = self._posts[(business_id, post_id)].targets[account_id]
            old = target.comment
            if old is None or not may_claim_comment(target, stale_before, any_failure):
                return None
            claimed = replace(
                old, status=TargetStatus.PUBLISHING, attempts=old.attempts + 1, claimed_at=now
            )
            self._set_comment(
                business_id, post_id, account_id, now,
                status=claimed.status, attempts=claimed.attempts, claimed_at=now,
            )  # fmt: skip
            return CommentClaim(claimed, old.status == TargetStatus.PUBLISHING, old.claimed_at)

    def record_comment_published(
        self,
        business_id: str,
        post_id: str,
        account_id: str,
        comment_id: str,
        now: str,
        *,
        attempts: int,
    ) -> None:
        with self._lock:
            self._set_comment(
                business_id, post_id, account_id, now,
                status=TargetStatus.PUBLISHED, platform_comment_id=comment_id, published_at=now,
                attempts=attempts, last_error=None, error_kind=None,
            )  # fmt: skip

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
    ) -> bool:
        with self._lock:
            comment = self._posts[(business_id, post_id)].targets[account_id].comment
            if comment is None or not holds_claim(comment.status, comment.claimed_at, claimed_at):
                return False
            self._set_comment(
                business_id, post_id, account_id, now,
                status=status, last_error=reason, error_kind=kind, attempts=attempts,
            )  # fmt: skip
            return True

    def finish(self, business_id: str, post_id: str, now: str) -> Post | None:
        with self._lock:
            key = (business_id, post_id)
            post = self._posts[key]
            if not CLOSE.allows(post.status):
                return None
            if any(t.status in UNFINISHED_TARGET_STATES for t in post.targets.values()):
                return None
            return self._close(key, post, now)

    def finish_with(self, expected: Post, target: Target, now: str) -> Post | None:
        key = (expected.business_id, expected.post_id)
        with self._lock:
            current = self._posts[key]
            if current.version != expected.version or not CLOSE.allows(current.status):
                return None
            post = expected.with_target(target)
            if any(
                t.status == TargetStatus.PENDING or t.status in UNFINISHED_TARGET_STATES
                for t in post.targets.values()
            ):
                return None
            return self._close(key, post, now)

    def _close(self, key: tuple[str, str], post: Post, now: str) -> Post:
        """Close `post` with the status its targets add up to; the caller holds the lock."""
        closed = post.closed()
        self._bump(key, closed, now)
        self._events[key] = OwedEvent(event_type_for(closed.status), self._posts[key].version)
        return self._posts[key]

    def pending_event(self, business_id: str, post_id: str) -> OwedEvent | None:
        with self._lock:
            return self._events.get((business_id, post_id))

    def clear_pending_event(self, business_id: str, post_id: str, version: int) -> None:
        with self._lock:
            owed = self._events.get((business_id, post_id))
            if owed is not None and owed.version == version:
                del self._events[(business_id, post_id)]


class FakeAccounts:
    def __init__(self, accounts: list[Account] | None = None) -> None:
        self.accounts = {(a.business_id, a.account_id): a for a in accounts or []}

    def add(self, account: Account) -> None:
        self.accounts[(account.business_id, account.account_id)] = account

    def get(self, business_id: str, account_id: str, *, consistent: bool = False) -> Account:
        try:
            return self.accounts[(business_id, account_id)]
        except KeyError:
            raise NotFound(f"account {account_id} not found") from None

    def list_for_business(self, business_id: str) -> list[Account]:
        return [a for (biz, _), a in self.accounts.items() if biz == business_id]

    def mark_status(
        self, business_id: str, account_id: str, status: AccountStatus, reason: str | None
    ) -> Account:
        account = replace(self.get(business_id, account_id), status=status, status_reason=reason)
        self.add(account)
        return account


def account(business_id: str, account_id: str, platform: PlatformName, **kw: Any) -> Account:
    return Account(
        account_id=account_id,
        business_id=business_id,
        platform=platform,
        external_id=f"ext-{account_id}",
        display_name=account_id,
        status=kw.pop("status", AccountStatus.CONNECTED),
        access_token_enc="enc",
        **kw,
    )


def fake_credentials(accounts: FakeAccounts) -> Callable[[str, str], Awaitable[Credentials]]:
    """Stands in for herald.tokens.credentials_for."""

    async def credentials_for(business_id: str, account_id: str) -> Credentials:
        acc = accounts.get(business_id, account_id)
        if acc.status == AccountStatus.NEEDS_REAUTH:
            raise PlatformError(acc.platform, ErrorKind.AUTH_REVOKED, "reconnect the account")
        return Credentials(acc.account_id, acc.platform, acc.external_id, "token")

    return credentials_for


@dataclass
class Live:
    """A post the fake platform holds."""

    post_id: str
    text: str
    account_id: str
    reply_to: str | None = None


Behaviour = PlatformError | BaseException | Callable[[], Any]


@dataclass
class FakePublisher:
    """A platform that keeps what was posted. `fail_next` is a queue of what the next calls do:
    raise an error (after posting, for an ambiguous one with `lands=True`), or run a callable.
    `delay` makes every call take that long (concurrency tests)."""

    platform: PlatformName
    delay: float = 0.0
    live: list[Live] = field(default_factory=list)
    calls: int = 0
    call_times: list[float] = field(default_factory=list)
    fail_next: list[tuple[Behaviour, bool]] = field(default_factory=list)
    lookups: int = 0
    looked_since: list[datetime] = field(default_factory=list)  # each find_recent's `since`
    fail_at_call: dict[int, BaseException] = field(default_factory=dict)  # by call number
    _seq: int = 0

    deadlines: list[float | None] = field(default_factory=list)  # each publish's Progress.deadline
    comments: list[tuple[str, str, str]] = field(default_factory=list)  # account, parent, text
    comment_failures: list[BaseException] = field(default_factory=list)

    async def comment(self, creds: Credentials, parent_id: str, text: str) -> str:
        if self.comment_failures:
            raise self.comment_failures.pop(0)
        self.comments.append((creds.account_id, parent_id, text))
        return f"{parent_id}-comment-{len(self.comments)}"

    async def find_comment(
        self, creds: Credentials, parent_id: str, text: str, since: datetime
    ) -> str | None:
        for i, said in enumerate(self.comments):
            if said == (creds.account_id, parent_id, text):
                return f"{parent_id}-comment-{i + 1}"
        return None

    def fail(self, error: Behaviour, *, lands: bool = False, times: int = 1) -> None:
        self.fail_next.extend([(error, lands)] * times)

    def _new_id(self) -> str:
        self._seq += 1
        return f"{self.platform}-{self._seq}"

    async def _post_one(self, creds: Credentials, text: str, reply_to: str | None) -> str:
        self.calls += 1
        self.call_times.append(asyncio.get_running_loop().time())
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.calls in self.fail_at_call:
            raise self.fail_at_call.pop(self.calls)
        if self.fail_next:
            behaviour, lands = self.fail_next.pop(0)
            if lands:
                self.live.append(Live(self._new_id(), text, creds.account_id, reply_to))
            if isinstance(behaviour, BaseException):
                raise behaviour
            behaviour()
        live = Live(self._new_id(), text, creds.account_id, reply_to)
        self.live.append(live)
        return live.post_id

    async def publish(self, creds: Credentials, content: Content, progress: Progress) -> Published:
        self.deadlines.append(progress.deadline)
        for index in range(len(progress.part_ids), len(content.parts)):
            reply_to = progress.part_ids[-1] if progress.part_ids else None
            await progress.confirm(await self._post_one(creds, content.parts[index], reply_to))
        ids = tuple(progress.part_ids)
        return Published(ids[0], f"https://{self.platform}.test/{ids[0]}", ids)

    async def find_recent(
        self, creds: Credentials, content: Content, since: datetime
    ) -> Published | None:
        self.lookups += 1
        self.looked_since.append(since)
        mine = [p for p in self.live if p.account_id == creds.account_id]
        for live in mine:
            if live.text == content.parts[0]:
                return Published(live.post_id, f"https://{self.platform}.test/{live.post_id}")
        return None

    def texts(self, account_id: str | None = None) -> list[str]:
        return [p.text for p in self.live if account_id is None or p.account_id == account_id]


class FakeSNS:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def publish(self, **kwargs: Any) -> dict[str, str]:
        self.messages.append(json.loads(kwargs["Message"]))
        return {"MessageId": str(len(self.messages))}

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == event_type]
