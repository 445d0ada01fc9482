"""The metrics sync: the tick's hourly `sync_metrics` task, and one post read on demand.

One run:

    1. the posts due a reading, from every shard of the sparse `metrics` index (the index carries
       each post's targets and last snapshots: no post item is read)
    2. their accounts, a hundred to a BatchGetItem; tokens refreshed if they are about to end
    3. per account, its targets handed to the network's reader in one call, so the reader batches
       as its network allows; accounts are read eight at a time, and a run starts no account
       with less than `SAFETY_MS` of the Lambda's time left (the rest stay due for the next run)
    4. per post, one UpdateItem (latest snapshots, next due time) and its reading, 25 readings to
       a BatchWriteItem

A failure of one account (revoked, rate limited, down) is recorded on its targets and touches no
other account. A rate-limited account is not read again before its network said to come back.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from herald.accounts import Account
from herald.clock import isoformat, parse_iso
from herald.errors import Conflict, NotFound
from herald.metrics import cadence
from herald.metrics.model import MetricTarget, ReadError, Reading, Snapshot
from herald.metrics.readers import MetricsAccount, MetricsReader, Outcome, read_error
from herald.observability import logger
from herald.platforms.base import PlatformError
from herald.posts import TargetStatus

if TYPE_CHECKING:
    from herald.accounts import PlatformName
    from herald.ports import AccountReader
    from herald.settings import Settings
    from herald.store.metrics import MetricsRepository
    from herald.store.posts import PostRepository
    from herald.tokens import TokenPorts

SAFETY_MS = 8_000
CONCURRENCY = 8


@dataclass(frozen=True)
class MetricsSyncPorts:
    """What the sync uses, from `Container.metrics_sync_ports`. The readers (and their HTTP
    client) are made when the first account is read, the token ports (Redis, the vault) when an
    account's credentials are."""

    settings: Settings
    accounts: AccountReader
    metrics: MetricsRepository  # the sparse index of posts due a reading, and the readings
    posts: PostRepository  # the post item as it is stored, for one post read on demand
    readers: Callable[[], Mapping[PlatformName, MetricsReader]]
    tokens: Callable[[], TokenPorts]


@dataclass
class TrackedPost:
    business_id: str
    post_id: str
    published_at: str
    targets: list[MetricTarget]
    snapshots: dict[str, Snapshot]

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> TrackedPost:
        published = [
            t
            for t in (item.get("targets") or {}).values()
            if t.get("status") == TargetStatus.PUBLISHED.value and t.get("platform_post_id")
        ]
        first = min((str(t.get("published_at") or "") for t in published), default="")
        published_at = str(item.get("published_at") or first)
        targets = [
            MetricTarget(
                post_id=str(item["post_id"]),
                account_id=str(t["account_id"]),
                platform=t["platform"],
                platform_post_id=str(t["platform_post_id"]),
                published_at=str(t.get("published_at") or published_at),
            )
            for t in published
        ]
        snapshots = {
            str(acc): Snapshot.from_item(snap) for acc, snap in (item.get("metrics") or {}).items()
        }
        return cls(str(item["business_id"]), str(item["post_id"]), published_at, targets, snapshots)


@dataclass
class SyncReport:
    posts: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    deferred: int = 0  # posts left due for the next run (time ran out)
    untracked: int = 0  # posts past the tracking window, out of the index

    def as_dict(self) -> dict[str, Any]:
        return {
            "posts": self.posts,
            "deferred": self.deferred,
            "untracked": self.untracked,
            **dict(sorted(self.outcomes.items())),
        }


def _kind(outcome: Outcome) -> str:
    return "read" if isinstance(outcome, Reading) else outcome.kind


async def _credentials(ports: MetricsSyncPorts, account: Account) -> MetricsAccount:
    from herald.tokens import decrypt_credentials, ensure_fresh  # httpx, Redis: only when reading

    tokens = ports.tokens()
    fresh = await ensure_fresh(tokens, account)
    creds = await decrypt_credentials(tokens, fresh)
    return MetricsAccount(creds, frozenset(fresh.scopes))


async def read_targets(
    ports: MetricsSyncPorts,
    targets: list[tuple[str, MetricTarget]],
    time_left_ms: Callable[[], int] | None = None,
) -> dict[tuple[str, str], Outcome]:
    """Every target (with its business id) read, by (post id, account id). Targets of accounts
    not started for lack of time are absent."""
    groups: dict[tuple[str, str], list[MetricTarget]] = defaultdict(list)
    for business_id, target in targets:
        groups[business_id, target.account_id].append(target)
    accounts = await asyncio.to_thread(ports.accounts.get_many, list(groups))
    readers = ports.readers()
    outcomes: dict[tuple[str, str], Outcome] = {}
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(key: tuple[str, str], group: list[MetricTarget]) -> None:
        async with gate:
            if time_left_ms is not None and time_left_ms() < SAFETY_MS:
                return
            found: dict[str, Outcome]
            account = accounts.get(key)
            if account is None:
                gone = ReadError("gone", "the account was disconnected from Herald", retry=False)
                found = {t.platform_post_id: gone for t in group}
            else:
                try:
                    reader = readers[account.platform]
                    found = await reader.read(await _credentials(ports, account), group)
                except PlatformError as exc:
                    failure = read_error(exc)
                    found = {t.platform_post_id: failure for t in group}
                    logger.warning(
                        "metrics read failed for an account",
                        extra={
                            "account_id": key[1],
                            "platform": account.platform,
                            "kind": failure.kind,
                        },
                    )
                except Exception as exc:  # noqa: BLE001 - one account must not stop the run
                    # Redis down for a token refresh, a secret unreadable: read again next time.
                    failure = ReadError(
                        "unreachable",
                        f"the read could not start ({type(exc).__name__}); tried again next run",
                        retry=True,
                    )
                    found = {t.platform_post_id: failure for t in group}
                    logger.warning(
                        "metrics read failed for an account",
                        extra={"account_id": key[1], "error_type": type(exc).__name__},
                    )
            for target in group:
                outcomes[target.post_id, target.account_id] = found.get(
                    target.platform_post_id,
                    ReadError("platform_error", "the network did not answer for it", retry=True),
                )

    await asyncio.gather(*(one(key, group) for key, group in groups.items()))
    return outcomes


