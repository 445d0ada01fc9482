"""Threads media insights against the documented answers (MockTransport): `GET /{version}/
{threads-media-id}/insights?metric=views,likes,replies,reposts,quotes,shares` on
graph.threads.net, https://developers.facebook.com/docs/threads/insights."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from herald.metrics.model import ReadError, Reading
from herald.metrics.readers import MetricsAccount
from herald.metrics.threads import ThreadsMetricsReader
from herald.platforms.base import ErrorKind, PlatformError
from tests.fakes.platform_http import FakePlatform
from tests.unit.metrics.helpers import account, target
from tests.unit.metrics.test_meta import graph_error

GRAPH = "https://graph.threads.net"
MEDIA = "18200000000000004"
PATH = f"/v1.0/{MEDIA}/insights"
USER = account(
    "threads",
    "25000000000000001",
    "threads_basic",
    "threads_content_publish",
    "threads_manage_insights",
)


def insights(values: dict[str, int]) -> httpx.Response:
    """The documented example's shape: one entry per metric, lifetime, its value in `values`."""
    data = [
        {
            "name": name,
            "period": "lifetime",
            "values": [{"value": value}],
            "title": name.capitalize(),
            "description": f"The number of {name} on your post.",
            "id": f"{MEDIA}/insights/{name}/lifetime",
        }
        for name, value in values.items()
    ]
    return httpx.Response(200, json={"data": data})


def reader(fake: FakePlatform) -> ThreadsMetricsReader:
    return ThreadsMetricsReader(fake.client(), graph_base=GRAPH, version="v1.0")


async def read(fake: FakePlatform, who: MetricsAccount = USER) -> Reading | ReadError:
    found = await reader(fake).read(who, [target("threads", MEDIA, timedelta(hours=5))])
    return found[MEDIA]


async def test_views_likes_replies_and_every_way_of_passing_it_on_are_read() -> None:
    fake = FakePlatform().on(
        "GET",
        PATH,
        insights(
            {"views": 1840, "likes": 61, "replies": 9, "reposts": 4, "quotes": 2, "shares": 3}
        ),
    )

    found = await read(fake)

    assert found == Reading(
        {"impressions": 1840, "reactions": 61, "comments": 9, "shares": 9},
        {
            "reach": "Threads reports no reach for a post",
            "clicks": "Threads reports clicks for a profile, not for a post",
        },
    )
    (asked,) = fake.requests
    assert asked.url.host == "graph.threads.net"
    assert asked.url.params["metric"] == "views,likes,replies,reposts,quotes,shares"
    assert asked.headers["authorization"] == "Bearer tok-123"
    assert "access_token" not in str(asked.url)


async def test_a_post_with_no_data_yet_says_so_instead_of_reading_zero() -> None:
    found = await read(FakePlatform().on("GET", PATH, insights({})))

    assert isinstance(found, Reading)
    assert found.values == {}
    assert found.unavailable["impressions"] == "Threads has no data for it yet"


async def test_a_refused_shares_metric_is_dropped_and_the_rest_read_again() -> None:
    fake = FakePlatform().on(
        "GET",
        PATH,
        graph_error(100, "(#100) metric[5] must be one of the following values: views, likes"),
        insights({"views": 500, "likes": 20, "replies": 3, "reposts": 1, "quotes": 1}),
    )

    found = await read(fake)

    assert isinstance(found, Reading)
    assert found.values["shares"] == 2
    assert fake.sent("GET", PATH)[1].url.params["metric"] == "views,likes,replies,reposts,quotes"


async def test_without_the_insights_permission_nothing_is_asked_and_reconnecting_is_the_fix() -> (
    None
):
    fake = FakePlatform()
    older = account("threads", "25000000000000001", "threads_basic", "threads_content_publish")

    found = await read(fake, older)

    assert isinstance(found, Reading)
    assert found.values == {}
    assert "reconnect the account" in found.unavailable["impressions"]
    assert fake.requests == []


async def test_a_permission_threads_refuses_is_that_posts_error() -> None:
    fake = FakePlatform().on(
        "GET", PATH, graph_error(10, "(#10) Application does not have permission", 403)
    )

    found = await read(fake)

    assert isinstance(found, ReadError)
    assert found.kind == "permission"
    assert found.retry is False


async def test_an_expired_token_stops_the_account() -> None:
    fake = FakePlatform().on("GET", PATH, graph_error(190, "Error validating access token"))

    with pytest.raises(PlatformError) as raised:
        await read(fake)

    assert raised.value.kind is ErrorKind.AUTH_REVOKED


async def test_a_rate_limit_stops_the_account_for_now() -> None:
    fake = FakePlatform().on("GET", PATH, graph_error(4, "Application request limit reached"))

    with pytest.raises(PlatformError) as raised:
        await read(fake)

    assert raised.value.kind is ErrorKind.RATE_LIMITED


async def test_a_deleted_post_is_gone() -> None:
    fake = FakePlatform().on(
        "GET", PATH, graph_error(100, f"Object with ID '{MEDIA}' does not exist", 400, 33)
    )

    found = await read(fake)

    assert isinstance(found, ReadError)
    assert found.kind == "gone"
