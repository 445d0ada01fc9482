"""Publishing analytics: per platform, targets published and failed over a window, the success
rate, and publish latency (published_at minus scheduled_for, or created_at for an immediate post)
at p50 and p95; and what the posts did on each network (`engagement`, herald.metrics.report),
optionally for one account and with posting times in a given zone.

The summary is cached in Redis for 5 minutes per business and window, not in the Lambda's
memory: API requests spread over many instances, and an in-process cache would be cold on most
of them and show different numbers on each. If Redis is down the summary is computed anyway
(a few queries of one partition of the calendar index), just not cached.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from herald.accounts import PLATFORMS
from herald.clock import isoformat, parse_iso
from herald.errors import FieldError, InvalidInput
from herald.observability import logger
from herald.posts import Post, TargetStatus

if TYPE_CHECKING:
    import redis.asyncio as aioredis

    from herald.clock import Clock
    from herald.settings import Settings
    from herald.store.metrics import MetricsRepository


@dataclass(frozen=True)
class AnalyticsPorts:
    """What the summary uses, from `Container.analytics_ports`."""

    settings: Settings
    metrics: MetricsRepository  # the published posts of a window, from the metrics index
    redis: aioredis.Redis  # the summary's cache
    clock: Clock


_WINDOW = re.compile(r"^(\d{1,4})([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
MAX_WINDOW = timedelta(days=90)


def parse_window(value: str) -> timedelta:
    match = _WINDOW.match(value.strip())
    window = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))}) if match else None
    if window is None or not timedelta(0) < window <= MAX_WINDOW:
        raise InvalidInput(
            "invalid window",
            [FieldError("window", "a duration like 30m, 24h or 7d, at most 90d", "invalid")],
        )
    return window


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile: always one of the observed values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class PlatformSummary:
    platform: str
    published: int
    failed: int
    unconfirmed: int
    success_rate: float | None  # published / (published + failed + unconfirmed)
    latency_p50_seconds: float | None
    latency_p95_seconds: float | None


def summarize(posts: list[Post]) -> list[PlatformSummary]:
    counts: dict[str, dict[str, int]] = {
        p: {"published": 0, "failed": 0, "unconfirmed": 0} for p in PLATFORMS
    }
    latencies: dict[str, list[float]] = {p: [] for p in PLATFORMS}
    for post in posts:
        start = post.scheduled_for or post.created_at
        for target in post.targets.values():
            bucket = counts.setdefault(
                target.platform, {"published": 0, "failed": 0, "unconfirmed": 0}
            )
            if target.status == TargetStatus.PUBLISHED:
                bucket["published"] += 1
                if target.published_at and start:
                    delay = (parse_iso(target.published_at) - parse_iso(start)).total_seconds()
                    latencies.setdefault(target.platform, []).append(max(0.0, delay))
            elif target.status == TargetStatus.FAILED:
                bucket["failed"] += 1
            elif target.status == TargetStatus.UNCONFIRMED:
                bucket["unconfirmed"] += 1
    out = []
    for platform, c in counts.items():
        settled = c["published"] + c["failed"] + c["unconfirmed"]
        lat = latencies.get(platform, [])
        out.append(
            PlatformSummary(
                platform=platform,
                published=c["published"],
                failed=c["failed"],
                unconfirmed=c["unconfirmed"],
                success_rate=round(c["published"] / settled, 4) if settled else None,
                latency_p50_seconds=_round(percentile(lat, 50)),
                latency_p95_seconds=_round(percentile(lat, 95)),
            )
        )
    return out


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _cache_key(business_id: str, window: str, account_id: str | None, zone: str) -> str:
    key = f"herald:analytics:{{{business_id}}}:{window}"
    # The plain summary keeps its key; a filtered or zoned one gets its own.
    return key if account_id is None and zone == "UTC" else f"{key}:{account_id or '*'}:{zone}"


async def summary(
    ports: AnalyticsPorts,
    business_id: str,
    window: str,
    *,
    account_id: str | None = None,
    timezone: str = "UTC",
) -> dict[str, Any]:
    from herald.metrics.report import engagement_summary
    from herald.store.post_items import post_from_item
    from herald.timezones import zone

    span = parse_window(window)
    tz = zone(timezone)
    key = _cache_key(business_id, window, account_id, timezone)
    try:
        cached = await ports.redis.get(key)
    except Exception:  # noqa: BLE001 - a cache that is down must not take analytics with it
        logger.warning("analytics cache unavailable", exc_info=True)
        cached = None
    if cached:
        result: dict[str, Any] = json.loads(cached)
        result["cached"] = True
        return result
    now: datetime = ports.clock.now()
    since, until = isoformat(now - span), isoformat(now)
    items = await asyncio.to_thread(ports.metrics.window, business_id, since, until)
    posts = [post_from_item(item) for item in items]
    if account_id:
        posts = [
            replace(p, targets={account_id: p.targets[account_id]})
            for p in posts
            if account_id in p.targets
        ]
    result = {
        "window": window,
        "since": since,
        "until": until,
        "generated_at": until,
        "account_id": account_id,
        "platforms": [asdict(s) for s in summarize(posts)],
        "engagement": engagement_summary(items, now, account_id=account_id, zone=tz),
    }
    try:
        await ports.redis.set(key, json.dumps(result), ex=ports.settings.analytics_cache_seconds)
    except Exception:  # noqa: BLE001
        logger.warning("analytics cache unavailable", exc_info=True)
    result["cached"] = False
    return result
