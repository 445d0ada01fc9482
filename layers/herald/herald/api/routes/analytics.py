"""`GET /api/v1/analytics/summary`: per platform published/failed, success rate, latency, and what
the posts did on each network; `GET /api/v1/analytics/posts/{id}` (one post's metrics and
readings) and `POST /api/v1/analytics/posts/{id}/sync` (read them now)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from herald import analytics
from herald.api.deps import ContainerDep, PrincipalDep
from herald.api.ratelimit import RateLimit
from herald.container import Container

router = APIRouter(tags=["analytics"])

PostId = Annotated[
    str, Path(pattern=r"^post_[0-9a-z]{26}$", examples=["post_01jfz9w4x0m3k8d2q7c5v6b1na"])
]


class PlatformSummaryOut(BaseModel):
    platform: str
    published: int
    failed: int
    unconfirmed: int
    success_rate: float | None
    latency_p50_seconds: float | None
    latency_p95_seconds: float | None


class MetricValues(BaseModel):
    """Lifetime counts; null when the network does not report the metric for this post."""

    impressions: int | None = None
    reach: int | None = None
    reactions: int | None = None
    comments: int | None = None
    shares: int | None = None
    clicks: int | None = None


class EngagementBucketOut(MetricValues):
    posts: int
    reported: dict[str, int] = Field(
        description="How many targets reported each metric (a sum counts only those)"
    )
    engagements: int = Field(description="reactions + comments + shares + clicks")
    engagement_rate: float | None = Field(description="engagements / impressions")
    stale_targets: int
    unavailable: dict[str, list[str]] = Field(description="Per metric, why some targets lack it")


class PlatformEngagementOut(EngagementBucketOut):
    platform: str


class AccountEngagementOut(EngagementBucketOut):
    platform: str
    account_id: str


class BestPostOut(BaseModel):
    post_id: str
    text: str
    published_at: str
    platforms: list[str]
    impressions: int | None
    engagements: int
    engagement_rate: float | None


class DailyOut(BaseModel):
    date: str
    posts: int
    impressions: int | None
    engagements: int
    engagement_rate: float | None


class HourOfWeekOut(BaseModel):
    day: int = Field(ge=0, le=6, description="0 is Monday")
    day_name: str
    hour: int = Field(ge=0, le=23)
    posts: int
    impressions: int | None
    engagements: int
    engagement_rate: float | None


class EngagementOut(BaseModel):
    timezone: str
    synced_at: str | None = Field(description="The newest reading among these posts")
    totals: EngagementBucketOut
    platforms: list[PlatformEngagementOut]
    accounts: list[AccountEngagementOut]
    best_posts: list[BestPostOut]
    daily: list[DailyOut]
    hour_of_week: list[HourOfWeekOut]


class SummaryOut(BaseModel):
    window: str
    since: str
    until: str
    generated_at: str
    cached: bool
    account_id: str | None = None
    platforms: list[PlatformSummaryOut]
    engagement: EngagementOut


class PostRowOut(MetricValues):
    post_id: str
    published_at: str
    text: str
    account_id: str
    platform: str
    platform_post_id: str
    engagements: int
    engagement_rate: float | None
    taken_at: str | None
    stale: bool
    unavailable: dict[str, str]


class PostRowsOut(BaseModel):
    window: str
    since: str
    until: str
    account_id: str | None = None
    items: list[PostRowOut] = Field(description="One row per published target, newest first")


class ReadErrorOut(BaseModel):
    kind: str = Field(
        description="rate_limited, unreachable, auth_revoked, permission, gone, platform_error"
    )
    reason: str


class ReadingOut(MetricValues):
    taken_at: str


class TargetMetricsOut(BaseModel):
    account_id: str
    platform: str
    platform_post_id: str
    published_at: str
    metrics: MetricValues
    unavailable: dict[str, str] = Field(description="Per metric the network does not give, why")
    taken_at: str | None
    attempted_at: str | None
    stale: bool
    stale_reason: str | None
    error: ReadErrorOut | None
    engagements: int
    engagement_rate: float | None
    series: list[ReadingOut]


class PostMetricsOut(BaseModel):
    post_id: str
    status: str | None
    text: str
    published_at: str | None
    next_sync_at: str | None = Field(description="When the hourly sync reads it next")
    totals: MetricValues
    engagements: int
    engagement_rate: float | None
    targets: list[TargetMetricsOut]
    generated_at: str
    refreshed: bool | None = Field(
        None, description="On a sync: false when it was read too recently to read again"
    )


POST_EXAMPLE: dict[str, Any] = {
    "post_id": "post_01jfz9w4x0m3k8d2q7c5v6b1na",
    "status": "published",
    "text": "Fresh sourdough at 7",
    "published_at": "2026-12-01T07:00:02.114000Z",
    "next_sync_at": "2026-12-01T13:00:05.020000Z",
    "totals": {
        "impressions": 1840,
        "reach": 1210,
        "reactions": 61,
        "comments": 9,
        "shares": 4,
        "clicks": 22,
    },
    "engagements": 96,
    "engagement_rate": 0.0522,
    "targets": [
        {
            "account_id": "acc_5b0f3a9d2c7e41f8a6b1d3e9",
            "platform": "x",
            "platform_post_id": "1900000000000000001",
            "published_at": "2026-12-01T07:00:02.114000Z",
            "metrics": {
                "impressions": 1840,
                "reach": None,
                "reactions": 61,
                "comments": 9,
                "shares": 4,
                "clicks": 22,
            },
            "unavailable": {"reach": "X does not report reach"},
            "taken_at": "2026-12-01T12:00:05.020000Z",
            "attempted_at": "2026-12-01T12:00:05.020000Z",
            "stale": False,
            "stale_reason": None,
            "error": None,
            "engagements": 96,
            "engagement_rate": 0.0522,
            "series": [
                {
                    "taken_at": "2026-12-01T08:00:04.310000Z",
                    "impressions": 610,
                    "reactions": 20,
                    "comments": 2,
                    "shares": 1,
                    "clicks": 7,
                }
            ],
        }
    ],
    "generated_at": "2026-12-01T12:30:00.000000Z",
    "refreshed": None,
}


WindowQuery = Annotated[str, Query(examples=["7d"], description="30m, 24h, 7d ... (max 90d)")]
AccountQuery = Annotated[
    str | None,
    Query(
        pattern=r"^acc_[0-9a-z]{1,64}$",
        examples=["acc_5b0f3a9d2c7e41f8a6b1d3e9"],
        description="Only this account's targets",
    ),
]


@router.get(
    "/analytics/summary",
    response_model=SummaryOut,
    summary="Per platform: publishing success and latency, and engagement (impressions, "
    "reactions, comments, shares, clicks, rate) per platform and account, best posts, daily "
    "and by hour of week",
    description="Cached for 5 minutes per business, window, account and zone (`cached`).",
    dependencies=[RateLimit("analytics")],
)
async def summary(
    principal: PrincipalDep,
    container: ContainerDep,
    window: WindowQuery = "7d",
    account_id: AccountQuery = None,
    timezone: Annotated[
        str,
        Query(
            max_length=64,
            examples=["Europe/Paris"],
            description="IANA zone for `daily` and `hour_of_week`",
        ),
    ] = "UTC",
) -> SummaryOut:
    data = await analytics.summary(
        container.analytics_ports,
        principal.business_id,
        window,
        account_id=account_id,
        timezone=timezone,
    )
    return SummaryOut.model_validate(data)


@router.get(
    "/analytics/posts",
    response_model=PostRowsOut,
    summary="Every published target in the window with its latest metrics (the CSV export)",
    dependencies=[RateLimit("analytics")],
)
async def post_rows(
    principal: PrincipalDep,
    container: ContainerDep,
    window: WindowQuery = "7d",
    account_id: AccountQuery = None,
) -> PostRowsOut:
    from herald.clock import isoformat
    from herald.metrics.report import post_rows as rows_of

    span = analytics.parse_window(window)
    now = container.clock.now()
    since, until = isoformat(now - span), isoformat(now)
    items = await asyncio.to_thread(container.metrics.window, principal.business_id, since, until)
    return PostRowsOut(
        window=window,
        since=since,
        until=until,
        account_id=account_id,
        items=[PostRowOut.model_validate(r) for r in rows_of(items, now, account_id=account_id)],
    )


async def _post_metrics(container: Container, business_id: str, post_id: str) -> dict[str, Any]:
    from herald.metrics.report import post_view

    item, readings = await asyncio.gather(
        asyncio.to_thread(container.posts.get_item, business_id, post_id),
        asyncio.to_thread(container.metrics.readings, business_id, post_id),
    )
    return post_view(item, readings, container.clock.now())


@router.get(
    "/analytics/posts/{post_id}",
    response_model=PostMetricsOut,
    summary="One post's engagement on each network: latest metrics (stale or unavailable ones "
    "say so) and every reading",
    responses={200: {"content": {"application/json": {"example": POST_EXAMPLE}}}},
    dependencies=[RateLimit("analytics")],
)
async def post_metrics(
    post_id: PostId, principal: PrincipalDep, container: ContainerDep
) -> PostMetricsOut:
    data = await _post_metrics(container, principal.business_id, post_id)
    return PostMetricsOut.model_validate(data)


@router.post(
    "/analytics/posts/{post_id}/sync",
    response_model=PostMetricsOut,
    summary="Read one post's metrics from its networks now (at most once every 5 minutes)",
    description="`refreshed` is false when every target was read less than "
    "`METRICS_REFRESH_MIN_SECONDS` ago: the metrics are returned as they are. A post with no "
    "published target is a 409.",
    responses={
        200: {"content": {"application/json": {"example": {**POST_EXAMPLE, "refreshed": True}}}}
    },
    dependencies=[RateLimit("analytics")],
)
async def sync_post_metrics(
    post_id: PostId, principal: PrincipalDep, container: ContainerDep
) -> PostMetricsOut:
    from herald.metrics.sync import sync_post

    refreshed = await sync_post(
        container.metrics_sync_ports, principal.business_id, post_id, container.clock.now()
    )
    data = await _post_metrics(container, principal.business_id, post_id)
    return PostMetricsOut.model_validate({**data, "refreshed": refreshed})
