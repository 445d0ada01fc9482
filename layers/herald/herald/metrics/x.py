"""X: a post's metrics through Posts lookup, `GET /2/tweets?ids=...` (up to 100 ids a request).

https://docs.x.com/x-api/fundamentals/metrics: public metrics (likes, reposts, quotes, replies,
bookmarks, impressions) for any post; non-public metrics (link and profile clicks) only with the
author's user-context token and only for posts created in the last 30 days, so older posts are
asked for public metrics alone and their clicks are said to be unavailable. X gives no reach.
Limits (https://docs.x.com/x-api/fundamentals/rate-limits): 5,000 lookups per 15 minutes per user;
a 429 carries `x-rate-limit-reset` (epoch seconds).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from herald.accounts import PlatformName
from herald.clock import parse_iso
from herald.metrics.model import MetricTarget, ReadError, Reading
from herald.metrics.readers import MetricsAccount, Outcome
from herald.platforms import errors
from herald.platforms.base import PlatformError

LOOKUP_MAX_IDS = 100
# X counts 30 days from the post's creation; an hour's margin keeps a run that straddles the
# boundary from asking for fields X would refuse.
NON_PUBLIC_WINDOW = timedelta(days=30) - timedelta(hours=1)
PUBLIC_FIELDS = "public_metrics,created_at"
ALL_FIELDS = "public_metrics,non_public_metrics,organic_metrics,created_at"
NO_REACH = "X does not report reach"
OLD_CLICKS = "X gives clicks only for posts from the last 30 days"


def _chunks(items: Sequence[MetricTarget], size: int) -> list[Sequence[MetricTarget]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _reading(tweet: dict[str, Any], with_clicks: bool, refused_fields: set[str]) -> Reading:
    public = tweet.get("public_metrics") or {}
    private = tweet.get("non_public_metrics") or {}
    unavailable = {"reach": NO_REACH}
    clicks: int | None = None
    if not with_clicks:
        unavailable["clicks"] = OLD_CLICKS
    elif "non_public_metrics" in refused_fields or not private:
        unavailable["clicks"] = "X did not authorize non-public metrics for this post"
    else:
        # url_link_clicks is absent when the post has no link.
        clicks = int(private.get("url_link_clicks", 0)) + int(private.get("user_profile_clicks", 0))
    shares = None
    if "retweet_count" in public:
        shares = int(public["retweet_count"]) + int(public.get("quote_count", 0))
    return Reading.of(
        {
            "impressions": private.get("impression_count", public.get("impression_count")),
            "reactions": public.get("like_count"),
            "comments": public.get("reply_count"),
            "shares": shares,
            "clicks": clicks,
        },
        unavailable,
    )


class XMetricsReader:
    platform: PlatformName = "x"

    def __init__(
        self, http: httpx.AsyncClient, *, api_base: str, now: Callable[[], datetime] | None = None
    ) -> None:
        self._http = http
        self._base = api_base.rstrip("/")
        self._now = now or (lambda: datetime.now(UTC))

    async def read(
        self, account: MetricsAccount, targets: Sequence[MetricTarget]
    ) -> dict[str, Outcome]:
        now = self._now()
        recent = [t for t in targets if now - parse_iso(t.published_at) < NON_PUBLIC_WINDOW]
        older = [t for t in targets if t not in recent]
        out: dict[str, Outcome] = {}
        for group, with_clicks in ((recent, True), (older, False)):
            for chunk in _chunks(group, LOOKUP_MAX_IDS):
                out.update(await self._lookup(account, chunk, with_clicks))
        return out

    async def _lookup(
        self, account: MetricsAccount, chunk: Sequence[MetricTarget], with_clicks: bool
    ) -> dict[str, Outcome]:
        params = {
            "ids": ",".join(t.platform_post_id for t in chunk),
            "tweet.fields": ALL_FIELDS if with_clicks else PUBLIC_FIELDS,
        }
        response = await errors.send(
            self._http,
            "x",
            "GET",
            f"{self._base}/2/tweets",
            headers={"Authorization": f"Bearer {account.creds.access_token}"},
            params=params,
        )
        if response.status_code != 200:
            raise self.error(response)
        body = errors.json_body(response)
        # Partial errors name the post (`value` or `resource_id`) and, for a field X would not
        # give, the field (`parameter`); the post itself is still in `data`.
        refused: dict[str, set[str]] = {}
        missing: dict[str, str] = {}
        for problem in body.get("errors") or []:
            if not isinstance(problem, dict):
                continue
            post = str(problem.get("resource_id") or problem.get("value") or "")
            kind = str(problem.get("type", ""))
            if kind.endswith("not-authorized-for-field"):
                refused.setdefault(post, set()).add(
                    str(problem.get("field") or "non_public_metrics")
                )
            elif kind.endswith(("resource-not-found", "not-authorized-for-resource")):
                missing[post] = str(problem.get("detail") or problem.get("title") or kind)
        out: dict[str, Outcome] = {}
        for tweet in body.get("data") or []:
            if isinstance(tweet, dict) and tweet.get("id"):
                tweet_id = str(tweet["id"])
                out[tweet_id] = _reading(tweet, with_clicks, refused.get(tweet_id, set()))
        for target in chunk:
            if target.platform_post_id not in out:
                detail = missing.get(target.platform_post_id)
                out[target.platform_post_id] = ReadError(
                    "gone",
                    "the post no longer exists on X" + (f": {detail}" if detail else ""),
                    retry=False,
                )
        return out

    def error(self, response: httpx.Response) -> PlatformError:
        body = errors.json_body(response)
        detail = str(body.get("detail") or body.get("title") or "")
        retry_after = None
        if response.status_code == 429:
            retry_after = errors.seconds_until_epoch(
                response.headers.get("x-rate-limit-reset"), self._now()
            )
        return errors.by_status("x", response, detail, retry_after=retry_after)
