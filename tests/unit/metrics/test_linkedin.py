"""LinkedIn's metrics reader against the documented answers of member post analytics,
organization share statistics and social actions (MockTransport)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from herald.metrics.linkedin import NO_SCOPE, LinkedInMetricsReader
from herald.metrics.model import METRICS, ReadError, Reading
from herald.platforms.base import ErrorKind, PlatformError
from tests.fakes.platform_http import FakePlatform
from tests.unit.metrics.helpers import account, target

SHARE = "urn:li:share:7000000000000000002"
UGC = "urn:li:ugcPost:7000000000000000009"
ORG = "urn:li:organization:2414183"
COUNTS = {"IMPRESSION": 900, "MEMBERS_REACHED": 610, "REACTION": 33, "COMMENT": 5, "RESHARE": 2}


def reader(platform: FakePlatform) -> LinkedInMetricsReader:
    return LinkedInMetricsReader(
        platform.client(), api_base="https://api.linkedin.com", version="202610"
    )


def member_answer(request: httpx.Request) -> httpx.Response:
    query = request.url.params["queryType"]
    element = {"count": COUNTS[query], "metricType": query, "targetEntity": {"share": SHARE}}
    return httpx.Response(200, json={"paging": {"start": 0, "count": 10}, "elements": [element]})


async def test_a_members_post_is_read_one_metric_a_request_with_the_version_header() -> None:
    li = FakePlatform().on("GET", "/rest/memberCreatorPostAnalytics", member_answer)
    member = account("linkedin", "urn:li:person:abc", "r_member_postAnalytics")

    found = await reader(li).read(member, [target("linkedin", SHARE, timedelta(hours=2))])

    assert found[SHARE] == Reading(
        {"impressions": 900, "reach": 610, "reactions": 33, "comments": 5, "shares": 2},
        {"clicks": "LinkedIn's member post analytics do not report clicks"},
    )
    assert [r.url.params["queryType"] for r in li.requests] == list(COUNTS)
    first = li.requests[0]
    assert first.url.params["entity"] == f"(share:{SHARE})"
    assert "entity=(share:urn%3Ali%3Ashare%3A7000000000000000002)" in str(first.url)
    assert first.url.params["aggregation"] == "TOTAL"
    assert first.headers["linkedin-version"] == "202610"
    assert first.headers["x-restli-protocol-version"] == "2.0.0"


async def test_a_ugc_post_is_named_as_a_ugc_entity() -> None:
    li = FakePlatform().on("GET", "/rest/memberCreatorPostAnalytics", member_answer)
    member = account("linkedin", "urn:li:person:abc", "r_member_postAnalytics")

    await reader(li).read(member, [target("linkedin", UGC, timedelta(hours=2))])

    assert li.requests[0].url.params["entity"] == f"(ugc:{UGC})"


async def test_a_brand_new_post_without_data_points_is_unavailable_not_zero() -> None:
    li = FakePlatform().on(
        "GET", "/rest/memberCreatorPostAnalytics", httpx.Response(200, json={"elements": []})
    )
    member = account("linkedin", "urn:li:person:abc", "r_member_postAnalytics")

    found = await reader(li).read(member, [target("linkedin", SHARE, timedelta(minutes=5))])

    reading = found[SHARE]
    assert isinstance(reading, Reading)
    assert reading.values == {}
    assert set(reading.unavailable) == set(METRICS)


async def test_an_organizations_posts_are_read_in_one_statistics_request() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        elements = [
            {
                "organizationalEntity": ORG,
                "share": SHARE,
                "totalShareStatistics": {
                    "uniqueImpressionsCount": 700,
                    "shareCount": 3,
                    "engagement": 0.05,
                    "clickCount": 40,
                    "likeCount": 20,
                    "impressionCount": 1200,
                    "commentCount": 6,
                },
            }
        ]
        return httpx.Response(200, json={"paging": {"count": 10, "start": 0}, "elements": elements})

    li = FakePlatform().on("GET", "/rest/organizationalEntityShareStatistics", answer)
    page = account("linkedin", ORG, "rw_organization_admin", author_urn=ORG)

    found = await reader(li).read(
        page,
        [target("linkedin", SHARE, timedelta(days=1)), target("linkedin", UGC, timedelta(days=1))],
    )

    (sent,) = li.requests
    assert sent.url.params["q"] == "organizationalEntity"
    assert sent.url.params["organizationalEntity"] == ORG
    assert sent.url.params["shares"] == f"List({SHARE})"
    assert sent.url.params["ugcPosts"] == f"List({UGC})"
    assert found[SHARE] == Reading(
        {
            "impressions": 1200,
            "reach": 700,
            "reactions": 20,
            "comments": 6,
            "shares": 3,
            "clicks": 40,
        },
        {},
    )
    missing = found[UGC]
    assert isinstance(missing, Reading)
    assert missing.values == {}


async def test_social_actions_give_reactions_and_comments_without_analytics_scopes() -> None:
    li = FakePlatform().on(
        "GET",
        f"/rest/socialActions/{SHARE}",
        httpx.Response(
            200,
            json={
                "likesSummary": {"totalLikes": 12, "likedByCurrentUser": False},
                "commentsSummary": {"totalFirstLevelComments": 3, "aggregatedTotalComments": 4},
            },
        ),
    )
    member = account("linkedin", "urn:li:person:abc", "r_member_social")

    found = await reader(li).read(member, [target("linkedin", SHARE, timedelta(days=1))])

    reading = found[SHARE]
    assert isinstance(reading, Reading)
    assert reading.values == {"reactions": 12, "comments": 4}
    assert "r_member_postAnalytics" in reading.unavailable["impressions"]
    assert "socialActions/urn%3Ali%3Ashare%3A" in str(li.requests[0].url)


async def test_without_any_read_scope_nothing_is_asked_and_every_metric_says_why() -> None:
    li = FakePlatform()
    member = account("linkedin", "urn:li:person:abc", "openid", "profile", "w_member_social")

    found = await reader(li).read(member, [target("linkedin", SHARE, timedelta(days=1))])

    assert found[SHARE] == Reading.none(NO_SCOPE)
    assert li.requests == []


async def test_a_deleted_post_is_gone() -> None:
    li = FakePlatform().on(
        "GET",
        "/rest/memberCreatorPostAnalytics",
        httpx.Response(404, json={"status": 404, "message": "Entity not found"}),
    )
    member = account("linkedin", "urn:li:person:abc", "r_member_postAnalytics")

    found = await reader(li).read(member, [target("linkedin", SHARE, timedelta(days=1))])

    gone = found[SHARE]
    assert isinstance(gone, ReadError)
    assert gone.kind == "gone"


async def test_a_day_limit_429_without_retry_after_waits_for_midnight_utc() -> None:
    li = FakePlatform().on(
        "GET",
        "/rest/memberCreatorPostAnalytics",
        httpx.Response(429, json={"status": 429, "message": "Resource level throttle"}),
    )
    member = account("linkedin", "urn:li:person:abc", "r_member_postAnalytics")

    with pytest.raises(PlatformError) as raised:
        await reader(li).read(member, [target("linkedin", SHARE, timedelta(days=1))])

    assert raised.value.kind is ErrorKind.RATE_LIMITED
    assert raised.value.retry_after is not None
    assert 0 < raised.value.retry_after <= 86_400
