"""Facebook Page post insights and Instagram media insights, through the Graph API version in
settings.

Facebook, two reads per post: the post's own counts (`shares`, `reactions` and `comments` with
`summary(total_count)`, which need only pages_read_engagement) and `/{post-id}/insights` for views
and clicks (read_insights). Meta retired `post_impressions*` on 2025-11-15 for every version and
named `post_media_view` (views) and `post_total_media_view_unique` (viewers) as the alternatives:
https://developers.facebook.com/docs/pages-api/changelog/ and
https://developers.facebook.com/docs/platforminsights/page/deprecated-metrics. If Meta refuses
`post_clicks` as an invalid metric (code 100), the read is made again without it.

Instagram, one read per post: `/{ig-media-id}/insights` with `views, reach, likes, comments,
shares, saved, total_interactions` (`impressions`, `plays` and `video_views` were retired in
v22.0 and for every version on 2025-04-21). Data can be up to 48 hours late, and a metric with
no data yet is left out of the answer rather than given as 0; Instagram reports no clicks on a
post. https://developers.facebook.com/docs/instagram-platform/reference/instagram-media/insights
Without instagram_manage_insights the post's own `like_count` and `comments_count` are read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from herald.accounts import PlatformName
from herald.metrics.model import MetricTarget, Reading
from herald.metrics.readers import MetricsAccount, Outcome, read_error
from herald.platforms import errors
from herald.platforms.base import ErrorKind, PlatformError
from herald.platforms.meta import graph_error

FACEBOOK_COUNTS = (
    "shares,reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0)"
)
FACEBOOK_INSIGHTS = ("post_media_view", "post_total_media_view_unique", "post_clicks")
INSTAGRAM_INSIGHTS = (
    "views",
    "reach",
    "likes",
    "comments",
    "shares",
    "saved",
    "total_interactions",
)
NOT_YET = "Meta has no data for it yet (insights can be up to 48 hours late)"


class _Graph:
    def __init__(self, http: httpx.AsyncClient, graph_base: str, version: str) -> None:
        self._http = http
        self._root = f"{graph_base.rstrip('/')}/{version}"

    async def get(
        self, platform: PlatformName, account: MetricsAccount, path: str, params: dict[str, str]
    ) -> dict[str, Any]:
        response = await errors.send(
            self._http,
            platform,
            "GET",
            f"{self._root}/{path}",
            headers={"Authorization": f"Bearer {account.creds.access_token}"},
            params=params,
        )
        if response.status_code != 200:
            raise graph_error(platform, response)
        return errors.json_body(response)


def insight_values(body: dict[str, Any]) -> dict[str, int]:
    """`{data: [{name, period, values: [{value}]}]}` (or `total_value.value`) by metric name."""
    found: dict[str, int] = {}
    for entry in body.get("data") or []:
        if not isinstance(entry, dict) or not entry.get("name"):
            continue
        value: Any = None
        values = entry.get("values")
        if isinstance(values, list) and values and isinstance(values[-1], dict):
            value = values[-1].get("value")
        elif isinstance(entry.get("total_value"), dict):
            value = entry["total_value"].get("value")
        if isinstance(value, int | float):
            found[str(entry["name"])] = int(value)
    return found


def _account_wide(exc: PlatformError) -> bool:
    """Failures that stop every read of this account now: token, rate limit, outage."""
    if exc.kind in (ErrorKind.RATE_LIMITED, ErrorKind.TRANSIENT, ErrorKind.AMBIGUOUS):
        return True
    return read_error(exc).kind == "auth_revoked"


def _gone(exc: PlatformError) -> bool:
    return exc.platform_code == "100/33" or exc.status == 404


class FacebookMetricsReader:
    platform: PlatformName = "facebook"

    def __init__(self, http: httpx.AsyncClient, *, graph_base: str, version: str) -> None:
        self._graph = _Graph(http, graph_base, version)

    async def read(
        self, account: MetricsAccount, targets: Sequence[MetricTarget]
    ) -> dict[str, Outcome]:
        return {t.platform_post_id: await self._one(account, t.platform_post_id) for t in targets}

    async def _one(self, account: MetricsAccount, post_id: str) -> Outcome:
        try:
            counts = await self._graph.get(
                "facebook", account, post_id, {"fields": FACEBOOK_COUNTS}
            )
        except PlatformError as exc:
            if _account_wide(exc):
                raise
            return read_error(exc)
        values: dict[str, int | None] = {
            "reactions": ((counts.get("reactions") or {}).get("summary") or {}).get("total_count"),
            "comments": ((counts.get("comments") or {}).get("summary") or {}).get("total_count"),
            # `shares` is left out of the post entirely until someone shares it.
            "shares": int((counts.get("shares") or {}).get("count", 0)),
        }
        unavailable: dict[str, str] = {}
        metrics = list(FACEBOOK_INSIGHTS)
        insights: dict[str, int] = {}
        while True:
            try:
                body = await self._graph.get(
                    "facebook", account, f"{post_id}/insights", {"metric": ",".join(metrics)}
                )
            except PlatformError as exc:
                if _account_wide(exc):
                    raise
                if exc.platform_code == "100" and "post_clicks" in metrics:
                    metrics.remove("post_clicks")
                    unavailable["clicks"] = "Meta refused post_clicks as an insights metric"
                    continue
                why = read_error(exc).reason
                unavailable.update(dict.fromkeys(("impressions", "reach", "clicks"), why))
                break
            insights = insight_values(body)
            break
        values["impressions"] = insights.get("post_media_view")
        values["reach"] = insights.get("post_total_media_view_unique")
        values["clicks"] = insights.get("post_clicks")
        for name in ("impressions", "reach", "clicks"):
            unavailable.setdefault(name, NOT_YET)
        return Reading.of(values, unavailable)


class InstagramMetricsReader:
    platform: PlatformName = "instagram"

    def __init__(self, http: httpx.AsyncClient, *, graph_base: str, version: str) -> None:
        self._graph = _Graph(http, graph_base, version)

    async def read(
        self, account: MetricsAccount, targets: Sequence[MetricTarget]
    ) -> dict[str, Outcome]:
        return {t.platform_post_id: await self._one(account, t.platform_post_id) for t in targets}

    async def _one(self, account: MetricsAccount, media_id: str) -> Outcome:
        no_clicks = {"clicks": "Instagram reports no clicks on a post"}
        try:
            body = await self._graph.get(
                "instagram",
                account,
                f"{media_id}/insights",
                {"metric": ",".join(INSTAGRAM_INSIGHTS)},
            )
        except PlatformError as exc:
            if _account_wide(exc) or _gone(exc):
                if _gone(exc):
                    return read_error(exc)
                raise
            # Most often the insights permission is missing: the post's own counts still read.
            why = read_error(exc).reason
            try:
                own = await self._graph.get(
                    "instagram", account, media_id, {"fields": "like_count,comments_count"}
                )
            except PlatformError as again:
                if _account_wide(again):
                    raise
                return read_error(again)
            return Reading.of(
                {"reactions": own.get("like_count"), "comments": own.get("comments_count")},
                {**dict.fromkeys(("impressions", "reach", "shares"), why), **no_clicks},
            )
        found = insight_values(body)
        return Reading.of(
            {
                "impressions": found.get("views"),
                "reach": found.get("reach"),
                "reactions": found.get("likes"),
                "comments": found.get("comments"),
                "shares": found.get("shares"),
            },
            {
                **dict.fromkeys(
                    ("impressions", "reach", "reactions", "comments", "shares"), NOT_YET
                ),
                **no_clicks,
            },
        )