def _next_due(
    post: TrackedPost, outcomes: list[Outcome], now: datetime, track: timedelta
) -> str | None:
    published = parse_iso(post.published_at) if post.published_at else now
    due = cadence.next_due(published, now, track)
    if due is None:
        return None
    waits = [o.retry_after for o in outcomes if isinstance(o, ReadError) and o.retry_after]
    if waits:
        due = max(due, now + timedelta(seconds=max(waits)))
    return isoformat(due)


def _mine(post: TrackedPost, outcomes: dict[tuple[str, str], Outcome]) -> dict[str, Outcome]:
    return {
        t.account_id: outcomes[t.post_id, t.account_id]
        for t in post.targets
        if (t.post_id, t.account_id) in outcomes
    }


async def record(
    ports: MetricsSyncPorts,
    post: TrackedPost,
    outcomes: dict[tuple[str, str], Outcome],
    now: datetime,
) -> tuple[dict[str, Any] | None, str | None]:
    """Store the post's new snapshots and next due time (None: it leaves the index). Returns its
    reading item (None when no target was read) and the due time."""
    stamp = isoformat(now)
    mine = _mine(post, outcomes)
    snapshots = dict(post.snapshots)
    platforms = {t.account_id: t.platform for t in post.targets}
    for account_id, outcome in mine.items():
        before = snapshots.get(account_id) or Snapshot(platforms[account_id], {}, {}, None, "")
        snapshots[account_id] = before.after(outcome, stamp)
    track = timedelta(days=ports.settings.metrics_track_days)
    # A post with nothing published to read (its targets all failed later) leaves the index.
    due = _next_due(post, list(mine.values()), now, track) if post.targets else None
    await asyncio.to_thread(
        ports.metrics.record,
        post.business_id,
        post.post_id,
        {acc: snap.to_item() for acc, snap in snapshots.items()},
        due,
    )
    read = {
        acc: {"platform": platforms[acc], "values": o.values}
        for acc, o in mine.items()
        if isinstance(o, Reading)
    }
    if not read:
        return None, due
    expires = now + timedelta(days=ports.settings.metrics_retention_days)
    reading = {
        "business_id": post.business_id,
        "post_id": post.post_id,
        "taken_at": stamp,
        "targets": read,
        "expires_at": int(expires.timestamp()),
    }
    return reading, due


async def sync_due(
    ports: MetricsSyncPorts, now: datetime, time_left_ms: Callable[[], int] | None = None
) -> SyncReport:
    """The hourly task: read every post that is due, within the run's time."""
    settings = ports.settings
    items = await asyncio.to_thread(
        ports.metrics.due, isoformat(now), settings.metrics_sync_max_posts
    )
    posts = [TrackedPost.from_item(item) for item in items]
    report = SyncReport(posts=len(posts))
    targets = [(p.business_id, t) for p in posts for t in p.targets]
    outcomes = await read_targets(ports, targets, time_left_ms)
    readings: list[dict[str, Any]] = []
    gate = asyncio.Semaphore(CONCURRENCY)

    async def store(post: TrackedPost) -> None:
        mine = _mine(post, outcomes)
        if post.targets and not mine:
            report.deferred += 1  # still due: the next run reads it first
            return
        report.outcomes.update(_kind(o) for o in mine.values())
        async with gate:
            try:
                reading, due = await record(ports, post, outcomes, now)
            except NotFound:
                return  # deleted since the index was read
        if reading is not None:
            readings.append(reading)
        if due is None:
            report.untracked += 1

    await asyncio.gather(*(store(post) for post in posts))
    if readings:
        await asyncio.to_thread(ports.metrics.add_readings, readings)
    return report


async def sync_post(ports: MetricsSyncPorts, business_id: str, post_id: str, now: datetime) -> bool:
    """Read one post now (the API's refresh). False, reading nothing, when every target was
    tried within `metrics_refresh_min_seconds`: a person cannot spend the account's platform
    budget by pressing a button. NotFound for another business's post; Conflict when no target
    is published yet."""
    item = await asyncio.to_thread(ports.posts.get_item, business_id, post_id)
    post = TrackedPost.from_item(item)
    if not post.targets:
        raise Conflict(f"post {post_id} has no published target to read metrics of")
    floor = now - timedelta(seconds=ports.settings.metrics_refresh_min_seconds)
    tried = [post.snapshots.get(t.account_id) for t in post.targets]
    if all(s is not None and s.attempted_at and parse_iso(s.attempted_at) > floor for s in tried):
        return False
    outcomes = await read_targets(ports, [(business_id, t) for t in post.targets])
    reading, _ = await record(ports, post, outcomes, now)
    if reading is not None:
        await asyncio.to_thread(ports.metrics.add_readings, [reading])
    return True
