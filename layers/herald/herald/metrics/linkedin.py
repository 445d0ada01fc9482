"""LinkedIn: what the token's scopes allow, best first.

- A member's posts with `r_member_postAnalytics` (Community Management API):
  memberCreatorPostAnalytics, `q=entity`, one request per metric (IMPRESSION,
  MEMBERS_REACHED, REACTION, COMMENT, RESHARE) with `aggregation=TOTAL`; it reports no clicks.
  https://learn.microsoft.com/linkedin/marketing/community-management/members/post-statistics
- An organization's posts with `rw_organization_admin`: organizationalEntityShareStatistics,
  `q=organizationalEntity`, every share and ugcPost of the page in one request (lifetime totals:
  impressions, unique impressions, clicks, likes, comments, shares; organic only, 12 months).
  https://learn.microsoft.com/linkedin/marketing/community-management/organizations/share-statistics
- With only `r_member_social` / `r_organization_social`: socialActions, reaction and comment
  counts (`likesSummary.totalLikes`, `commentsSummary.aggregatedTotalComments`).
  https://learn.microsoft.com/linkedin/marketing/community-management/shares/network-update-social-actions
- None of these (the default `w_member_social` app): nothing can be read; every metric says so,
  and no request is made.

Every request carries `LinkedIn-Version` from settings and Rest.li 2.0, whose URNs in a query are
percent-encoded whole and whose lists are `List(a,b)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from herald.accounts import PlatformName
from herald.metrics.model import MetricTarget, ReadError, Reading
from herald.metrics.readers import MetricsAccount, Outcome
from herald.platforms import errors
from herald.platforms.base import PlatformError

MEMBER_ANALYTICS = "r_member_postAnalytics"
ORG_ANALYTICS = "rw_organization_admin"
SOCIAL_READ = ("r_member_social", "r_organization_social")
MEMBER_QUERIES = {
    "impressions": "IMPRESSION",
    "reach": "MEMBERS_REACHED",
    "reactions": "REACTION",
    "comments": "COMMENT",
    "shares": "RESHARE",
}
ORG_BATCH = 50  # shares per statistics request, well within a URL's length
NO_SCOPE = (
    "LinkedIn gives post statistics only to apps granted r_member_postAnalytics (members) or "
    "rw_organization_admin (pages): add the scope to LINKEDIN_SCOPES and reconnect"
)


def _enc(urn: str) -> str:
    return quote(urn, safe="")


def _entity(urn: str) -> str:
    # The entity finder takes a union: (share:<urn>) or (ugc:<urn>).
    kind = "ugc" if ":ugcPost:" in urn else "share"
    return f"({kind}:{_enc(urn)})"


class LinkedInMetricsReader:
    platform: PlatformName = "linkedin"

    def __init__(self, http: httpx.AsyncClient, *, api_base: str, version: str) -> None:
        self._http = http
        self._base = api_base.rstrip("/")
        self._version = version

    def _headers(self, account: MetricsAccount, finder: bool = True) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {account.creds.access_token}",
            "LinkedIn-Version": self._version,
            "X-Restli-Protocol-Version": "2.0.0",
        }
        if finder:
            headers["X-RestLi-Method"] = "FINDER"
        return headers

    async def _get(self, account: MetricsAccount, url: str, finder: bool = True) -> dict[str, Any]:
        response = await errors.send(
            self._http, "linkedin", "GET", url, headers=self._headers(account, finder)
        )
        if response.status_code != 200:
            raise self.error(response)
        return errors.json_body(response)

    async def read(
        self, account: MetricsAccount, targets: Sequence[MetricTarget]
    ) -> dict[str, Outcome]:
        author = account.creds.details.get("author_urn") or account.creds.external_id
        scopes = account.scopes
        if author.startswith("urn:li:organization:") and ORG_ANALYTICS in scopes:
            return await self._organization(account, author, targets)
        if not author.startswith("urn:li:organization:") and MEMBER_ANALYTICS in scopes:
            return {t.platform_post_id: await self._member(account, t) for t in targets}
        if any(scope in scopes for scope in SOCIAL_READ):
            return {t.platform_post_id: await self._social(account, t) for t in targets}
        return {t.platform_post_id: Reading.none(NO_SCOPE) for t in targets}

    async def _member(self, account: MetricsAccount, target: MetricTarget) -> Outcome:
        values: dict[str, int | None] = {}
        for name, query in MEMBER_QUERIES.items():
            url = (
                f"{self._base}/rest/memberCreatorPostAnalytics?q=entity"
                f"&entity={_entity(target.platform_post_id)}&queryType={query}&aggregation=TOTAL"
            )
            try:
                body = await self._get(account, url)
            except PlatformError as exc:
                if exc.status == 404:
                    return ReadError("gone", "the post no longer exists on LinkedIn", retry=False)
                raise
            elements = [e for e in body.get("elements") or [] if isinstance(e, dict)]
            # No element: LinkedIn has no data point yet (a brand-new post), not a zero.
            values[name] = (
                int(elements[0]["count"]) if elements and "count" in elements[0] else None
            )
        return Reading.of(
            values, {"clicks": "LinkedIn's member post analytics do not report clicks"}
        )

    async def _organization(
        self, account: MetricsAccount, organization: str, targets: Sequence[MetricTarget]
    ) -> dict[str, Outcome]:
        out: dict[str, Outcome] = {}
        for start in range(0, len(targets), ORG_BATCH):
            chunk = targets[start : start + ORG_BATCH]
            shares = [
                _enc(t.platform_post_id) for t in chunk if ":ugcPost:" not in t.platform_post_id
            ]
            ugc = [_enc(t.platform_post_id) for t in chunk if ":ugcPost:" in t.platform_post_id]
            url = (
                f"{self._base}/rest/organizationalEntityShareStatistics?q=organizationalEntity"
                f"&organizationalEntity={_enc(organization)}"
            )
            if shares:
                url += f"&shares=List({','.join(shares)})"
            if ugc:
                url += f"&ugcPosts=List({','.join(ugc)})"
            body = await self._get(account, url)
            for element in body.get("elements") or []:
                if not isinstance(element, dict):
                    continue
                urn = str(element.get("share") or element.get("ugcPost") or "")
                stats = element.get("totalShareStatistics") or {}
                out[urn] = Reading.of(
                    {
                        "impressions": stats.get("impressionCount"),
                        "reach": stats.get("uniqueImpressionsCount"),
                        "reactions": stats.get("likeCount"),
                        "comments": stats.get("commentCount"),
                        "shares": stats.get("shareCount"),
                        "clicks": stats.get("clickCount"),
                    },
                    {},
                )
            for target in chunk:
                if target.platform_post_id not in out:
                    out[target.platform_post_id] = _org_missing(target)
        return out

    async def _social(self, account: MetricsAccount, target: MetricTarget) -> Outcome:
        url = f"{self._base}/rest/socialActions/{_enc(target.platform_post_id)}"
        try:
            body = await self._get(account, url, finder=False)
        except PlatformError as exc:
            if exc.status == 404:
                return ReadError("gone", "the post no longer exists on LinkedIn", retry=False)
            raise
        likes = body.get("likesSummary") or {}
        comments = body.get("commentsSummary") or {}
        why = f"LinkedIn reports only reactions and comments without {MEMBER_ANALYTICS}"
        return Reading.of(
            {
                "reactions": likes.get("totalLikes"),
                "comments": comments.get("aggregatedTotalComments"),
            },
            {name: why for name in ("impressions", "reach", "shares", "clicks")},
        )

    def error(self, response: httpx.Response) -> PlatformError:
        body = errors.json_body(response)
        code = body.get("code") or body.get("serviceErrorCode")
        retry_after = None
        if response.status_code == 429:
            retry_after = errors.parse_retry_after(response.headers.get("retry-after"))
            if retry_after is None:
                # LinkedIn's day limits reset at midnight UTC and the 429 says nothing more.
                now = datetime.now(UTC)
                midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0)
                retry_after = (midnight - now).total_seconds()
        return errors.by_status(
            "linkedin",
            response,
            str(body.get("message") or ""),
            platform_code=str(code) if code is not None else None,
            retry_after=retry_after,
        )


def _org_missing(target: MetricTarget) -> Outcome:
    published = datetime.fromisoformat(target.published_at.replace("Z", "+00:00"))
    if datetime.now(UTC) - published > timedelta(days=365):
        return Reading.none("LinkedIn keeps share statistics for 12 months")
    return Reading.none("LinkedIn has no statistics for this post yet")
