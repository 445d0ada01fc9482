"""What the API answers about engagement: one post's metrics and readings, and the engagement
part of the analytics summary (per platform and account, best posts, daily, hour of week).

Everything is computed from post items the caller already has (the summary's calendar query
returns each post with its latest snapshots): no extra reads. A target whose metrics are stale
or unavailable says so, and a total over a metric counts only the targets that report it, with
`reported` saying how many did, so a missing number never reads as a zero.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from herald.clock import isoformat, parse_iso
from herald.metrics import cadence
from herald.metrics.model import METRICS, Snapshot, engagement_rate, engagements
from herald.metrics.sync import TrackedPost

BEST_POSTS = 5
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def target_view(
    target_published_at: str, snapshot: Snapshot | None, now: datetime
) -> dict[str, Any]:
    """One target's latest metrics, with whether they are stale and why some are missing."""
    if snapshot is None:
        return {
            "metrics": dict.fromkeys(METRICS),
            "unavailable": {},
            "taken_at": None,
            "attempted_at": None,
            "stale": True,
            "stale_reason": "not read yet: the hourly sync reads new posts within the hour",
            "error": None,
            "engagements": 0,
            "engagement_rate": None,
        }
    published = parse_iso(target_published_at) if target_published_at else now
    taken = parse_iso(snapshot.taken_at) if snapshot.taken_at else None
    stale = cadence.is_stale(published, taken, now) if snapshot.values else False
    reason = None
    if snapshot.error and snapshot.values:
        stale, reason = True, f"the last read failed: {snapshot.error.get('reason')}"
    elif stale:
        reason = "older than the sync's schedule promises"
    engaged = engagements(snapshot.values)
    return {
        "metrics": {name: snapshot.values.get(name) for name in METRICS},
        "unavailable": snapshot.unavailable,
        "taken_at": snapshot.taken_at,
        "attempted_at": snapshot.attempted_at or None,
        "stale": stale,
        "stale_reason": reason,
        "error": snapshot.error,
        "engagements": engaged,
        "engagement_rate": engagement_rate(engaged, snapshot.values.get("impressions", 0)),
    }


def post_view(
    item: dict[str, Any], readings: list[dict[str, Any]], now: datetime
) -> dict[str, Any]:
    """`GET /analytics/posts/{id}`: every published target's latest metrics and its readings."""
    tracked = TrackedPost.from_item(item) if item.get("targets") else None
    targets = tracked.targets if tracked else []
    series: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for reading in sorted(readings, key=lambda r: str(r.get("taken_at", ""))):
        for account_id, entry in (reading.get("targets") or {}).items():
            values = {k: int(v) for k, v in (entry.get("values") or {}).items()}
            series[str(account_id)].append({"taken_at": reading["taken_at"], **values})
    out_targets = []
    totals: dict[str, int] = defaultdict(int)
    for target in targets:
        snapshot = tracked.snapshots.get(target.account_id) if tracked else None
        view = target_view(target.published_at, snapshot, now)
        for name, value in view["metrics"].items():
            if value is not None:
                totals[name] += value
        out_targets.append(
            {
                "account_id": target.account_id,
                "platform": target.platform,
                "platform_post_id": target.platform_post_id,
                "published_at": target.published_at,
                **view,
                "series": series.get(target.account_id, []),
            }
        )
    engaged = engagements(dict(totals))
    content = item.get("content") or {}
    return {
        "post_id": item["post_id"],
        "status": item.get("status"),
        "text": str(content.get("text") or "\n\n".join(content.get("thread") or [])),
        "published_at": item.get("published_at"),
        "next_sync_at": _next_sync(item),
        "totals": {name: totals.get(name) for name in METRICS},
        "engagements": engaged,
        "engagement_rate": engagement_rate(engaged, totals.get("impressions", 0)),
        "targets": out_targets,
        "generated_at": isoformat(now),
    }


def _next_sync(item: dict[str, Any]) -> str | None:
    key = item.get("mt_sk")
    return str(key).split("#", 1)[0] if key else None


class _Bucket:
    def __init__(self) -> None:
        self.posts: set[str] = set()
        self.sums: dict[str, int] = dict.fromkeys(METRICS, 0)
        self.reported: dict[str, int] = dict.fromkeys(METRICS, 0)
        self.stale = 0
        self.unavailable: dict[str, set[str]] = defaultdict(set)

    def add(self, post_id: str, view: dict[str, Any]) -> None:
        self.posts.add(post_id)
        for name, value in view["metrics"].items():
            if value is not None:
                self.sums[name] += value
                self.reported[name] += 1
        for name, reason in (view.get("unavailable") or {}).items():
            self.unavailable[name].add(str(reason))
        self.stale += 1 if view["stale"] else 0

    def as_dict(self) -> dict[str, Any]:
        engaged = engagements(self.sums)
        return {
            "posts": len(self.posts),
            **{name: self.sums[name] if self.reported[name] else None for name in METRICS},
            "reported": dict(self.reported),
            "engagements": engaged,
            "engagement_rate": engagement_rate(engaged, self.sums["impressions"]),
            "stale_targets": self.stale,
            "unavailable": {k: sorted(v) for k, v in sorted(self.unavailable.items())},
        }


