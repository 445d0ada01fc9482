"""Facebook Page post insights and Instagram media insights against Graph's documented answers
(MockTransport), through the Graph version in settings."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from herald.metrics.meta import FacebookMetricsReader, InstagramMetricsReader
from herald.metrics.model import ReadError, Reading
from herald.platforms.base import ErrorKind, PlatformError
from tests.fakes.platform_http import FakePlatform
from tests.unit.metrics.helpers import account, target

GRAPH = "https://graph.facebook.com"
POST = "200000000000001_100003"
MEDIA = "17950000000000005"
PAGE = account("facebook", "200000000000001", page_id="200000000000001")
IG = account("instagram", "17841400000000001")


def insights(node: str, values: dict[str, int]) -> httpx.Response:
    data = [
        {
            "name": name,
            "period": "lifetime",
            "values": [{"value": value}],
            "title": name,
            "description": name,
            "id": f"{node}/insights/{name}/lifetime",
        }
        for name, value in values.items()
    ]
    return httpx.Response(200, json={"data": data, "paging": {"previous": "", "next": ""}})


def graph_error(
    code: int, message: str, status: int = 400, subcode: int | None = None
) -> httpx.Response:
    error: dict[str, object] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "Abc",
    }
    if subcode:
        error["error_subcode"] = subcode
    return httpx.Response(status, json={"error": error})


COUNTS = httpx.Response(
    200,
    json={
        "id": POST,
        "shares": {"count": 4},
        "reactions": {"data": [], "summary": {"total_count": 61, "viewer_reaction": "NONE"}},
        "comments": {
            "data": [],
            "summary": {"order": "ranked", "total_count": 9, "can_comment": True},
        },
    },
)


def facebook(fake: FakePlatform) -> FacebookMetricsReader:
    return FacebookMetricsReader(fake.client(), graph_base=GRAPH, version="v25.0")


def instagram(fake: FakePlatform) -> InstagramMetricsReader:
    return InstagramMetricsReader(fake.client(), graph_base=GRAPH, version="v25.0")


async def test_a_page_post_is_read_from_its_counts_and_its_insights() -> None:
    fb = (
        FakePlatform()
        .on("GET", f"/v25.0/{POST}", COUNTS)
        .on(
            "GET",
            f"/v25.0/{POST}/insights",
            insights(
                POST,
                {"post_media_view": 1840, "post_total_media_view_unique": 1210, "post_clicks": 22},
            ),
        )
    )

    found = await facebook(fb).read(PAGE, [target("facebook", POST, timedelta(hours=5))])

    assert found[POST] == Reading(
        {
            "impressions": 1840,
            "reach": 1210,
            "reactions": 61,
            "comments": 9,
            "shares": 4,
            "clicks": 22,
        },
        {},
    )
    counts, asked = fb.requests
    assert counts.url.params["fields"] == (
        "shares,reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0)"
    )
    assert asked.url.params["metric"] == "post_media_view,post_total_media_view_unique,post_clicks"
    assert asked.headers["authorization"] == "Bearer tok-123"
    assert "access_token" not in str(asked.url)


async def test_a_post_nobody_shared_has_zero_shares_not_none() -> None:
    fb = (
        FakePlatform()
        .on("GET", f"/v25.0/{POST}", httpx.Response(200, json={"id": POST}))
        .on("GET", f"/v25.0/{POST}/insights", insights(POST, {}))
    )

    found = await facebook(fb).read(PAGE, [target("facebook", POST, timedelta(minutes=10))])

    reading = found[POST]
    assert isinstance(reading, Reading)
    assert reading.values["shares"] == 0
    assert "48 hours" in reading.unavailable["impressions"]


async def test_a_refused_post_clicks_metric_is_dropped_and_the_rest_read_again() -> None:
    fb = (
        FakePlatform()
        .on("GET", f"/v25.0/{POST}", COUNTS)
        .on(
            "GET",
            f"/v25.0/{POST}/insights",
            graph_error(100, "(#100) The value must be a valid insights metric"),
            insights(POST, {"post_media_view": 500, "post_total_media_view_unique": 300}),
        )
    )

    found = await facebook(fb).read(PAGE, [target("facebook", POST, timedelta(hours=5))])

    reading = found[POST]
    assert isinstance(reading, Reading)
    assert reading.values["impressions"] == 500
    assert "post_clicks" in reading.unavailable["clicks"]
    assert fb.sent("GET", f"/v25.0/{POST}/insights")[1].url.params["metric"] == (
        "post_media_view,post_total_media_view_unique"
    )


async def test_without_read_insights_the_counts_still_read_and_views_say_why() -> None:
    fb = (
        FakePlatform()
        .on("GET", f"/v25.0/{POST}", COUNTS)
        .on(
            "GET",
            f"/v25.0/{POST}/insights",
            graph_error(10, "(#10) Application does not have permission for this action", 403),
        )
    )

    found = await facebook(fb).read(PAGE, [target("facebook", POST, timedelta(hours=5))])

    reading = found[POST]
    assert isinstance(reading, Reading)
    assert reading.values == {"reactions": 61, "comments": 9, "shares": 4}
    assert "permission" in reading.unavailable["impressions"]


async def test_an_expired_page_token_stops_the_account() -> None:
    fb = FakePlatform().on(
        "GET", f"/v25.0/{POST}", graph_error(190, "Error validating access token", 400, 463)
    )

    with pytest.raises(PlatformError) as raised:
        await facebook(fb).read(PAGE, [target("facebook", POST, timedelta(hours=5))])

    assert raised.value.kind is ErrorKind.AUTH_REVOKED


async def test_a_deleted_page_post_is_gone() -> None:
    fb = FakePlatform().on(
        "GET",
        f"/v25.0/{POST}",
        graph_error(
            100, f"Unsupported get request. Object with ID '{POST}' does not exist", 400, 33
        ),
    )

    found = await facebook(fb).read(PAGE, [target("facebook", POST, timedelta(hours=5))])

    gone = found[POST]
    assert isinstance(gone, ReadError)
    assert gone.kind == "gone"


async def test_a_business_use_case_limit_is_rate_limited_for_its_regain_time() -> None:
    usage = '{"200000000000001": [{"type": "pages", "call_count": 100, "total_cputime": 20, '
    usage += '"total_time": 20, "estimated_time_to_regain_access": 12}]}'
    fb = FakePlatform().on(
        "GET",
        f"/v25.0/{POST}",
        httpx.Response(
            400,
            json={"error": {"message": "too many calls", "type": "OAuthException", "code": 80001}},
            headers={"x-business-use-case-usage": usage},
        ),
    )

    with pytest.raises(PlatformError) as raised:
        await facebook(fb).read(PAGE, [target("facebook", POST, timedelta(hours=5))])

    assert raised.value.kind is ErrorKind.RATE_LIMITED
    assert raised.value.retry_after == 720


async def test_instagram_media_insights_use_todays_metric_names() -> None:
    ig = FakePlatform().on(
        "GET",
        f"/v25.0/{MEDIA}/insights",
        insights(
            MEDIA,
            {
                "views": 900,
                "reach": 640,
                "likes": 50,
                "comments": 6,
                "shares": 3,
                "saved": 8,
                "total_interactions": 67,
            },
        ),
    )

    found = await instagram(ig).read(IG, [target("instagram", MEDIA, timedelta(hours=5))])

    assert found[MEDIA] == Reading(
        {"impressions": 900, "reach": 640, "reactions": 50, "comments": 6, "shares": 3},
        {"clicks": "Instagram reports no clicks on a post"},
    )
    metrics = ig.requests[0].url.params["metric"].split(",")
    assert "impressions" not in metrics  # retired for every version on 2025-04-21
    assert metrics == [
        "views",
        "reach",
        "likes",
        "comments",
        "shares",
        "saved",
        "total_interactions",
    ]


async def test_without_insights_permission_instagram_falls_back_to_the_posts_counts() -> None:
    ig = (
        FakePlatform()
        .on(
            "GET",
            f"/v25.0/{MEDIA}/insights",
            graph_error(10, "(#10) Application does not have permission for this action", 403),
        )
        .on(
            "GET",
            f"/v25.0/{MEDIA}",
            httpx.Response(200, json={"id": MEDIA, "like_count": 50, "comments_count": 6}),
        )
    )

    found = await instagram(ig).read(IG, [target("instagram", MEDIA, timedelta(hours=5))])

    reading = found[MEDIA]
    assert isinstance(reading, Reading)
    assert reading.values == {"reactions": 50, "comments": 6}
    assert "permission" in reading.unavailable["reach"]
    assert ig.requests[1].url.params["fields"] == "like_count,comments_count"
