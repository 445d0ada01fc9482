"""Threads media insights, one read per post, through the Threads Graph version in settings.

`GET graph.threads.net/{version}/{threads-media-id}/insights?metric=views,likes,replies,reposts,
quotes,shares` answers Graph's `{data: [{name, period: "lifetime", values: [{value}], title,
description, id}]}`; it needs `threads_manage_insights` besides `threads_basic`, which Herald
asks for when the account is connected (settings.threads_scopes).
https://developers.facebook.com/docs/threads/insights (Media Insights) and
https://developers.facebook.com/docs/threads/reference/insights

What each metric becomes: `views` the impressions ("in development" at Meta, so it may be
missing), `likes` the reactions, `replies` the comments (a root post's count includes every
reply, nested replies' own metrics are not counted), and `reposts`, `quotes` and `shares` the
shares (every way the post is passed on, as X's reposts and quotes are; `shares` is "in
development" too, and a version that refuses it as a metric is asked again without it).
Threads gives no reach and no clicks for a post (clicks are a user-level metric only).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from herald.accounts import PlatformName
from herald.metrics.meta import insight_values
from herald.metrics.model import MetricTarget, Reading
from herald.metrics.readers import MetricsAccount, Outcome, read_error
from herald.platforms import errors
from herald.platforms.base import ErrorKind, PlatformError
from herald.platforms.meta import graph_error

THREADS_INSIGHTS = ("views", "likes", "replies", "reposts", "quotes", "shares")
INSIGHTS_SCOPE = "threads_manage_insights"
NOT_GIVEN = {
    "reach": "Threads reports no reach for a post",
    "clicks": "Threads reports clicks for a profile, not for a post",
}
NOT_YET = "Threads has no data for it yet"


def _account_wide(exc: PlatformError) -> bool:
    """Failures that stop every read of this account now: token, rate limit, outage."""
    if exc.kind in (ErrorKind.RATE_LIMITED, ErrorKind.TRANSIENT, ErrorKind.AMBIGUOUS):
        return True
    return read_error(exc).kind == "auth_revoked"


class ThreadsMetricsReader:
    platform: PlatformName = "threads"

    def __init__(self, http: httpx.AsyncClient, *, graph_base: str, version: str) -> None:
        self._http = http
        self._root = f"{graph_base.rstrip('/')}/{version}"

    async def read(
        self, account: MetricsAccount, targets: Sequence[MetricTarget]
    ) -> dict[str, Outcome]:
        if account.scopes and INSIGHTS_SCOPE not in account.scopes:
            # Connected before Herald asked for insights: no count of a post reads without it.
            why = f"Threads needs {INSIGHTS_SCOPE}: reconnect the account to grant it"
            return {t.platform_post_id: Reading.none(why) for t in targets}
        return {t.platform_post_id: await self._one(account, t.platform_post_id) for t in targets}

    async def _get(self, account: MetricsAccount, media_id: str, metrics: list[str]) -> Any:
        response = await errors.send(
            self._http,
            "threads",
            "GET",
            f"{self._root}/{media_id}/insights",
            headers={"Authorization": f"Bearer {account.creds.access_token}"},
            params={"metric": ",".join(metrics)},
        )
        if response.status_code != 200:
            raise graph_error("threads", response)
        return errors.json_body(response)

    async def _one(self, account: MetricsAccount, media_id: str) -> Outcome:
        metrics = list(THREADS_INSIGHTS)
        unavailable = dict(NOT_GIVEN)
        while True:
            try:
                body = await self._get(account, media_id, metrics)
            except PlatformError as exc:
                if _account_wide(exc):
                    raise
                if exc.platform_code == "100" and "shares" in metrics:
                    # `shares` is in development at Meta: read the others without it.
                    metrics.remove("shares")
                    continue
                return read_error(exc)
            break
        found = insight_values(body)
        passed_on = [found[m] for m in ("reposts", "quotes", "shares") if m in found]
        return Reading.of(
            {
                "impressions": found.get("views"),
                "reactions": found.get("likes"),
                "comments": found.get("replies"),
                "shares": sum(passed_on) if passed_on else None,
            },
            {
                **dict.fromkeys(("impressions", "reactions", "comments", "shares"), NOT_YET),
                **unavailable,
            },
        )