def engagement_summary(
    items: list[dict[str, Any]],
    now: datetime,
    *,
    account_id: str | None = None,
    zone: ZoneInfo | None = None,
) -> dict[str, Any]:
    """The engagement part of the summary, over post items already in the window."""
    zone = zone or ZoneInfo("UTC")
    total = _Bucket()
    platforms: dict[str, _Bucket] = defaultdict(_Bucket)
    accounts: dict[tuple[str, str], _Bucket] = defaultdict(_Bucket)
    days: dict[str, _Bucket] = defaultdict(_Bucket)
    hours: dict[tuple[int, int], _Bucket] = defaultdict(_Bucket)
    best: list[dict[str, Any]] = []
    latest: str | None = None
    for item in items:
        if not item.get("metrics") and not item.get("mt_pk"):
            continue  # never published, or published before metrics were followed
        tracked = TrackedPost.from_item(item)
        post_total = _Bucket()
        for target in tracked.targets:
            if account_id and target.account_id != account_id:
                continue
            snapshot = tracked.snapshots.get(target.account_id)
            view = target_view(target.published_at, snapshot, now)
            if snapshot and snapshot.taken_at and (latest is None or snapshot.taken_at > latest):
                latest = snapshot.taken_at
            for bucket in (total, platforms[target.platform], post_total):
                bucket.add(tracked.post_id, view)
            accounts[target.platform, target.account_id].add(tracked.post_id, view)
            when = parse_iso(target.published_at).astimezone(zone)
            days[when.strftime("%Y-%m-%d")].add(tracked.post_id, view)
            hours[when.weekday(), when.hour].add(tracked.post_id, view)
        if post_total.posts:
            summary = post_total.as_dict()
            best.append(
                {
                    "post_id": tracked.post_id,
                    "text": _excerpt(item),
                    "published_at": tracked.published_at,
                    "platforms": sorted({t.platform for t in tracked.targets}),
                    "impressions": summary["impressions"],
                    "engagements": summary["engagements"],
                    "engagement_rate": summary["engagement_rate"],
                }
            )
    best.sort(key=lambda p: (p["engagements"], p["impressions"] or 0), reverse=True)
    return {
        "timezone": str(zone),
        "synced_at": latest,
        "totals": total.as_dict(),
        "platforms": [{"platform": p, **b.as_dict()} for p, b in sorted(platforms.items())],
        "accounts": [
            {"platform": p, "account_id": a, **b.as_dict()}
            for (p, a), b in sorted(accounts.items())
        ],
        "best_posts": best[:BEST_POSTS],
        "daily": [{"date": d, **_short(b)} for d, b in sorted(days.items())],
        "hour_of_week": [
            {"day": day, "day_name": DAYS[day], "hour": hour, **_short(b)}
            for (day, hour), b in sorted(hours.items())
        ],
    }


def _short(bucket: _Bucket) -> dict[str, Any]:
    full = bucket.as_dict()
    keys = ("posts", "impressions", "engagements", "engagement_rate")
    return {key: full[key] for key in keys}


def _excerpt(item: dict[str, Any]) -> str:
    content = item.get("content") or {}
    text = str(content.get("text") or " / ".join(content.get("thread") or []))
    return text if len(text) <= 120 else text[:119] + "…"


def post_rows(
    items: list[dict[str, Any]], now: datetime, *, account_id: str | None = None
) -> list[dict[str, Any]]:
    """One row per published target in the window, newest first: the CSV export's rows."""
    rows: list[dict[str, Any]] = []
    for item in items:
        tracked = TrackedPost.from_item(item)
        for target in tracked.targets:
            if account_id and target.account_id != account_id:
                continue
            view = target_view(target.published_at, tracked.snapshots.get(target.account_id), now)
            rows.append(
                {
                    "post_id": tracked.post_id,
                    "published_at": target.published_at,
                    "text": _excerpt(item),
                    "account_id": target.account_id,
                    "platform": target.platform,
                    "platform_post_id": target.platform_post_id,
                    **view["metrics"],
                    "engagements": view["engagements"],
                    "engagement_rate": view["engagement_rate"],
                    "taken_at": view["taken_at"],
                    "stale": view["stale"],
                    "unavailable": view["unavailable"],
                }
            )
    rows.sort(key=lambda r: (str(r["published_at"]), r["post_id"]), reverse=True)
    return rows
