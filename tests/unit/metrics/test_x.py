"""X's metrics reader against Posts lookup's documented answers (MockTransport)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from herald.metrics.model import ReadError, Reading
from herald.metrics.x import OLD_CLICKS, XMetricsReader
from herald.platforms.base import ErrorKind, PlatformError
from tests.fakes.platform_http import FakePlatform
from tests.unit.metrics.helpers import NOW, account, target

ME = account("x", "1500000000000000001")


def tweet(tweet_id: str, *, private: bool = True) -> dict[str, object]:
    found: dict[str, object] = {
        "id": tweet_id,
        "text": "Rye at noon",
        "public_metrics": {
            "retweet_count": 4,
            "reply_count": 9,
            "like_count": 61,
            "quote_count": 2,
            "bookmark_count": 3,
            "impression_count": 1840,
        },
    }
    if private:
        found["non_public_metrics"] = {
            "impression_count": 1840,
            "url_link_clicks": 15,
            "user_profile_clicks": 7,
        }
    return found


def reader(platform: FakePlatform) -> XMetricsReader:
    return XMetricsReader(platform.client(), api_base="https://api.x.com", now=lambda: NOW)


async def test_a_recent_post_is_read_with_its_public_and_non_public_metrics() -> None:
    x = FakePlatform().on("GET", "/2/tweets", httpx.Response(200, json={"data": [tweet("19")]}))

    found = await reader(x).read(ME, [target("x", "19", timedelta(days=2))])

    assert found["19"] == Reading(
        {"impressions": 1840, "reactions": 61, "comments": 9, "shares": 6, "clicks": 22},
        {"reach": "X does not report reach"},
    )
    (sent,) = x.requests
    assert sent.url.params["ids"] == "19"
    assert sent.url.params["tweet.fields"] == (
        "public_metrics,non_public_metrics,organic_metrics,created_at"
    )
    assert sent.headers["authorization"] == "Bearer tok-123"


async def test_posts_older_than_30_days_are_asked_for_public_metrics_only() -> None:
    x = FakePlatform().on(
        "GET", "/2/tweets", httpx.Response(200, json={"data": [tweet("7", private=False)]})
    )

    found = await reader(x).read(ME, [target("x", "7", timedelta(days=31))])

    assert x.requests[0].url.params["tweet.fields"] == "public_metrics,created_at"
    reading = found["7"]
    assert isinstance(reading, Reading)
    assert reading.unavailable["clicks"] == OLD_CLICKS
    assert reading.values["impressions"] == 1840


async def test_a_hundred_ids_go_in_one_request() -> None:
    ids = [str(1000 + i) for i in range(150)]
    x = FakePlatform().on(
        "GET",
        "/2/tweets",
        lambda request: httpx.Response(
            200, json={"data": [tweet(i) for i in request.url.params["ids"].split(",")]}
        ),
    )

    found = await reader(x).read(ME, [target("x", i, timedelta(hours=3)) for i in ids])

    assert [len(r.url.params["ids"].split(",")) for r in x.requests] == [100, 50]
    assert set(found) == set(ids)


async def test_a_deleted_post_is_gone_and_a_refused_field_says_so() -> None:
    body = {
        "data": [tweet("19", private=False)],
        "errors": [
            {
                "value": "20",
                "detail": "Could not find tweet with ids: [20].",
                "title": "Not Found Error",
                "resource_type": "tweet",
                "parameter": "ids",
                "resource_id": "20",
                "type": "https://api.x.com/2/problems/resource-not-found",
            },
            {
                "value": "19",
                "detail": (
                    "Sorry, you are not authorized to access 'non_public_metrics' on a Tweet."
                ),
                "title": "Field Authorization Error",
                "resource_type": "tweet",
                "field": "non_public_metrics",
                "section": "data",
                "resource_id": "19",
                "type": "https://api.x.com/2/problems/not-authorized-for-field",
            },
        ],
    }
    x = FakePlatform().on("GET", "/2/tweets", httpx.Response(200, json=body))

    found = await reader(x).read(
        ME, [target("x", "19", timedelta(hours=1)), target("x", "20", timedelta(hours=1))]
    )

    gone = found["20"]
    assert isinstance(gone, ReadError)
    assert gone.kind == "gone"
    assert not gone.retry
    refused = found["19"]
    assert isinstance(refused, Reading)
    assert "not authorize" in refused.unavailable["clicks"]


async def test_a_429_is_rate_limited_until_x_rate_limit_reset() -> None:
    reset = int(NOW.timestamp()) + 600
    x = FakePlatform().on(
        "GET",
        "/2/tweets",
        httpx.Response(
            429,
            json={"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429},
            headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)},
        ),
    )

    with pytest.raises(PlatformError) as raised:
        await reader(x).read(ME, [target("x", "19", timedelta(hours=1))])

    assert raised.value.kind is ErrorKind.RATE_LIMITED
    assert raised.value.retry_after == 600


async def test_a_revoked_token_is_an_auth_failure() -> None:
    x = FakePlatform().on(
        "GET", "/2/tweets", httpx.Response(401, json={"title": "Unauthorized", "status": 401})
    )

    with pytest.raises(PlatformError) as raised:
        await reader(x).read(ME, [target("x", "19", timedelta(hours=1))])

    assert raised.value.kind is ErrorKind.AUTH_REVOKED
